/**
 * The CLI's own output is not cluttered by the AWS SDK's NodeVersionSupportWarning, which the SDK
 * prints on Node < 22 (https://github.com/aws/aws-sdk-js-v3/issues/7983); a user who sets the
 * SDK's variable to anything but "true" still sees it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VARIABLE = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
const nodeMajor = Number(process.versions.node.split('.')[0]);

/** `ecr-backfill plan` against a closed port: builds SDK clients, fails fast, exits non-zero. */
async function planAgainstNothing(env: NodeJS.ProcessEnv): Promise<string> {
  try {
    await promisify(execFile)(
      process.execPath,
      ['bin/ecr-backfill.mjs', 'plan', '--ecr-endpoint', 'http://127.0.0.1:9', '--region', 'ap-south-1'],
      { cwd: ROOT, env },
    );
  } catch (error) {
    return (error as { stderr: string }).stderr;
  }
  throw new Error('expected plan to fail: nothing listens on port 9');
}

describe('a quiet CLI', () => {
  it('prints no NodeVersionSupportWarning, unless the user asks for it', async () => {
    // Prepare
    const env = { ...process.env };
    delete env[VARIABLE];

    // Act
    const quiet = await planAgainstNothing(env);
    const asked = await planAgainstNothing({ ...env, [VARIABLE]: 'false' });

    // Assess
    expect(quiet).toContain('cannot reach http://127.0.0.1:9');
    expect(quiet).not.toContain('NodeVersionSupportWarning');
    // The control: on a Node the SDK warns about, the warning does reach stderr when asked for.
    if (nodeMajor < 22) expect(asked).toContain('NodeVersionSupportWarning');
    else expect(asked).not.toContain('NodeVersionSupportWarning');
  });
});
