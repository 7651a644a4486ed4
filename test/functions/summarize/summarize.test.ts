/**
 * Summarize over a realistic ResultWriter layout in s3rver: manifest.json pointing at SUCCEEDED_n /
 * FAILED_n files whose records carry the child's input and output as JSON strings, the way Step
 * Functions writes them (Transformation NONE, the default when exporting to S3).
 */
import { silentMetrics, type StepMetrics } from '../../../core/metrics.ts';
import { powertoolsMetrics } from '../../../functions/lambda/powertools-metrics.ts';
import { S3RunStore } from '../../../core/run-files/s3-run-store.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalS3, type LocalS3 } from '../../../local/s3/index.ts';
import {
  RunReportSchema,
  type BatchResult,
  type ItemResult,
  type PlannedRun,
  type ReportRow,
  type RunReport,
  type RunReportSummary,
  type WorkItem,
} from '../../../core/contracts/contracts.ts';
import { createLogger } from '../../../functions/lambda/powertools-logger.ts';
import { getText } from '../../../core/run-files/run-store.ts';
import { buildRunReport, summarize } from '../../../functions/summarize/summarize.ts';
import { createSummarizeHandler } from '../../../functions/summarize/handler.ts';
import { csvField } from '../../../functions/summarize/report-writer.ts';
import { runConfig } from '../../support/run-config.ts';

const BUCKET = 'runs';
const A = '111111111111';
const B = '222222222222';
const SEOUL = { region: 'ap-northeast-2', registryId: A };
const OREGON = { region: 'us-west-2', registryId: B };
const MAP_RUN_ID = '6dbfba93-bcff-410b-9b5c-abf41ae9eddb';

let s3: LocalS3;
beforeAll(async () => {
  s3 = await startLocalS3({ buckets: [BUCKET] });
});
afterAll(async () => {
  await s3.close();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const logger = createLogger({ logLevel: 'SILENT' });
const deps = (metrics: StepMetrics = silentMetrics) => ({
  metrics,
  runStore: new S3RunStore(s3.client),
  logger,
  clock: { now: () => Date.parse('2024-06-01T12:00:00Z') },
});

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

function item(n: number, tags: string[], destinations = [SEOUL, OREGON]): WorkItem {
  return {
    repositoryName: `team/app-${n}`,
    imageDigest: digest(n),
    imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
    tags,
    destinations: destinations.map((d) => ({ ...d, tags, digestPresent: false })),
  };
}

function result(
  work: WorkItem,
  outcome: ItemResult['destinations'][number]['tags'][string],
  extra: Partial<ItemResult['destinations'][number]> = {},
): ItemResult {
  return {
    repositoryName: work.repositoryName,
    imageDigest: work.imageDigest,
    tempTag: `ecr-backfill-0123456789ab-${work.imageDigest.slice(7)}`,
    destinations: work.destinations.map((d) => ({
      region: d.region,
      registryId: d.registryId,
      replication: 'COMPLETE',
      tags: Object.fromEntries(d.tags.map((t) => [t, outcome])),
      ...extra,
    })),
  };
}

async function put(key: string, body: string): Promise<void> {
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.from(body) }));
}

function plannedRun(
  runId: string,
  items: WorkItem[],
  overrides: Partial<PlannedRun['config']> = {},
): PlannedRun {
  return {
    runId,
    bucket: BUCKET,
    runPrefix: `runs/${runId}`,
    config: runConfig({
      sourceRegistryId: A,
      destinations: [SEOUL, OREGON],
      method: 'repush',
      batchSize: 2,
      ...overrides,
    }),
    slices: { key: `runs/${runId}/slices.jsonl`, count: 1 },
    notCoveredRepositories: 1,
    items: { key: `runs/${runId}/items.jsonl`, count: items.length },
    plan: {
      items: items.length,
      tags: 99,
      counts: { MISSING: 90, DIVERGED: 9, ALREADY_PRESENT: 3, NOT_COVERED: 2, NOT_COVERED_REPOSITORIES: 1 },
      putImageCalls: {},
      quotaBoundSeconds: 40,
      estimatedCostUsd: 0.01,
      engine: { method: 'repush', reason: 'method repush requested' },
    },
  };
}

