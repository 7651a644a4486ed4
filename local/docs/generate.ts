/**
 * `npm run docs`: rewrites the generated reference files (see local/docs/reference.ts). It lives in the
 * rig because docs/cli.md documents every command of the repository's program, the rig's included.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { renderReferenceDocs } from './reference.ts';
import { buildProgram } from '../cli/main.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
for (const [path, content] of Object.entries(renderReferenceDocs(buildProgram()))) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
  process.stdout.write(`wrote ${path}\n`);
}
