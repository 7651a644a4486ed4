/**
 * The installed package's program (what `npx ecr-backfill` runs after `npm install ecr-backfill`):
 * `--version`, and the offline rig's commands, which only the source repository has, answered with
 * where they are instead of "unknown command".
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildInstalledProgram } from '../../cli/main.ts';
import { runCli } from './cli-harness.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('the installed program', () => {
  it.each(['--version', '-V'])('%s prints the version of package.json and exits 0', async (flag) => {
    const run = await runCli([flag], { program: buildInstalledProgram });

    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim()).toBe(version);
  });

  it("the repository's program prints the same version", async () => {
    const run = await runCli(['--version']);

    expect(run.stdout.trim()).toBe(version);
  });

  it.each(['demo', 'local', 'emulator', 'bench'])(
    '`%s` says it is in the source repository, with the commands to get it (exit 2)',
    async (command) => {
      const run = await runCli([command, '--tour', '--seed', '7'], { program: buildInstalledProgram });

      expect(run.exitCode).toBe(2);
      expect(run.stderr).not.toContain('unknown command');
      expect(run.stderr).toContain(`\`${command}\` is a command of the source repository's offline rig`);
      expect(run.stderr).toContain(`npm install && npx ecr-backfill ${command} --help`);
    },
  );

  it('--help lists the AWS-mode commands and says where the rig commands are', async () => {
    const run = await runCli(['--help'], { program: buildInstalledProgram });

    expect(run.stdout).toMatch(/^\s+plan\b/m);
    expect(run.stdout).not.toMatch(/^\s+(demo|local|emulator|bench)\b/m);
    expect(run.stdout).toContain(
      "The offline rig's commands (demo, local, emulator, bench) are in the source repository only",
    );
  });
});