async function writeItems(run: PlannedRun, items: WorkItem[]): Promise<void> {
  await put(run.items.key, items.map((i) => `${JSON.stringify(i)}\n`).join(''));
}

/** One child execution record as ResultWriter stores it. */
function childRecord(
  batch: WorkItem[],
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT',
  fields: Record<string, unknown>,
) {
  const name = `child-${batch[0]?.imageDigest.slice(-6)}`;
  return {
    ExecutionArn: `arn:aws:states:ap-south-1:${A}:execution:Backfill/BackfillImages:${name}`,
    Input: JSON.stringify({ BatchInput: { runId: 'r' }, Items: batch }),
    InputDetails: { Included: true },
    Name: name,
    RedriveCount: 0,
    RedriveStatus: 'NOT_REDRIVABLE',
    StartDate: '2024-06-01T11:00:00.000Z',
    StateMachineArn: `arn:aws:states:ap-south-1:${A}:stateMachine:Backfill/BackfillImages`,
    Status: status,
    StopDate: '2024-06-01T11:05:00.000Z',
    ...fields,
  };
}

const succeeded = (batch: WorkItem[], results: ItemResult[]) =>
  childRecord(batch, 'SUCCEEDED', {
    Output: JSON.stringify({ runId: 'r', results, counts: {} } satisfies BatchResult),
    OutputDetails: { Included: true },
  });

