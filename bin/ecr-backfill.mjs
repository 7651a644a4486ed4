#!/usr/bin/env node
// `ecr-backfill`. Inside the repository (a clone, where the offline rig is installed beside the
// product as the private workspace `@ecr-backfill/local`) `npx ecr-backfill` runs the rig's program:
// every command, demo/local/emulator/bench included. npm runs a project's own bin for `npx <name>`
// before anything in node_modules/.bin, so this launcher is where that choice has to be made. The
// published package has no rig to find: it runs the product's AWS-mode commands, compiled
// JavaScript, with no TypeScript loader.

// On Node < 22 the AWS SDK prints a multi-line NodeVersionSupportWarning (process.emitWarning) on
// every run: its releases after the first week of January 2027 need Node 22. The SDK's announcement
// names this variable as the way to turn the warning off:
// https://github.com/aws/aws-sdk-js-v3/issues/7983
// The CLI sets it for itself only (a user's own value wins); the README says which Node versions are
// supported and until when. Node 20.19 works with the SDK versions this package pins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const RIG = '@ecr-backfill/local';

/** The rig's program when the rig is installed (a clone of the repository), else undefined. */
async function importRig() {
  try {
    return await import(`${RIG}/program`);
  } catch (error) {
    // Only the rig's own absence means "not a clone"; anything failing inside it must surface.
    if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(`'${RIG}'`))
      return undefined;
    throw error;
  }
}

if (!(await importRig())) {
  const { main } = await import('../dist/cli/main.js');
  await main(process.argv);
}
