/**
 * The package boundary: the product (functions/, infra/, statemachine/, cli/) never imports the
 * offline rig (local/, the private @ecr-backfill/local workspace). ESLint's no-restricted-imports
 * says the same for static imports; this scan also covers dynamic imports, and runs in `npm test`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importSpecifiers } from './product-imports.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PRODUCT_DIRS = ['core', 'functions', 'infra', 'statemachine', 'cli'];
const RIG = join(ROOT, 'local');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The imports of `file` that reach into the rig. */
function rigImports(file: string, source: string): string[] {
  return importSpecifiers(source).filter((specifier) => {
    if (specifier.startsWith('@ecr-backfill/local')) return true;
    if (!specifier.startsWith('.')) return false;
    const target = resolve(dirname(file), specifier);
    return target === RIG || target.startsWith(`${RIG}/`);
  });
}

describe('the product never imports the offline rig', () => {
  const files = PRODUCT_DIRS.flatMap((dir) => sourceFiles(join(ROOT, dir)));

  it('scans every product source file, and finds their imports', () => {
    expect(files.length).toBeGreaterThan(100);
    const total = files.reduce((sum, file) => sum + importSpecifiers(readFileSync(file, 'utf8')).length, 0);
    expect(total).toBeGreaterThan(files.length);
  });

  it('no product file imports local/ or @ecr-backfill/local', () => {
    const violations = files.flatMap((file) =>
      rigImports(file, readFileSync(file, 'utf8')).map(
        (specifier) => `${relative(ROOT, file)} → ${specifier}`,
      ),
    );
    expect(violations).toEqual([]);
  });

  it('would catch static, dynamic and package imports of the rig (the check is not vacuous)', () => {
    const file = join(ROOT, 'cli', 'kit', 'example.ts');
    const source = [
      "import { startLocalS3 } from '../../local/s3/index.ts';",
      "const rig = await import('../../local/runner/run-backfill.ts');",
      "export { buildProgram } from '@ecr-backfill/local/cli/main.ts';",
      "import { plan } from '../../functions/plan/plan.ts';",
      "// import '../../local/polyfills.ts' in a comment does not count",
    ].join('\n');

    expect(rigImports(file, source)).toEqual([
      '../../local/s3/index.ts',
      '@ecr-backfill/local/cli/main.ts',
      '../../local/runner/run-backfill.ts',
    ]);
  });
});
