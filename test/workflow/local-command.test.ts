/** `ecr-backfill local` and `demo`, driven in-process: the embedded emulator and the demo registry. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/cli-harness.ts';

// The CLI measures elapsed time with the context clock: a real one here.
const realTime = () => ({
  now: Date.now(),
  clock: { now: () => Date.now() },
  sleeps: [] as number[],
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
});

describe('ecr-backfill local', () => {
  it('runs the workflow on the demo registry and prints one JSON document with --json', async () => {
    // Act
    const run = await runCli(['local', '--json', '--input', '{"batchSize":4,"method":"repush"}'], {
      time: realTime(),
    });

    // Assess
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const result = JSON.parse(run.stdout) as {
      status: string;
      transitions: number;
      invocations: Record<string, number>;
      report: { summary: { counts: Record<string, number> }; rows: unknown[] };
      ecrCalls: number;
    };
    expect(result.status).toBe('SUCCEEDED');
    expect(result.report.summary.counts.BACKFILLED).toBeGreaterThan(0);
    expect(result.report.rows.length).toBeGreaterThan(0);
    expect(result.invocations.PushTempTags).toBe(2);
    expect(result.ecrCalls).toBeGreaterThan(0);
  });

  it('draws a progress bar on a terminal, then the report table, and exits 3 when the run fails', async () => {
    // Act
    const ok = await runCli(['demo'], { tty: true, time: realTime() });
    const failed = await runCli(['local', '--input', '{"batchSize":0}'], { time: realTime() });

    // Assess
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain('\r\u001b[2K');
    expect(ok.stdout).toMatch(/BackfillImages.*\[█+\] 100%/);
    expect(ok.stdout).toMatch(/Outcome\s+Count/);
    expect(ok.stdout).toContain('Engine: repush (method repush requested)');
    expect(ok.stdout).toMatch(/shop\/api\s+v1\.5\.1\s+222222222222\/eu-west-1\s+BACKFILLED/);
    expect(failed.exitCode).toBe(3);
    expect(failed.stdout).toMatch(/FAILED/);
    expect(failed.stdout).toMatch(/failed in Plan: InvalidInput/);
  });
});
