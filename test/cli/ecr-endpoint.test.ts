/**
 * `--ecr-endpoint`: checked at the edge (a URL with its scheme), and for `local`, reached before
 * the run so a stopped emulator is named as such rather than as a failed run to redrive.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli-harness.ts';

/** A port nothing listens on: one the OS gave out and was closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('--ecr-endpoint', () => {
  it.each([
    ['plan', '127.0.0.1:4599', 'http://127.0.0.1:4599'],
    ['local', 'localhost:4599', 'http://localhost:4599'],
    ['cleanup', 'ftp://127.0.0.1:4599', 'http://127.0.0.1:4599'],
  ])('%s refuses %s with the URL to give instead, before any call', async (command, value, suggestion) => {
    const run = await runCli([command, '--ecr-endpoint', value]);

    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain(
      `option '--ecr-endpoint <url>' argument '${value}' is invalid. expected an http:// or https:// URL, for example ${suggestion}.`,
    );
    expect(run.stderr).not.toContain('ERR_INVALID_URL');
  });

  it('local with the emulator stopped says it is not reachable and how to start it, never "redrive"', async () => {
    const port = await closedPort();
    const endpoint = `http://127.0.0.1:${port}`;

    const run = await runCli(['local', '--ecr-endpoint', endpoint, '--region', 'ap-south-1']);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(
      `The ECR endpoint ${endpoint} is not reachable (ECONNREFUSED): is the emulator running?`,
    );
    expect(run.stderr).toContain(`npx ecr-backfill emulator --port ${port}`);
    expect(run.stderr + run.stdout).not.toMatch(/redrive/i);
  }, 60_000);
});
