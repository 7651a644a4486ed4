import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeReplicationBackfillResultsCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import type { NativeBackfillRecord } from '../../core/native/native-run-files.ts';
import { startLocalS3, type LocalS3 } from '../../local/s3/index.ts';
import { runCli } from './cli-harness.ts';
import { EXECUTION_ARN, scriptExecution, type Frame } from './sfn-script.ts';

const BUCKET = 'run-bucket';
const RUN_ID = 'backfill-20260501-120000-abcdef12';
const PREFIX = `runs/${RUN_ID}`;
const SOURCE = { region: 'ap-south-1', registryId: '111122223333' };
const SEOUL = { region: 'ap-northeast-2', registryId: '111122223333' };
const DUBLIN = { region: 'eu-west-1', registryId: '111122223333' };
const QUEUED_SINCE = Date.UTC(2026, 4, 1, 12, 1, 0);

const REPORT_SUMMARY = {
  runId: RUN_ID,
  status: 'SUCCEEDED',
  counts: { NATIVE_BACKFILLED: 100 },
  failedItems: 0,
  reportJson: { bucket: BUCKET, key: `${PREFIX}/report.json` },
  reportCsv: { bucket: BUCKET, key: `${PREFIX}/report.csv` },
};

// What watch needs of FinalizePlan's output: where the run's files are.
const PLANNED_RUN = { runId: RUN_ID, bucket: BUCKET, runPrefix: PREFIX };

const NATIVE_PATH: Frame[] = [
  { status: 'RUNNING', stateName: 'Plan' },
  { status: 'RUNNING', stateName: 'NativeBackfills', nativeBackfills: { running: 2 } },
  { status: 'RUNNING', stateName: 'NativeBackfills', nativeBackfills: { running: 2 } },
  { status: 'RUNNING', stateName: 'NativeBackfills', nativeBackfills: { running: 1, succeeded: 1 } },
  { status: 'SUCCEEDED', nativeBackfills: { succeeded: 2 }, output: REPORT_SUMMARY },
];

let s3: LocalS3;
let sfn: ReturnType<typeof scriptExecution> | undefined;
let ecr: AwsClientStub<ECRClient>;

async function putRecord(name: string, record: NativeBackfillRecord): Promise<void> {
  await s3.client.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: `${PREFIX}/native/backfills/${name}.json`,
      Body: JSON.stringify(record),
    }),
  );
}

/** ECR's answers for backfill bf-seoul, one per DescribeReplicationBackfillResults call. */
function backfillAnswers(...answers: { status: string; completed?: number; failed?: number }[]): void {
  let call = 0;
  ecr.on(DescribeReplicationBackfillResultsCommand).callsFake(() => {
    const answer = answers[Math.min(call++, answers.length - 1)];
    return {
      replicationBackfillId: 'bf-seoul',
      destination: SEOUL,
      status: answer?.status,
      // While PREPARING, ECR has no counts yet: no progress at all.
      ...(answer?.completed !== undefined && {
        progress: {
          totalReplicationCount: 100,
          completedReplicationCount: answer.completed,
          failedReplicationCount: answer.failed ?? 0,
          failureCodes: [],
        },
      }),
      results: [],
    };
  });
}

