#!/usr/bin/env node
// The repository's `ecr-backfill`: the product's commands plus the offline rig's. The rig is never
// published, so it runs from its TypeScript sources through tsx's loader, with no build step between
// a fresh clone and `npm run demo`; it reaches the product through the product's package entry
// points, resolved to the product's sources (source-condition.mjs).
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

// The AWS SDK warns on every run that its releases after January 2027 need Node 22. Node 20.19 is
// supported today (the README says so and recommends 22); the warning would only clutter output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

registerHooks('./source-condition.mjs', import.meta.url);
register();
const { main } = await import('../cli/main.ts');
await main(process.argv);
