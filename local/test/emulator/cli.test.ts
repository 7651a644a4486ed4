import { DescribeRepositoriesCommand } from '@aws-sdk/client-ecr';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ecrClientFor, type EmulatorSnapshot } from '../../ecr-emulator/index.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const FIXTURE = join(ROOT, 'test/fixtures/registry/example-registry.json');

function startCli(args: string[]): {
  child: ChildProcess;
  listening: Promise<string>;
  exit: Promise<number | null>;
  stderr: () => string;
} {
  const child = spawn(process.execPath, ['local/bin/ecr-backfill.mjs', 'emulator', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', () => reject(new Error(`emulator exited before listening:\n${stderr}`)));
  });
  // A test that expects a failure to start never awaits `listening`.
  listening.catch(() => undefined);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, listening, exit, stderr: () => stderr };
}

describe('ecr-backfill emulator (CLI)', () => {
  let running: ChildProcess | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    if (running && running.exitCode === null) running.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints the real port for --port 0, serves the SDK, and exits 0 on SIGTERM writing --state-out', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'ecr-emulator-cli-'));
    const stateOut = join(dir, 'state.json');
    const cli = startCli([
      '--port',
      '0',
      '--fixture',
      FIXTURE,
      '--state-out',
      stateOut,
      '--replication-latency-ms',
      '10',
    ]);
    running = cli.child;
    const endpoint = await cli.listening;
    const client = ecrClientFor(endpoint, 'ap-south-1');

    // Act
    const repositories = await client.send(new DescribeRepositoriesCommand({}));
    client.destroy();
    cli.child.kill('SIGTERM');
    const code = await cli.exit;

    // Assess
    expect(endpoint).not.toMatch(/:0$/);
    expect(repositories.repositories?.map((r) => r.repositoryName)).toEqual([
      'shop/api',
      'shop/charts',
      'shop/web',
      'tools/ci',
    ]);
    expect(code).toBe(0);
    const state = JSON.parse(await readFile(stateOut, 'utf8')) as EmulatorSnapshot;
    expect(state.registries.find((r) => r.region === 'ap-south-1')?.repositories).toHaveLength(4);
  });

  it('refuses invalid options with a clear message and exit code 1', async () => {
    // Act
    const cli = startCli(['--port', '0', '--fault-rate', '2', '--account', '12']);
    running = cli.child;
    const code = await cli.exit;

    // Assess
    expect(code).toBe(1);
    expect(cli.stderr()).toContain('--fault-rate must be between 0 and 1');
    expect(cli.stderr()).toContain('--account must be a 12-digit AWS account id');
  });

  it.each(['inf', 'Infinity'])('starts with --quota-scale %s: quotas off', async (scale) => {
    // Prepare
    const cli = startCli(['--port', '0', '--quota-scale', scale, '--fixture', FIXTURE]);
    running = cli.child;
    const endpoint = await cli.listening;
    const client = ecrClientFor(endpoint, 'ap-south-1');

    // Act: well past DescribeRepositories' default rate, all at once.
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, () => client.send(new DescribeRepositoriesCommand({}))),
    );
    client.destroy();

    // Assess
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
  });

  it('refuses a --quota-scale that is not > 0', async () => {
    const cli = startCli(['--port', '0', '--quota-scale', '0']);
    running = cli.child;
    expect(await cli.exit).toBe(1);
    expect(cli.stderr()).toContain('--quota-scale must be > 0');
  });
});
