/**
 * The package's version, for `--version`. Read from the package's own package.json by its name
 * (the package exports `./package.json`), which resolves the same from the TypeScript sources in
 * the repository and from the compiled dist/ of an installed package:
 * https://nodejs.org/api/packages.html#self-referencing-a-package-using-its-name
 */
import { createRequire } from 'node:module';

export function packageVersion(): string {
  const manifest = createRequire(import.meta.url)('ecr-backfill/package.json') as { version: string };
  return manifest.version;
}
