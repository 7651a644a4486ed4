/**
 * The product's layers (docs/architecture.md §3): core ← functions, statemachine ← infra, cli.
 * ESLint's no-restricted-imports says the same file by file; this reads the whole graph, type
 * imports included, and also follows what the CLI loads at run time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importSpecifiers, moduleGraph } from './product-imports.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
type Layer = 'core' | 'functions' | 'statemachine' | 'infra' | 'cli';
const LAYERS: readonly Layer[] = ['core', 'functions', 'statemachine', 'infra', 'cli'];

/** What each layer may import besides itself. */
const MAY_IMPORT: Readonly<Record<Layer, readonly Layer[]>> = {
  core: [],
  functions: ['core'],
  statemachine: ['core'],
  infra: ['core', 'statemachine'],
  cli: ['core', 'functions'],
};
/** Packages a layer never imports (type imports included). */
const FORBIDDEN_PACKAGES: Readonly<Record<Layer, readonly RegExp[]>> = {
  core: [/^aws-cdk-lib/, /^constructs$/, /^@aws-lambda-powertools\//, /^aws-lambda$/],
  functions: [/^aws-cdk-lib/, /^constructs$/],
  statemachine: [],
  infra: [/^@aws-lambda-powertools\//],
  cli: [/^@aws-lambda-powertools\//, /^aws-lambda$/],
};
/** Step code the CLI never loads: the Lambda plumbing and the handler modules. */
const LAMBDA_PLUMBING = /^functions\/(lambda\/|.*\/handler\.ts$)/;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

const layerOf = (file: string): string => file.split('/')[0]!;

/** Every import edge of the product, `from → to` (a file, or a package name), type imports included. */
function productEdges(files: readonly string[]): { from: string; to: string }[] {
  return files.flatMap((from) =>
    importSpecifiers(readFileSync(join(ROOT, from), 'utf8')).map((specifier) => ({
      from,
      to: specifier.startsWith('.')
        ? relative(ROOT, resolve(dirname(join(ROOT, from)), specifier))
        : specifier,
    })),
  );
}

function layerViolations(edges: readonly { from: string; to: string }[]): string[] {
  return edges.flatMap(({ from, to }) => {
    const layer = layerOf(from) as Layer;
    if (!LAYERS.includes(layer)) return [];
    const relativeImport = to.includes('/') && LAYERS.includes(layerOf(to) as Layer);
    if (relativeImport) {
      const target = layerOf(to) as Layer;
      if (target !== layer && !MAY_IMPORT[layer].includes(target)) return [`${from} → ${to}`];
      if (layer === 'cli' && LAMBDA_PLUMBING.test(to)) return [`${from} → ${to}`];
      return [];
    }
    return FORBIDDEN_PACKAGES[layer].some((pattern) => pattern.test(to)) ? [`${from} → ${to}`] : [];
  });
}

/** The import circles among `files` (strongly connected groups of more than one file, or a self-import). */
function importCircles(edges: readonly { from: string; to: string }[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  // Tarjan's algorithm: each strongly connected component is one circle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const to of next.get(file) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(file, Math.min(low.get(file)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(file, Math.min(low.get(file)!, index.get(to)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || (next.get(file) ?? []).includes(file)) circles.push(component.sort());
  };
  for (const file of next.keys()) if (!index.has(file)) visit(file);
  return circles;
}

describe("the product's layers", () => {
  const files = LAYERS.flatMap(sourceFiles);
  const edges = productEdges(files);

  it('reads every layer and its imports', () => {
    for (const layer of LAYERS)
      expect(files.filter((file) => layerOf(file) === layer).length).toBeGreaterThan(3);
    expect(edges.length).toBeGreaterThan(files.length);
  });

  it('each layer imports only the layers below it, and none of the packages it must not use', () => {
    expect(layerViolations(edges)).toEqual([]);
  });

  it('has no import circle, type imports included', () => {
    expect(importCircles(edges)).toEqual([]);
  });

  it('would find a circle of two files and of three (the check is not vacuous)', () => {
    expect(
      importCircles([
        { from: 'cli/a', to: 'cli/b' },
        { from: 'cli/b', to: 'cli/a' },
        { from: 'cli/c', to: 'cli/d' },
        { from: 'cli/d', to: 'cli/e' },
        { from: 'cli/e', to: 'cli/c' },
        { from: 'cli/e', to: 'core/f' },
      ]),
    ).toEqual([
      ['cli/a', 'cli/b'],
      ['cli/c', 'cli/d', 'cli/e'],
    ]);
  });

  it('the CLI loads no Lambda plumbing, no handler module and no Powertools when it runs', () => {
    const graph = moduleGraph(join(ROOT, 'cli', 'main.ts'));
    expect(graph.files).toEqual(expect.arrayContaining(['cli/main.ts', 'functions/plan/plan.ts']));
    expect(graph.files.filter((file) => LAMBDA_PLUMBING.test(file))).toEqual([]);
    expect(graph.packages.filter(({ specifier }) => specifier.startsWith('@aws-lambda-powertools/'))).toEqual(
      [],
    );
  });

  it('would name an import that climbs or skips a layer (the check is not vacuous)', () => {
    expect(
      layerViolations([
        { from: 'core/contracts/contracts.ts', to: 'functions/plan/plan.ts' },
        { from: 'core/logger.ts', to: '@aws-lambda-powertools/logger' },
        { from: 'cli/commands/plan.ts', to: 'functions/lambda/handler-deps.ts' },
        { from: 'cli/commands/plan.ts', to: 'functions/plan/handler.ts' },
        { from: 'infra/backfill-construct.ts', to: 'functions/registry.ts' },
        { from: 'statemachine/definition.ts', to: 'infra/step-profiles.ts' },
        { from: 'cli/commands/plan.ts', to: 'functions/plan/plan.ts' },
        { from: 'infra/backfill-construct.ts', to: 'statemachine/definition.ts' },
      ]),
    ).toEqual([
      'core/contracts/contracts.ts → functions/plan/plan.ts',
      'core/logger.ts → @aws-lambda-powertools/logger',
      'cli/commands/plan.ts → functions/lambda/handler-deps.ts',
      'cli/commands/plan.ts → functions/plan/handler.ts',
      'infra/backfill-construct.ts → functions/registry.ts',
      'statemachine/definition.ts → infra/step-profiles.ts',
    ]);
  });
});