const watch = (args: string[], tty = false) =>
  runCli(['watch', EXECUTION_ARN, ...args], {
    tty,
    context: {
      s3: () => s3.client,
      ecr: () => (target) =>
        new ECRClient({ region: target.region, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    },
  });

beforeAll(async () => {
  s3 = await startLocalS3({ buckets: [BUCKET] });
  // One destination with its backfill running, the other queued behind a backfill in its Region.
  await putRecord('111122223333-ap-northeast-2', {
    source: SOURCE,
    destination: SEOUL,
    backfillId: 'bf-seoul',
    adopted: false,
  });
  await putRecord('111122223333-eu-west-1', {
    source: SOURCE,
    destination: DUBLIN,
    adopted: false,
    queuedSince: QUEUED_SINCE,
  });
});
afterAll(async () => {
  await s3.close();
});
beforeEach(() => {
  ecr = mockClient(ECRClient);
});
afterEach(() => {
  sfn?.restore();
  sfn = undefined;
  ecr.restore();
});

describe('ecr-backfill watch, native engine', () => {
  it('shows the NativeBackfills map counts and each destination’s backfill when it changes (plain lines)', async () => {
    // Prepare
    sfn = scriptExecution(NATIVE_PATH, { plannedRun: PLANNED_RUN });
    backfillAnswers(
      { status: 'IN_PROGRESS', completed: 10 },
      { status: 'IN_PROGRESS', completed: 10 },
      { status: 'COMPLETE', completed: 98, failed: 2 },
    );

    // Act
    const run = await watch([]);

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout.split('\n').slice(0, 7)).toEqual([
      'Planning',
      'Native backfill: 0/2 NativeBackfills items, ok 0, running 2',
      '  NativeBackfills 111122223333/ap-northeast-2: IN_PROGRESS, 10/100 done',
      '  NativeBackfills 111122223333/eu-west-1: QUEUED, waiting for the destination Region since 2026-05-01T12:01:00.000Z',
      'Native backfill: 1/2 NativeBackfills items, ok 1, running 1',
      '  NativeBackfills 111122223333/ap-northeast-2: COMPLETE, 98/100 done, 2 failed',
      'SUCCEEDED: 2/2 NativeBackfills items, ok 2',
    ]);
    // One read per poll in the native branch (three polls), none once the execution ended.
    expect(ecr).toHaveReceivedCommandTimes(DescribeReplicationBackfillResultsCommand, 3);
    expect(ecr).toHaveReceivedCommandWith(DescribeReplicationBackfillResultsCommand, {
      registryId: SOURCE.registryId,
      replicationBackfillId: 'bf-seoul',
    });
  });

  it('prints the destinations above the progress bar on a TTY', async () => {
    // Prepare
    sfn = scriptExecution(NATIVE_PATH, { plannedRun: PLANNED_RUN });
    backfillAnswers({ status: 'PREPARING' }, { status: 'IN_PROGRESS', completed: 50 });

    // Act
    const run = await watch([], true);

    // Assess
    expect(run.exitCode).toBe(0);
    const frames = run.stdout.split('\r\u001b[2K').filter(Boolean);
    expect(frames).toContainEqual(
      expect.stringMatching(/^Native backfill \[░{30}\]\s+0% 0\/2 NativeBackfills items, ok 0, running 2$/),
    );
    // A note clears the bar's line, prints itself, then redraws the bar below it.
    expect(frames).toContainEqual(
      expect.stringMatching(
        /^ {2}NativeBackfills 111122223333\/ap-northeast-2: IN_PROGRESS, 50\/100 done\nNative backfill \[/,
      ),
    );
    expect(frames).toContainEqual(
      expect.stringMatching(/^ {2}NativeBackfills 111122223333\/ap-northeast-2: PREPARING, no counts yet\n/),
    );
    expect(frames).toContainEqual(
      expect.stringMatching(
        /^ {2}NativeBackfills 111122223333\/eu-west-1: QUEUED, waiting for the destination Region/,
      ),
    );
    expect(frames).toContainEqual(expect.stringMatching(/SUCCEEDED\s+\[█{30}\] 100%/));
  });

  it('puts the last native backfills seen in the --json output', async () => {
    // Prepare
    sfn = scriptExecution(NATIVE_PATH, { plannedRun: PLANNED_RUN });
    backfillAnswers({ status: 'IN_PROGRESS', completed: 40 });

    // Act
    const run = await watch(['--json']);

    // Assess
    expect(run.exitCode).toBe(0);
    const output = JSON.parse(run.stdout) as { nativeBackfills: unknown[] };
    expect(output.nativeBackfills).toEqual([
      {
        destination: '111122223333/ap-northeast-2',
        backfillId: 'bf-seoul',
        adopted: false,
        status: 'IN_PROGRESS',
        progress: { total: 100, completed: 40, failed: 0, failureCodes: [] },
      },
      { destination: '111122223333/eu-west-1', adopted: false, status: 'QUEUED', queuedSince: QUEUED_SINCE },
    ]);
    expect(run.stderr).toContain('  NativeBackfills 111122223333/ap-northeast-2: IN_PROGRESS, 40/100 done');
  });

  it('falls back to the map counts, saying so once, when the run bucket is not in the history', async () => {
    // Prepare: no FinalizePlan output in the history.
    sfn = scriptExecution(NATIVE_PATH);

    // Act
    const run = await watch([]);

    // Assess
    expect(run.exitCode).toBe(0);
    expect(
      run.stdout.match(/native backfills: the run bucket is not in the execution history/g),
    ).toHaveLength(1);
    expect(run.stdout).toContain('Native backfill: 1/2 NativeBackfills items, ok 1, running 1');
    expect(ecr).not.toHaveReceivedCommand(DescribeReplicationBackfillResultsCommand);
  });

  it('falls back to the map counts when ECR refuses to describe the backfill', async () => {
    // Prepare
    sfn = scriptExecution(NATIVE_PATH, { plannedRun: PLANNED_RUN });
    ecr
      .on(DescribeReplicationBackfillResultsCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));

    // Act
    const run = await watch([]);

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(
      '(native backfills: cannot read their progress, map counts only: not authorized)',
    );
    expect(ecr).toHaveReceivedCommandTimes(DescribeReplicationBackfillResultsCommand, 1);
    expect(run.stdout).toContain('SUCCEEDED: 2/2 NativeBackfills items, ok 2');
  });
});
