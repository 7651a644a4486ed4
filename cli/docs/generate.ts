/** `npm run docs`: rewrites the generated reference files (see reference.ts). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { renderReferenceDocs } from './reference.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
for (const [path, content] of Object.entries(renderReferenceDocs())) {
  writeFileSync(join(root, path), content);
  process.stdout.write(`wrote ${path}\n`);
}
