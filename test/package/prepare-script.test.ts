/**
 * `prepare` builds on `npm install`, `npm ci` and `npm pack`, but not when `npx`/`npm exec` installs
 * the repository into npm's cache to run its bin: there a build would take a minute on first use,
 * and an interrupted one would leave a half-written cache behind. npm names the command it runs in
 * `npm_command` (https://docs.npmjs.com/cli/v11/using-npm/scripts).
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

describe('the prepare script', () => {
  let bin: string;
  beforeAll(async () => {
    // A stand-in `npm` on PATH that records what it was asked to run.
    bin = await mkdtemp(join(tmpdir(), 'ecr-backfill-prepare-'));
    await writeFile(join(bin, 'npm'), `#!/bin/sh\necho "$@" >> "${join(bin, 'calls')}"\n`);
    await chmod(join(bin, 'npm'), 0o755);
  });
  afterAll(() => rm(bin, { recursive: true, force: true }));

  async function prepareUnder(npmCommand: string): Promise<string> {
    await rm(join(bin, 'calls'), { force: true });
    await promisify(execFile)('sh', ['-c', manifest.scripts.prepare ?? ''], {
      cwd: ROOT,
      env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, npm_command: npmCommand },
    });
    return readFile(join(bin, 'calls'), 'utf8').catch(() => '');
  }

  it.each(['install', 'ci', 'pack', 'publish'])('builds under npm %s', async (command) => {
    expect(await prepareUnder(command)).toBe('run build\n');
  });

  it('does not build under npm exec (npx)', async () => {
    expect(await prepareUnder('exec')).toBe('');
  });
});
