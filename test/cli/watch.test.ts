import { afterEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { invalidInputMessage } from '../../core/errors/errors.ts';
import { runCli, fakeTime } from './cli-harness.ts';
import { EXECUTION_ARN, lambdaCause, scriptExecution, type Frame } from './sfn-script.ts';

const REPORT_SUMMARY = {
  runId: 'backfill-20260501-120000-abcdef12',
  status: 'SUCCEEDED',
  counts: { BACKFILLED: 95, ALREADY_PRESENT: 5 },
  failedItems: 0,
  reportJson: { bucket: 'run-bucket', key: 'runs/r/report.json' },
  reportCsv: { bucket: 'run-bucket', key: 'runs/r/report.csv' },
};

const HAPPY_PATH: Frame[] = [
  { status: 'RUNNING', stateName: 'Plan' },
  { status: 'RUNNING', stateName: 'BackfillImages', backfill: { pending: 100 } },
  { status: 'RUNNING', stateName: 'BackfillImages', backfill: { pending: 40, running: 20, succeeded: 40 } },
  { status: 'RUNNING', stateName: 'BackfillImages', backfill: { pending: 40, running: 20, succeeded: 40 } },
  { status: 'SUCCEEDED', backfill: { succeeded: 100 }, output: REPORT_SUMMARY },
];

let sfn: ReturnType<typeof scriptExecution> | undefined;
afterEach(() => {
  sfn?.restore();
  sfn = undefined;
});

describe('ecr-backfill watch', () => {
  it('prints one plain line per change (not per poll) with rate and ETA, and exits 0 on SUCCEEDED', async () => {
    // Prepare
    sfn = scriptExecution(HAPPY_PATH);

    // Act
    const run = await runCli(['watch', EXECUTION_ARN, '--interval', '5']);

    // Assess
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines.slice(0, 4)).toEqual([
      'Planning',
      'Backfilling: 0/100 BackfillImages items, ok 0',
      'Backfilling: 40/100 BackfillImages items, ok 40, running 20 (8.00/s, ETA 8s)',
      'SUCCEEDED: 100/100 BackfillImages items, ok 100',
    ]);
    expect(run.stdout).not.toContain('\r');
    expect(run.stdout).toContain('Execution SUCCEEDED after 12m 34s.');
    expect(run.stdout).toMatch(/BACKFILLED\s+95/);
    expect(run.stdout).toContain('s3://run-bucket/runs/r/report.json');
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 5);
  });

  it('draws a progress bar redrawn in place on a TTY', async () => {
    // Prepare
    sfn = scriptExecution(HAPPY_PATH);

    // Act
    const run = await runCli(['watch', EXECUTION_ARN], { tty: true });

    // Assess
    expect(run.exitCode).toBe(0);
    const frames = run.stdout.split('\r\u001b[2K').filter(Boolean);
    expect(frames[0]).toMatch(/^Planning/);
    expect(frames).toContainEqual(
      expect.stringMatching(/Backfilling\s+\[█{12}░{18}\]\s+40% 40\/100 BackfillImages items/),
    );
    expect(frames.join('')).toContain('| 8.00/s, ETA 8s');
    expect(frames).toContainEqual(expect.stringMatching(/SUCCEEDED\s+\[█{30}\] 100%/));
    // A poll that changes nothing on the line does not redraw it.
    const repeats = frames.filter((frame, index) => index > 0 && frame === frames[index - 1]);
    expect(repeats).toEqual([]);
    expect(run.stdout.endsWith('\n')).toBe(true);
  });

  it('reports failed batches as they happen and exits 3 with the failure explained', async () => {
    // Prepare
    const failed = {
      name: 'batch-7',
      error: 'ItemsFailed',
      cause: lambdaCause('ItemsFailed', '2 item(s) failed: team/api@sha256:aa → REPLICATION_FAILED'),
    };
    sfn = scriptExecution([
      {
        status: 'RUNNING',
        stateName: 'BackfillImages',
        backfill: { running: 20, succeeded: 60, total: 100 },
      },
      {
        status: 'RUNNING',
        stateName: 'BackfillImages',
        backfill: { running: 10, succeeded: 70, failed: 20 },
        failedChildren: [failed],
      },
      {
        status: 'FAILED',
        backfill: { succeeded: 80, failed: 20 },
        failedChildren: [failed],
        error: 'States.ExceedToleratedFailureThreshold',
        cause: 'The specified tolerated failure threshold was exceeded',
      },
    ]);

    // Act
    const run = await runCli(['watch', EXECUTION_ARN]);

    // Assess
    expect(run.exitCode).toBe(3);
    expect(run.stdout).toContain(
      '✗ BackfillImages batch batch-7 failed: ItemsFailed — 2 item(s) failed: team/api@sha256:aa → REPLICATION_FAILED',
    );
    expect(run.stdout.match(/batch-7 failed/g)).toHaveLength(1);
    expect(run.stdout).toContain('Error: States.ExceedToleratedFailureThreshold');
    expect(run.stdout).toContain(`ecr-backfill redrive ${EXECUTION_ARN}`);
    expect(run.stdout).toContain(`ecr-backfill report ${EXECUTION_ARN}`);
  });

  it('lists each problem of an InvalidInput failure on its own line', async () => {
    // Prepare
    sfn = scriptExecution([
      {
        status: 'FAILED',
        error: 'InvalidInput',
        cause: lambdaCause(
          'InvalidInput',
          invalidInputMessage([
            'batchSize: must be ≤ 100 (got 500)',
            'destinations[0]: not in the replication configuration',
          ]),
        ),
      },
    ]);

    // Act
    const run = await runCli(['watch', EXECUTION_ARN]);

    // Assess
    expect(run.exitCode).toBe(3);
    expect(run.stdout).toContain(
      [
        'Error: InvalidInput',
        'The input has these problems:',
        '  - batchSize: must be ≤ 100 (got 500)',
        '  - destinations[0]: not in the replication configuration',
      ].join('\n'),
    );
    expect(run.stdout).toContain('start a new execution; nothing was written');
    expect(run.stdout).toContain('a redrive cannot fix this');
    expect(run.stdout).not.toContain(`ecr-backfill redrive ${EXECUTION_ARN}`);
  });

  it.each([
    ['TIMED_OUT', 4],
    ['ABORTED', 5],
  ] as const)('exits %s with code %i', async (status, code) => {
    sfn = scriptExecution([{ status, error: 'States.Timeout' }]);

    const run = await runCli(['watch', EXECUTION_ARN]);

    expect(run.exitCode).toBe(code);
    expect(run.stdout).toContain(`Execution ${status}`);
  });

  it('shows the planning map while planning and phases from the current state', async () => {
    sfn = scriptExecution([
      { status: 'RUNNING', stateName: 'PlanSlices', planSlices: { running: 3, succeeded: 1, total: 4 } },
      { status: 'RUNNING', stateName: 'FinalizePlan', planSlices: { succeeded: 4 } },
      {
        status: 'RUNNING',
        stateName: 'Summarize',
        planSlices: { succeeded: 4 },
        backfill: { succeeded: 10 },
      },
      { status: 'SUCCEEDED', backfill: { succeeded: 10 }, output: REPORT_SUMMARY },
    ]);

    const run = await runCli(['watch', EXECUTION_ARN]);

    expect(run.stdout.split('\n').slice(0, 3)).toEqual([
      'Planning: 1/4 PlanSlices items, ok 1, running 3',
      'Planning: 4/4 PlanSlices items, ok 4',
      'Summarizing: 10/10 BackfillImages items, ok 10',
    ]);
  });

  it('prints one JSON document on stdout with --json and progress on stderr', async () => {
    sfn = scriptExecution(HAPPY_PATH);

    const run = await runCli(['watch', EXECUTION_ARN, '--json']);

    expect(run.exitCode).toBe(0);
    const parsed = JSON.parse(run.stdout) as {
      status: string;
      report: { counts: Record<string, number> };
      backfillItems: { succeeded: number };
    };
    expect(parsed.status).toBe('SUCCEEDED');
    expect(parsed.report.counts.BACKFILLED).toBe(95);
    expect(parsed.backfillItems.succeeded).toBe(100);
    expect(run.stderr).toContain('Backfilling: 40/100');
  });

  it('sleeps the requested interval between polls', async () => {
    sfn = scriptExecution(HAPPY_PATH);
    const time = fakeTime();

    await runCli(['watch', EXECUTION_ARN, '--interval', '2'], { time });

    expect(time.sleeps).toEqual([2000, 2000, 2000, 2000]);
  });

  it('refuses something that is not an execution ARN without calling AWS', async () => {
    sfn = scriptExecution(HAPPY_PATH);

    const run = await runCli(['watch', 'not-an-arn']);

    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('"not-an-arn" is not a Step Functions execution ARN.');
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('explains an execution that does not exist', async () => {
    sfn = scriptExecution([]);
    const notFound = Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' });
    sfn.on(DescribeExecutionCommand).rejects(notFound);

    const run = await runCli(['watch', EXECUTION_ARN]);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('Watching the execution: no such execution.');
    expect(run.stderr).toContain('Check the ARN');
  });

  it('on Ctrl-C says the execution goes on and how to resume, and unhooks itself when done', async () => {
    // Prepare
    sfn = scriptExecution(HAPPY_PATH);
    const handlers: (() => void)[] = [];
    let unhooked = false;
    const stderr: string[] = [];

    // Act
    const run = await runCli(['watch', EXECUTION_ARN], {
      context: {
        onInterrupt: (handler) => {
          handlers.push(handler);
          return () => {
            unhooked = true;
          };
        },
        stderr: { write: (text: string) => stderr.push(text) },
      },
    });
    handlers[0]?.();

    // Assess
    expect(run.exitCode).toBe(0);
    expect(unhooked).toBe(true);
    expect(stderr.join('')).toBe(
      `Stopped watching; the execution goes on. Resume with: ecr-backfill watch ${EXECUTION_ARN}\n`,
    );
  });
});
