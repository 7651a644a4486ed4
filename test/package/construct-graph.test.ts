/**
 * The construct stays light: importing `ecr-backfill` in a CDK app loads CDK, constructs, zod and
 * the contracts, never the Lambda steps' code or what they bundle (the AWS SDK, Powertools). The
 * steps ship as ready assets (infra/lambda-assets.ts); loading their modules at synth would only
 * cost the consumer time and tie their app to the SDK.
 *
 * The graph is the one the compiled package loads: each source file is transpiled with the
 * build's module settings (tsconfig.build.json: type-only imports vanish, `import { type X }`
 * stays a load), and every relative import is followed from the package entry, infra/index.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LAMBDA_STEPS } from '../../core/steps.ts';
import { moduleGraph, runtimeImports, type ModuleGraph } from './product-imports.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FORBIDDEN_PACKAGES = [/^@aws-sdk\//, /^@aws-lambda-powertools\//, /^aws-lambda$/];
const STEP_FOLDERS = Object.values(LAMBDA_STEPS).map((folder) => join(ROOT, 'functions', folder));

/** What in the graph a consumer's synth must not load, each named with the file that loads it. */
function heavyImports(graph: ModuleGraph): string[] {
  const sdk = graph.packages
    .filter(({ specifier }) => FORBIDDEN_PACKAGES.some((pattern) => pattern.test(specifier)))
    .map(({ importer, specifier }) => `${importer} → ${specifier}`);
  const steps = graph.files
    .filter((file) => STEP_FOLDERS.some((folder) => join(ROOT, file).startsWith(`${folder}/`)))
    .map((file) => `step code: ${file}`);
  return [...sdk, ...steps];
}

describe("the construct's module graph", () => {
  const entry = join(ROOT, 'infra', 'index.ts');

  it('is read from the package entry through infra, statemachine and the contracts', () => {
    const graph = moduleGraph(entry);
    expect(existsSync(entry)).toBe(true);
    expect(graph.files).toEqual(
      expect.arrayContaining([
        'infra/backfill-construct.ts',
        'statemachine/definition.ts',
        'core/contracts/contracts.ts',
      ]),
    );
    expect(graph.packages.map(({ specifier }) => specifier)).toEqual(
      expect.arrayContaining(['aws-cdk-lib', 'constructs']),
    );
  });

  it('loads neither the AWS SDK, Powertools nor any Lambda step module', () => {
    expect(heavyImports(moduleGraph(entry))).toEqual([]);
  });

  it('would name a step module and the SDK it loads (the check is not vacuous)', () => {
    const handler = join(ROOT, 'functions', 'native-engine', 'native-stop-backfill', 'handler.ts');
    const found = heavyImports(moduleGraph(handler));
    expect(found).toContain('step code: functions/native-engine/native-stop-backfill/handler.ts');
    expect(found.some((line) => line.endsWith('→ @aws-sdk/client-ecr'))).toBe(true);
    expect(found.some((line) => line.endsWith('→ @aws-lambda-powertools/logger'))).toBe(true);
  });

  it('counts what the compiled module loads: type-only imports vanish, inline type imports still load', () => {
    const source = [
      "import type { ECRClient } from '@aws-sdk/client-ecr';",
      "import { type Logger } from '@aws-lambda-powertools/logger';",
      "import { Duration } from 'aws-cdk-lib';",
      "export type { Context } from 'aws-lambda';",
      'export const ttl = Duration.days(1);',
    ].join('\n');
    expect(runtimeImports(source).sort()).toEqual(['@aws-lambda-powertools/logger', 'aws-cdk-lib']);
  });
});
