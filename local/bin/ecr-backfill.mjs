#!/usr/bin/env node
// The repository's `ecr-backfill`: the product's commands plus the offline rig's. The rig is never
// published, so it runs from its TypeScript sources through tsx's loader, with no build step between
// a fresh clone and `npm run demo`; it reaches the product through the product's package entry
// points, resolved to the product's sources (source-condition.mjs).
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

// On Node < 22 the AWS SDK prints a multi-line NodeVersionSupportWarning (process.emitWarning) on
// every run: its releases after the first week of January 2027 need Node 22. The SDK's announcement
// names this variable as the way to turn the warning off:
// https://github.com/aws/aws-sdk-js-v3/issues/7983
// The CLI sets it for itself only (a user's own value wins); the README says which Node versions are
// supported and until when. Node 20.19 works with the SDK versions this package pins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

registerHooks('./source-condition.mjs', import.meta.url);
register();
const { main } = await import('../cli/main.ts');
await main(process.argv);
