#!/usr/bin/env node
// `ecr-backfill`. Inside the repository (a clone, where the offline rig sits beside the product)
// `npx ecr-backfill` runs the repository's program: every command, demo/local/emulator/bench
// included. npm runs a project's own bin for `npx <name>` before anything in node_modules/.bin, so
// this launcher is where that choice has to be made. The published package ships no rig and runs
// the product's AWS-mode commands alone.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const rig = new URL('../local/bin/ecr-backfill.mjs', import.meta.url);
if (existsSync(fileURLToPath(rig))) {
  await import(rig.href);
} else {
  const { register } = await import('tsx/esm/api');
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  register();
  const { main } = await import('../cli/main.ts');
  await main(process.argv);
}