/** How a Lambda error reaches a failed child's record: the cause is the Lambda error envelope. */
const failed = (batch: WorkItem[], errorType: string, errorMessage: string) =>
  childRecord(batch, 'FAILED', {
    Error: errorType,
    Cause: JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ...`, '    at finishBatch'] }),
  });

async function writeResults(
  runId: string,
  files: { SUCCEEDED?: unknown[][]; FAILED?: unknown[][] },
  extension = 'json',
): Promise<{ Bucket: string; Key: string }> {
  const prefix = `runs/${runId}/results/${MAP_RUN_ID}`;
  const manifest = {
    DestinationBucket: BUCKET,
    MapRunArn: `arn:aws:states:ap-south-1:${A}:mapRun:Backfill/BackfillImages:${MAP_RUN_ID}`,
    ResultFiles: { FAILED: [] as unknown[], PENDING: [], SUCCEEDED: [] as unknown[] },
  };
  for (const status of ['SUCCEEDED', 'FAILED'] as const) {
    for (const [n, records] of (files[status] ?? []).entries()) {
      const key = `${prefix}/${status}_${n}.${extension}`;
      const body =
        extension === 'jsonl'
          ? records.map((r) => `${JSON.stringify(r)}\n`).join('')
          : JSON.stringify(records);
      await put(key, body);
      manifest.ResultFiles[status].push({ Key: key, Size: body.length });
    }
  }
  await put(`${prefix}/manifest.json`, JSON.stringify(manifest));
  return { Bucket: BUCKET, Key: `${prefix}/manifest.json` };
}

/**
 * report.json as every reader parses it (RunReportSchema), and proof that the schema declares all
 * Summarize wrote: parsing drops undeclared members, so the parsed report must equal the raw JSON.
 */
async function readReport(runId: string): Promise<{ json: RunReport; csv: string[] }> {
  const raw: unknown = JSON.parse(
    await getText(new S3RunStore(s3.client), BUCKET, `runs/${runId}/report.json`),
  );
  const json = RunReportSchema.parse(raw);
  expect(json).toStrictEqual(raw);
  const csv = (await getText(new S3RunStore(s3.client), BUCKET, `runs/${runId}/report.csv`)).split('\r\n');
  return { json, csv };
}

const recordingMetrics = (): StepMetrics & { published: RunReportSummary[] } => {
  const published: RunReportSummary[] = [];
  return { published, publishOutcomes: () => undefined, publishReport: (summary) => published.push(summary) };
};

describe('Summarize over ResultWriter output', () => {
  const done = item(1, ['v1', 'latest']);
  const conflict = item(2, ['stable']);
  const replicationFailed = item(3, ['v3']);
  const throttled = item(4, ['v4']);
  const neverRan = item(5, ['v5']);
  const items = [done, conflict, replicationFailed, throttled, neverRan];

  it('writes report.json and report.csv with one row per repository, digest, tag and destination', async () => {
    const run = plannedRun('full', items);
    await writeItems(run, items);
    const failedResults = [
      result(replicationFailed, 'REPLICATION_FAILED', { replication: 'FAILED', failureCode: 'KMS_ERROR' }),
    ];
    const details = await writeResults('full', {
      SUCCEEDED: [[succeeded([done, conflict], [result(done, 'BACKFILLED'), result(conflict, 'CONFLICT')])]],
      FAILED: [
        [
          failed(
            [replicationFailed],
            'ItemsFailed',
            JSON.stringify({ runId: 'full', failed: [], results: failedResults }),
          ),
          failed([throttled], 'Throttled', 'PushTempTags: Rate exceeded'),
        ],
      ],
    });
    const metrics = recordingMetrics();

    const summary = await summarize(
      { ...run, backfill: { MapRunArn: 'arn:map', ResultWriterDetails: details } },
      deps(metrics),
    );

    expect(summary).toEqual({
      runId: 'full',
      status: 'FAILED',
      counts: {
        BACKFILLED: 4,
        CONFLICT: 2,
        REPLICATION_FAILED: 2,
        BATCH_FAILED: 2,
        NOT_STARTED: 2,
        ALREADY_PRESENT: 3,
        NOT_COVERED: 2,
        NOT_COVERED_REPOSITORIES: 1,
      },
      failedItems: 3,
      reportJson: { bucket: BUCKET, key: 'runs/full/report.json' },
      reportCsv: { bucket: BUCKET, key: 'runs/full/report.csv' },
    });
    expect(metrics.published).toEqual([summary]);

    const { json, csv } = await readReport('full');
    expect(json.runId).toBe('full');
    expect(json.generatedAt).toBe('2024-06-01T12:00:00.000Z');
    expect(json.summary).toMatchObject({ ...summary, rows: 12, items: 5, mapRunArn: 'arn:map' });
    expect(json.rows).toHaveLength(12);
    expect(json.rows).toContainEqual({
      repositoryName: 'team/app-3',
      imageDigest: digest(3),
      tag: 'v3',
      destinationRegion: 'us-west-2',
      destinationRegistryId: B,
      outcome: 'REPLICATION_FAILED',
      detail: 'failure code KMS_ERROR',
    });
    expect(json.rows).toContainEqual(
      expect.objectContaining({
        repositoryName: 'team/app-4',
        outcome: 'BATCH_FAILED',
        detail: 'Throttled: PushTempTags: Rate exceeded',
      }),
    );
    expect(json.rows.filter((r) => r.repositoryName === 'team/app-5').map((r) => r.outcome)).toEqual([
      'NOT_STARTED',
      'NOT_STARTED',
    ]);
    expect(csv[0]).toBe(
      'repository,digest,tag,destination_region,destination_registry_id,outcome,detail,artifact_type,referrer_of',
    );
    expect(csv[1]).toBe(`team/app-1,${digest(1)},v1,ap-northeast-2,${A},BACKFILLED,,,`);
    expect(csv.filter((line) => line !== '')).toHaveLength(13);
  });

  it('writes a row per referrer and destination, counted by artifact type apart from the tags, failed children included', async () => {
    // Prepare: a signed image whose signature was copied and whose SBOM was there, and one whose
    // signature copy failed (its child failed with its results in FinishBatch's message).
    const SIGNATURE = 'application/vnd.cncf.notary.signature';
    const SBOM = 'application/spdx+json';
    const OCI = 'application/vnd.oci.image.manifest.v1+json';
    const signed: WorkItem = {
      ...item(6, ['v6'], [SEOUL]),
      referrers: [
        { digest: digest(61), mediaType: OCI, artifactType: SIGNATURE },
        { digest: digest(62), mediaType: OCI, artifactType: SBOM },
      ],
    };
    signed.destinations[0]!.referrers = [digest(61), digest(62)];
    const unsigned: WorkItem = {
      ...item(7, ['v7'], [SEOUL]),
      referrers: [{ digest: digest(71), mediaType: OCI, artifactType: SIGNATURE }],
    };
    unsigned.destinations[0]!.referrers = [digest(71)];
    const signedResult: ItemResult = {
      ...result(signed, 'BACKFILLED'),
      referrerTypes: { [digest(61)]: SIGNATURE, [digest(62)]: SBOM },
    };
    signedResult.destinations[0]!.referrers = { [digest(61)]: 'BACKFILLED', [digest(62)]: 'ALREADY_PRESENT' };
    const unsignedResult: ItemResult = {
      ...result(unsigned, 'BACKFILLED'),
      referrerTypes: { [digest(71)]: SIGNATURE },
    };
    unsignedResult.destinations[0]!.referrers = { [digest(71)]: 'DIGEST_MISMATCH' };
    const run = plannedRun('referrers', [signed, unsigned]);
    await writeItems(run, [signed, unsigned]);
    const details = await writeResults('referrers', {
      SUCCEEDED: [[succeeded([signed], [signedResult])]],
      FAILED: [
        [
          failed(
            [unsigned],
            'ItemsFailed',
            JSON.stringify({ runId: 'referrers', failed: [], results: [unsignedResult] }),
          ),
        ],
      ],
    });

    // Act
    const summary = await summarize(
      { ...run, backfill: { MapRunArn: 'arn:map', ResultWriterDetails: details } },
      deps(),
    );

    // Assess: tags and referrers are counted apart; the failed referrer fails its item.
    expect(summary.referrers).toEqual({
      [SIGNATURE]: { BACKFILLED: 1, DIGEST_MISMATCH: 1 },
      [SBOM]: { ALREADY_PRESENT: 1 },
    });
    expect(summary.counts.BACKFILLED).toBe(2);
    expect(summary.counts.DIGEST_MISMATCH).toBeUndefined();
    expect(summary.failedItems).toBe(1);
    const { json, csv } = await readReport('referrers');
    expect(json.rows).toContainEqual({
      repositoryName: 'team/app-6',
      imageDigest: digest(62),
      tag: '',
      destinationRegion: SEOUL.region,
      destinationRegistryId: A,
      outcome: 'ALREADY_PRESENT',
      referrerOf: digest(6),
      artifactType: SBOM,
    });
    expect(csv).toContain(
      `team/app-7,${digest(71)},,ap-northeast-2,${A},DIGEST_MISMATCH,,${SIGNATURE},${digest(7)}`,
    );
  });

  it('reports the failed tags FinishBatch listed when the results did not fit in the cause', async () => {
    const run = plannedRun('omitted', [replicationFailed]);
    await writeItems(run, [replicationFailed]);
    const message = {
      runId: 'omitted',
      failed: [
        {
          repositoryName: replicationFailed.repositoryName,
          imageDigest: replicationFailed.imageDigest,
          destination: `${B}/us-west-2`,
          tag: 'v3',
          outcome: 'REPLICATION_TIMEOUT',
        },
      ],
      resultsOmitted: true,
    };
    const details = await writeResults('omitted', {
      FAILED: [[failed([replicationFailed], 'ItemsFailed', JSON.stringify(message))]],
    });

    const summary = await summarize(
      { ...run, backfill: { ResultWriterDetails: details } },
      deps(recordingMetrics()),
    );

    const { json } = await readReport('omitted');
    expect(json.rows.map((r) => [r.destinationRegion, r.outcome, r.detail])).toEqual([
      ['ap-northeast-2', 'BATCH_FAILED', 'ItemsFailed'],
      ['us-west-2', 'REPLICATION_TIMEOUT', undefined],
    ]);
    expect(summary.failedItems).toBe(1);
  });

  it('counts an item once when a redriven child appears in both the succeeded and the failed files', async () => {
    const run = plannedRun('redriven', [done]);
    await writeItems(run, [done]);
    const details = await writeResults('redriven', {
      SUCCEEDED: [[succeeded([done], [result(done, 'BACKFILLED')])]],
      FAILED: [[failed([done], 'Throttled', 'earlier attempt')]],
    });

    const summary = await summarize(
      { ...run, backfill: { ResultWriterDetails: details } },
      deps(recordingMetrics()),
    );

    expect(summary.status).toBe('SUCCEEDED');
    expect(summary.counts.BACKFILLED).toBe(4);
    expect(summary.counts.BATCH_FAILED).toBeUndefined();
  });

  it('counts an aborted child of the FAILED file as a failed batch, never as not started', async () => {
    // ResultWriter puts "failed, timed out, and aborted" children in FAILED files: an aborted batch
    // may have pushed temp tags, so the report must not call it NOT_STARTED.
    const run = plannedRun('aborted', [done]);
    await writeItems(run, [done]);
    const details = await writeResults('aborted', {
      FAILED: [[childRecord([done], 'ABORTED', { RedriveStatus: 'REDRIVABLE' })]],
    });

    const summary = await summarize({ ...run, backfill: { ResultWriterDetails: details } }, deps());

    expect(summary.status).toBe('FAILED');
    expect(summary.failedItems).toBe(1);
    expect(summary.counts.BATCH_FAILED).toBe(4);
    expect(summary.counts.NOT_STARTED).toBeUndefined();
    const { json } = await readReport('aborted');
    expect(json.rows.map((row) => row.detail)).toEqual(Array(4).fill('child ABORTED'));
  });

  it('reads JSON Lines result files', async () => {
    const run = plannedRun('jsonl', [done]);
    await writeItems(run, [done]);
    const details = await writeResults(
      'jsonl',
      { SUCCEEDED: [[succeeded([done], [result(done, 'BACKFILLED')])]] },
      'jsonl',
    );

    const summary = await summarize(
      { ...run, backfill: { ResultWriterDetails: details } },
      deps(recordingMetrics()),
    );

    expect(summary).toMatchObject({ status: 'SUCCEEDED', failedItems: 0, counts: { BACKFILLED: 4 } });
  });

  it('streams a large report: thousands of rows across many result files', async () => {
    const many = Array.from({ length: 3_000 }, (_, n) => item(100 + n, ['a', 'b']));
    const run = plannedRun('large', many);
    await writeItems(run, many);
    const files: unknown[][] = [];
    for (let start = 0; start < many.length; start += 500) {
      const records: unknown[] = [];
      for (let b = start; b < start + 500; b += 20) {
        const batch = many.slice(b, b + 20);
        records.push(
          succeeded(
            batch,
            batch.map((w) => result(w, 'BACKFILLED')),
          ),
        );
      }
      files.push(records);
    }
    const details = await writeResults('large', { SUCCEEDED: files });

    const summary = await summarize(
      { ...run, backfill: { ResultWriterDetails: details } },
      deps(recordingMetrics()),
    );

    expect(summary.counts.BACKFILLED).toBe(12_000);
    const { json, csv } = await readReport('large');
    expect(json.rows).toHaveLength(12_000);
    expect(csv.filter((line) => line !== '')).toHaveLength(12_001);
  });

  it('fails with Transient when the manifest is not there (yet)', async () => {
    const run = plannedRun('no-manifest', [done]);
    await writeItems(run, [done]);

    const error = await summarize(
      {
        ...run,
        backfill: {
          ResultWriterDetails: { Bucket: BUCKET, Key: 'runs/no-manifest/results/x/manifest.json' },
        },
      },
      deps(recordingMetrics()),
    ).catch((e: unknown) => e);

    expect((error as Error).name).toBe('Transient');
  });
});

describe('Summarize without a map', () => {
  it('reports the planner counts when there was nothing to backfill', async () => {
    const run = plannedRun('nothing', []);
    await writeItems(run, []);

    const summary = await summarize(run, deps(recordingMetrics()));

    expect(summary).toMatchObject({
      status: 'SUCCEEDED',
      failedItems: 0,
      counts: { ALREADY_PRESENT: 3, NOT_COVERED: 2, NOT_COVERED_REPOSITORIES: 1 },
    });
    const { json, csv } = await readReport('nothing');
    expect(json.rows).toEqual([]);
    expect(csv.filter((line) => line !== '')).toHaveLength(1);
  });

  it('adds a row for every tag the plan left alone, in slice order, without counting it twice', async () => {
    // Prepare: nothing to do; the slices wrote what they saw (the plan counts them already), every
    // one of the 11 its file, most of them empty.
    const run: PlannedRun = {
      ...plannedRun('seen', []),
      slices: { key: 'runs/seen/slices.jsonl', count: 11 },
    };
    await writeItems(run, []);
    for (let slice = 0; slice < 11; slice++) await put(`runs/seen/plan/slice-${slice}.rows.jsonl`, '');
    const row = (repositoryName: string, tag: string, outcome: string) => ({
      repositoryName,
      imageDigest: `sha256:${'c'.repeat(64)}`,
      tag,
      destinationRegion: 'ap-northeast-2',
      destinationRegistryId: A,
      outcome,
    });
    const lines = (rows: object[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
    // Slice 10 before slice 2 in lexical order: the report follows the slices' numbers.
    await put('runs/seen/plan/slice-10.rows.jsonl', lines([row('z/late', 'v9', 'NOT_COVERED')]));
    await put(
      'runs/seen/plan/slice-2.rows.jsonl',
      lines([row('a/app', 'v1', 'ALREADY_PRESENT'), row('a/app', 'v2', 'ALREADY_PRESENT')]),
    );

    // Act
    const summary = await summarize(run, deps(recordingMetrics()));

    // Assess: the rows are there, the counts are the plan's.
    expect(summary.counts).toMatchObject({ ALREADY_PRESENT: 3, NOT_COVERED: 2 });
    const { json, csv } = await readReport('seen');
    expect(json.rows.map((r) => [r.repositoryName, r.tag, r.outcome])).toEqual([
      ['a/app', 'v1', 'ALREADY_PRESENT'],
      ['a/app', 'v2', 'ALREADY_PRESENT'],
      ['z/late', 'v9', 'NOT_COVERED'],
    ]);
    expect(csv.filter((line) => line.includes(',ALREADY_PRESENT,'))).toHaveLength(2);
  });

  it('lists what a dry run would do', async () => {
    const work = [item(1, ['v1']), item(2, [], [SEOUL])];
    const run = plannedRun('dry', work, { dryRun: true });
    await writeItems(run, work);

    const summary = await summarize(run, deps(recordingMetrics()));

    expect(summary.status).toBe('DRY_RUN');
    expect(summary.failedItems).toBe(0);
    expect(summary.counts).toMatchObject({ PLANNED: 3, MISSING: 90, DIVERGED: 9 });
    const { json } = await readReport('dry');
    expect(json.rows.map((r) => [r.repositoryName, r.tag, r.destinationRegion, r.outcome])).toEqual([
      ['team/app-1', 'v1', 'ap-northeast-2', 'PLANNED'],
      ['team/app-1', 'v1', 'us-west-2', 'PLANNED'],
      ['team/app-2', '', 'ap-northeast-2', 'PLANNED'],
    ]);
  });
});

describe('report.json and its schema', () => {
  it('writes every optional part RunReportSchema declares: map results, delete rules, the native engine', async () => {
    // Prepare: a native run whose verification delivered one tag and left one item to re-push.
    const delivered = item(8, ['v8'], [SEOUL]);
    const repaired = item(9, ['v9'], [SEOUL]);
    const planned = plannedRun('native', [repaired]);
    const verifiedKey = 'runs/native/native/verified.jsonl';
    const verifiedRow: ReportRow = {
      repositoryName: delivered.repositoryName,
      imageDigest: delivered.imageDigest,
      tag: 'v8',
      destinationRegion: SEOUL.region,
      destinationRegistryId: SEOUL.registryId,
      outcome: 'NATIVE_BACKFILLED',
    };
    await put(verifiedKey, `${JSON.stringify(verifiedRow)}\n`);
    const run: PlannedRun = {
      ...planned,
      plan: { ...planned.plan, engine: { method: 'native', reason: 'auto: the whole replication scope' } },
      deleteReplicatingRules: [{ rule: 0, destinations: [SEOUL], repositoryFilters: [] }],
      native: {
        plannedItems: { key: 'runs/native/plan-items.jsonl', count: 2 },
        destinations: [
          { ...SEOUL, backfillId: 'bf-1', adopted: false, status: 'COMPLETE', verified: 1, repair: 1 },
        ],
        verifiedKey,
        verified: 1,
        repair: 1,
      },
    };
    await writeItems(run, [repaired]);
    const details = await writeResults('native', {
      SUCCEEDED: [[succeeded([repaired], [result(repaired, 'BACKFILLED')])]],
    });

    // Act
    await summarize({ ...run, backfill: { MapRunArn: 'arn:map', ResultWriterDetails: details } }, deps());

    // Assess: readReport parses it with RunReportSchema and checks nothing was left undeclared.
    const { json } = await readReport('native');
    expect(json.summary).toMatchObject({
      status: 'SUCCEEDED',
      rows: 2,
      items: 1,
      plan: { engine: { method: 'native' } },
      deleteReplicatingRules: run.deleteReplicatingRules,
      mapResults: { bucket: BUCKET, key: details.Key, files: { SUCCEEDED: 1, FAILED: 0, PENDING: 0 } },
      mapRunArn: 'arn:map',
      native: run.native,
    });
    expect(json.rows.map((row) => [row.repositoryName, row.outcome])).toEqual([
      ['team/app-9', 'BACKFILLED'],
      ['team/app-8', 'NATIVE_BACKFILLED'],
    ]);
  });
});

describe('buildRunReport for the CLI', () => {
  it('finds the newest results manifest of a run whose map failed', async () => {
    const work = [item(7, ['v7'], [SEOUL])];
    const run = plannedRun('cli', work);
    await writeItems(run, work);
    await writeResults('cli', { FAILED: [[failed(work, 'AccessDenied', 'not authorized')]] });

    const summary = await buildRunReport({
      runStore: new S3RunStore(s3.client),
      logger,
      now: () => 0,
      run,
      locateManifest: true,
    });

    expect(summary).toMatchObject({ status: 'FAILED', failedItems: 1, counts: { BATCH_FAILED: 1 } });
  });
});

describe('report formats and metrics', () => {
  it('quotes CSV fields as RFC 4180 requires', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });

  it('publishes outcome counts as EMF in the EcrBackfill namespace', () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });

    powertoolsMetrics().publishReport({
      runId: 'r',
      status: 'SUCCEEDED',
      counts: { BACKFILLED: 5, ALREADY_PRESENT: 2 },
      failedItems: 0,
      reportJson: { bucket: BUCKET, key: 'k' },
      reportCsv: { bucket: BUCKET, key: 'k' },
    });

    const emf = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((o) => '_aws' in o);
    expect(emf).toMatchObject({ BACKFILLED: 5, ALREADY_PRESENT: 2, FailedItems: 0, step: 'Summarize' });
    expect(JSON.stringify(emf)).toContain('"Namespace":"EcrBackfill"');
  });

  it('rejects a malformed event as InvalidInput', async () => {
    const handler = createSummarizeHandler({
      ...deps(),
      ecr: () => {
        throw new Error('unused');
      },
      env: { runBucket: BUCKET, sourceRegion: 'ap-south-1', defaultInput: {}, putImageRatePerSecond: 10 },
    });

    const error = await handler({ runId: 'x' }).catch((e: unknown) => e);

    expect((error as Error).name).toBe('InvalidInput');
  });
});
