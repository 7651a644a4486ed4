#!/usr/bin/env node
// `ecr-backfill`. Inside the repository (a clone, where the offline rig is installed beside the
// product as the private workspace `@ecr-backfill/local`) `npx ecr-backfill` runs the rig's program:
// every command, demo/local/emulator/bench included. npm runs a project's own bin for `npx <name>`
// before anything in node_modules/.bin, so this launcher is where that choice has to be made. The
// published package has no rig to find: it runs the product's AWS-mode commands, compiled
// JavaScript, with no TypeScript loader.

// The AWS SDK warns on every run that its releases after January 2027 need Node 22. Node 20.19 is
// supported today (the README says so and recommends 22); the warning would only clutter output.
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
