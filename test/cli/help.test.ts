import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DEMO_INPUT } from '../../local/cli/commands/demo.ts';
import { runCli } from './cli-harness.ts';

const AWS_COMMANDS = ['plan', 'start', 'watch', 'redrive', 'report', 'cleanup'];

describe('ecr-backfill --help', () => {
  it('the installed entry point starts and lists the AWS-mode commands (smoke test of a real process)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['bin/ecr-backfill.mjs', '--help'], {
      cwd: new URL('../..', import.meta.url).pathname,
      timeout: 30_000,
    });

    for (const command of AWS_COMMANDS) expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  });

  it.each(AWS_COMMANDS)('%s --help documents its options and exits 0', async (command) => {
    const run = await runCli([command, '--help']);

    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`Usage: ecr-backfill ${command}`);
    expect(run.stdout).toContain('--profile <name>');
    expect(run.stdout).toContain('--region <region>');
  });

  it.each([...AWS_COMMANDS, 'local', 'demo'])(
    '%s takes --region for the source Region (one flag name everywhere)',
    async (command) => {
      const run = await runCli([command, '--help']);

      expect(run.exitCode).toBe(0);
      expect(run.stdout).toMatch(/--region <region>/);
      expect(run.stdout).not.toContain('--source-region');
    },
  );

  it.each(['local', 'demo'])(
    '%s still parses the hidden --source-region alias, and refuses a contradiction',
    async (command) => {
      const run = await runCli([command, '--source-region', 'ap-south-1', '--region', 'eu-west-1']);

      expect(run.exitCode).toBe(2);
      expect(run.stderr).toContain('--region eu-west-1 and --source-region ap-south-1 disagree.');
    },
  );

  it.each([
    ['demo', JSON.stringify(DEMO_INPUT)],
    ['local', '{}'],
  ])('%s --help names the input it uses without --input', async (command, input) => {
    const run = await runCli([command, '--help']);

    expect(run.stdout.replace(/\s+/g, ' ')).toContain(`(default: ${input})`);
  });

  it('emulator --help says clients need keys, and that any keys do', async () => {
    const run = await runCli(['emulator', '--help']);

    expect(run.stdout.replace(/\s+/g, ' ')).toContain(
      'AWS_ENDPOINT_URL_ECR=http://127.0.0.1:<port>, with any keys (clients sign every request; the emulator accepts any): AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x.',
    );
  });

  it('start --help mirrors every input field as a flag', async () => {
    const run = await runCli(['start', '--help']);

    for (const flag of [
      '--destination <dest>',
      '--repository <pattern>',
      '--tag <pattern>',
      '--exclude-tag <pattern>',
      '--pushed-after <date>',
      '--latest <n>',
      '--include-untagged',
      '--include-archived',
      '--strategy <strategy>',
      '--method <method>',
      '--dry-run',
      '--max-concurrency <n>',
      '--batch-size <n>',
      '--tolerated-failure-percentage <p>',
      '--replication-timeout-minutes <n>',
      '--replication-wait-seconds <n>',
      '--temp-tag-prefix <prefix>',
      '--overwrite-conflicts',
      '--plan-slice-size <n>',
      '--input <json|@file>',
      '--name <execution-name>',
      '--watch',
    ]) {
      expect(run.stdout).toContain(flag);
    }
    expect(run.stdout).toContain('Exit codes: 0 the execution succeeded; 3 it failed');
  });

  it('an unknown option is a usage error with a non-zero exit code', async () => {
    const run = await runCli(['watch', '--bogus']);

    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain("unknown option '--bogus'");
  });

  it('a non-numeric number flag is refused by the parser', async () => {
    const run = await runCli(['start', '--batch-size', 'many']);

    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain("option '--batch-size <n>' argument 'many' is invalid. expected a number.");
  });
});

describe('selection flags', () => {
  const optionsOf = (help: string): string[] =>
    [...help.matchAll(/^ {2}(--[a-z-]+)/gm)].map((match) => match[1] as string);

  it.each(['local', 'demo'])(
    '%s takes every selection flag plan takes (--repository, --tag, …)',
    async (command) => {
      const plan = optionsOf((await runCli(['plan', '--help'])).stdout);
      const local = optionsOf((await runCli([command, '--help'])).stdout);
      const selection = ['--destination', '--repository', '--tag', '--exclude-tag', '--latest', '--input'];

      for (const flag of selection) expect(plan).toContain(flag);
      for (const flag of selection) expect(local).toContain(flag);
    },
  );
});
