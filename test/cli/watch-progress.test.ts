/**
 * `ecr-backfill watch` in AWS mode reads the batches' progress records from the run bucket (a real
 * local S3 here): tags delivered per destination move before any child execution ends, and an
 * item's failure is shown as soon as a step records it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { batchProgressOf } from '../../core/run-files/batch-progress.ts';
import type { ItemResult, PlannedRun, WorkItem } from '../../core/contracts/contracts.ts';
import { runKeys } from '../../core/run-files/run-layout.ts';
import { putJson } from '../../core/run-files/run-store.ts';
import { S3RunStore } from '../../core/run-files/s3-run-store.ts';
import { startLocalS3, type LocalS3 } from '../../local/s3/index.ts';
import { runConfig } from '../support/run-config.ts';
import { fakeTime, runCli } from './cli-harness.ts';
import { EXECUTION_ARN, scriptExecution } from './sfn-script.ts';

const BUCKET = 'run-bucket';
const RUN_ID = 'backfill-20260501-120000-abcdef12';
const PREFIX = `runs/${RUN_ID}`;
const SEOUL = { region: 'ap-northeast-2', registryId: '111122223333' };

const item = (name: string, digest: string, tags: string[]): WorkItem => ({
  repositoryName: name,
  imageDigest: `sha256:${digest.repeat(64)}`,
  imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
  tags,
  destinations: [{ ...SEOUL, tags, digestPresent: false }],
});
const apiItem = item('team/api', 'a', ['v1', 'latest']);
const webItem = item('team/web', 'b', ['v2']);

const plannedRun: PlannedRun = {
  runId: RUN_ID,
  bucket: BUCKET,
  runPrefix: PREFIX,
  config: runConfig({
    sourceRegistryId: '111122223333',
    destinations: [SEOUL],
    method: 'repush',
    batchSize: 1,
  }),
  slices: { key: `${PREFIX}/slices.jsonl`, count: 1 },
  notCoveredRepositories: 0,
  items: { key: `${PREFIX}/items.jsonl`, count: 2 },
  plan: {
    items: 2,
    tags: 3,
    counts: { MISSING: 3 },
    putImageCalls: { 'ap-south-1': 2, 'ap-northeast-2': 3 },
    quotaBoundSeconds: 3600,
    estimatedCostUsd: 0.01,
    engine: { method: 'repush', reason: 'method repush requested' },
  },
};

const result = (of: WorkItem, replication: 'COMPLETE' | 'FAILED', outcome: string): ItemResult =>
  ({
    repositoryName: of.repositoryName,
    imageDigest: of.imageDigest,
    tempTag: `ecr-backfill-0123456789ab-${of.imageDigest.slice(7)}`,
    destinations: [
      {
        ...SEOUL,
        replication,
        ...(replication === 'FAILED' ? { failureCode: 'KMS_ACCESS_DENIED' } : {}),
        tags: Object.fromEntries(of.tags.map((tag) => [tag, outcome])),
      },
    ],
  }) as ItemResult;

let s3: LocalS3;
let sfn: ReturnType<typeof scriptExecution> | undefined;
beforeAll(async () => {
  s3 = await startLocalS3({ buckets: [BUCKET] });
  await putJson(new S3RunStore(s3.client), BUCKET, runKeys(PREFIX).plan, plannedRun);
  const lines = `${[apiItem, webItem].map((i) => JSON.stringify(i)).join('\n')}\n`;
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: plannedRun.items.key, Body: lines }));
});
afterAll(async () => {
  await s3.close();
});
afterEach(() => {
  sfn?.restore();
  sfn = undefined;
});

const record = (items: WorkItem[], step: string, results?: ItemResult[]) => {
  const progress = batchProgressOf(step, 'verifying', items, results, Date.now());
  return putJson(
    new S3RunStore(s3.client),
    BUCKET,
    runKeys(PREFIX).batchProgress(progress.batchId),
    progress,
  );
};

describe('ecr-backfill watch: batch progress', () => {
  it('shows tags delivered per destination before any batch ends, with failures as they are recorded', async () => {
    // Prepare: two batches running throughout; between polls, the steps record their progress.
    sfn = scriptExecution(
      [
        { status: 'RUNNING', stateName: 'BackfillImages', backfill: { running: 2 } },
        { status: 'RUNNING', stateName: 'BackfillImages', backfill: { running: 2 } },
        { status: 'RUNNING', stateName: 'BackfillImages', backfill: { running: 2 } },
        {
          status: 'FAILED',
          error: 'States.ExceedToleratedFailureThreshold',
          backfill: { succeeded: 1, failed: 1 },
        },
      ],
      { plannedRun },
    );
    const time = fakeTime();
    const steps = [
      () => record([apiItem], 'PushTempTags'),
      () => record([apiItem], 'PromoteTags', [result(apiItem, 'COMPLETE', 'BACKFILLED')]),
      () => record([webItem], 'CheckReplication', [result(webItem, 'FAILED', 'REPLICATION_FAILED')]),
    ];
    const sleep = async (ms: number) => {
      await steps.shift()?.();
      await time.sleep(ms);
    };

    // Act
    const run = await runCli(['watch', EXECUTION_ARN], {
      time: { ...time, sleep },
      context: { s3: () => s3.client },
    });

    // Assess
    expect(run.exitCode).toBe(3);
    const lines = run.stdout.split('\n');
    const delivered = lines.findIndex((line) => line.includes('111122223333/ap-northeast-2 2/3 tags'));
    const failure = lines.findIndex((line) =>
      line.includes('✗ team/web:v2 → 111122223333/ap-northeast-2: REPLICATION_FAILED (KMS_ACCESS_DENIED)'),
    );
    expect(run.stdout).toContain('111122223333/ap-northeast-2 0/3 tags, 0/2 images');
    expect(delivered).toBeGreaterThan(0);
    // 1 of 2 images arrived + 2 of 3 tags settled = 3 of 5 units of work.
    expect(lines[delivered]).toMatch(/Backfilling: 60% \(verifying\)/);
    // The ETA is anchored on the plan's quota bound (an hour): the rate alone would promise seconds.
    expect(lines[delivered]).toMatch(/ETA (59m|1h 00m)/);
    expect(failure).toBeGreaterThan(delivered);
    expect(failure).toBeLessThan(lines.findIndex((line) => line.startsWith('Execution FAILED')));
  });
});
