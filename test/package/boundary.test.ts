/**
 * The package boundary, both ways: the product (core/, functions/, infra/, statemachine/, cli/)
 * never imports the offline rig (local/, the private @ecr-backfill/local workspace), and the rig
 * reaches the product only by its package name (`ecr-backfill`, `ecr-backfill/core`, …), never by a
 * path into a product folder. ESLint's no-restricted-imports says the first for static imports; this
 * scan covers both, dynamic imports included (the rig has a cli/ of its own, so only a resolved path
 * tells a rig import from a product one), and runs in `npm test`.
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

/** The imports of a rig file that reach into a product folder by path instead of by package name. */
function productPathImports(file: string, source: string): string[] {
  return importSpecifiers(source).filter((specifier) => {
    if (!specifier.startsWith('.')) return false;
    const target = resolve(dirname(file), specifier);
    return PRODUCT_DIRS.some((dir) => target === join(ROOT, dir) || target.startsWith(`${join(ROOT, dir)}/`));
  });
}

describe('the rig uses the product through its package only', () => {
  const files = sourceFiles(RIG);

  it('scans the rig, its tests included', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.some((file) => file.includes('/local/test/'))).toBe(true);
  });

  it('no rig file imports a product folder by a relative path', () => {
    const violations = files.flatMap((file) =>
      productPathImports(file, readFileSync(file, 'utf8')).map(
        (specifier) => `${relative(ROOT, file)} → ${specifier}`,
      ),
    );
    expect(violations).toEqual([]);
  });

  it('would catch a relative import into the product, and let package imports through', () => {
    const file = join(RIG, 'runner', 'example.ts');
    const source = [
      "import { plan } from '../../functions/plan/plan.ts';",
      "import { STATE_NAMES } from 'ecr-backfill/core';",
      "import { startLocalS3 } from '../s3/index.ts';",
    ].join('\n');
    expect(productPathImports(file, source)).toEqual(['../../functions/plan/plan.ts']);
  });
});
