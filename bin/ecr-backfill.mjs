#!/usr/bin/env node
// `ecr-backfill`. Inside the repository (a clone, where the offline rig sits beside the product)
// `npx ecr-backfill` runs the repository's program: every command, demo/local/emulator/bench
// included. npm runs a project's own bin for `npx <name>` before anything in node_modules/.bin, so
// this launcher is where that choice has to be made. The published package ships no rig: it runs
// the product's AWS-mode commands, compiled JavaScript, with no TypeScript loader.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The AWS SDK warns on every run that its releases after January 2027 need Node 22. Node 20.19 is
// supported today (the README says so and recommends 22); the warning would only clutter output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const rig = new URL('../local/bin/ecr-backfill.mjs', import.meta.url);
if (existsSync(fileURLToPath(rig))) {
  await import(rig.href);
} else {
  const { main } = await import('../dist/cli/main.js');
  await main(process.argv);
}
