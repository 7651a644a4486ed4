import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListMapRunsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import type {
  ItemResult,
  PlannedRun,
  ReportRow,
  RunReport,
  RunReportSummary,
  WorkItem,
} from '../../core/contracts/contracts.ts';
import { startLocalS3, type LocalS3 } from '../../local/s3/index.ts';
import { invalidInputMessage } from '../../core/errors/errors.ts';
import { runConfig } from '../support/run-config.ts';
import { runCli } from './cli-harness.ts';
import { EXECUTION_ARN, MAP_RUN_ARN, lambdaCause } from './sfn-script.ts';

const BUCKET = 'run-bucket';
const RUN_ID = 'backfill-20260501-120000-abcdef12';
const PREFIX = `runs/${RUN_ID}`;
const SEOUL = { region: 'ap-northeast-2', registryId: '111122223333' };
const DIGEST_API = `sha256:${'a'.repeat(64)}`;
const DIGEST_WEB = `sha256:${'b'.repeat(64)}`;

const apiItem: WorkItem = {
  repositoryName: 'team/api',
  imageDigest: DIGEST_API,
  imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
  tags: ['v1', 'latest'],
  destinations: [{ ...SEOUL, tags: ['v1', 'latest'], digestPresent: false }],
};
const webItem: WorkItem = {
  repositoryName: 'team/web',
  imageDigest: DIGEST_WEB,
  imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
  tags: ['v2'],
  destinations: [{ ...SEOUL, tags: ['v2'], digestPresent: false }],
};

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
    counts: { MISSING: 3, ALREADY_PRESENT: 4 },
    putImageCalls: { 'ap-south-1': 2, 'ap-northeast-2': 3 },
    quotaBoundSeconds: 30.3,
    estimatedCostUsd: 0.01,
    engine: { method: 'repush', reason: 'method repush requested' },
  },
};

const apiResult: ItemResult = {
  repositoryName: 'team/api',
  imageDigest: DIGEST_API,
  tempTag: `ecr-backfill-0123456789ab-${'a'.repeat(64)}`,
  destinations: [{ ...SEOUL, replication: 'COMPLETE', tags: { v1: 'BACKFILLED', latest: 'BACKFILLED' } }],
};
const webResult: ItemResult = {
  repositoryName: 'team/web',
  imageDigest: DIGEST_WEB,
  tempTag: `ecr-backfill-0123456789ab-${'b'.repeat(64)}`,
  destinations: [
    { ...SEOUL, replication: 'FAILED', failureCode: 'KMS_ACCESS_DENIED', tags: { v2: 'REPLICATION_FAILED' } },
  ],
};

let s3: LocalS3;
let sfn: AwsClientStub<SFNClient>;
const s3Client = () => s3.client;

async function put(key: string, body: unknown): Promise<void> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: text }));
}

async function get(key: string): Promise<string> {
  const object = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await object.Body?.transformToString()) ?? '';
}

function describeAs(status: string, extra: Record<string, unknown> = {}): void {
  sfn.on(DescribeExecutionCommand).resolves({
    executionArn: EXECUTION_ARN,
    stateMachineArn: 'arn:aws:states:ap-south-1:111122223333:stateMachine:EcrBackfillStateMachine',
    status: status as 'FAILED',
    startDate: new Date(),
    input: '{}',
    ...extra,
  });
}

beforeAll(async () => {
  s3 = await startLocalS3({ buckets: [BUCKET] });
});
afterAll(async () => {
  await s3.close();
});
beforeEach(() => {
  sfn = mockClient(SFNClient);
});
afterEach(() => {
  sfn.restore();
});

/** A report.json as Summarize writes it, typed by its schema; `summary` adds to what it always holds. */
function reportFile(
  summary: RunReportSummary,
  rows: ReportRow[],
  more: Partial<RunReport['summary']> = {},
): RunReport {
  return {
    runId: RUN_ID,
    generatedAt: '2026-05-01T12:30:00.000Z',
    rows,
    summary: { ...summary, rows: rows.length, items: 2, plan: plannedRun.plan, ...more },
  };
}

const cli = (args: string[], extra: { writeTextFile?: (path: string, text: string) => Promise<void> } = {}) =>
  runCli(['report', EXECUTION_ARN, ...args], { context: { s3: s3Client, ...extra } });

describe('ecr-backfill report, succeeded run', () => {
  const summary: RunReportSummary = {
    runId: RUN_ID,
    status: 'SUCCEEDED',
    counts: { BACKFILLED: 2, ALREADY_PRESENT: 4, CONFLICT: 1 },
    failedItems: 0,
    reportJson: { bucket: BUCKET, key: `${PREFIX}/report.json` },
    reportCsv: { bucket: BUCKET, key: `${PREFIX}/report.csv` },
  };
  const rows: ReportRow[] = [
    {
      repositoryName: 'team/api',
      imageDigest: DIGEST_API,
      tag: 'v1',
      destinationRegion: SEOUL.region,
      destinationRegistryId: SEOUL.registryId,
      outcome: 'BACKFILLED',
    },
    {
      repositoryName: 'team/api',
      imageDigest: DIGEST_API,
      tag: 'latest',
      destinationRegion: SEOUL.region,
      destinationRegistryId: SEOUL.registryId,
      outcome: 'BACKFILLED',
    },
    {
      repositoryName: 'team/web',
      imageDigest: DIGEST_WEB,
      tag: 'v2',
      destinationRegion: SEOUL.region,
      destinationRegistryId: SEOUL.registryId,
      outcome: 'CONFLICT',
      detail: 'destination tag points to sha256:cc, "kept"',
    },
  ];

  beforeEach(async () => {
    await put(`${PREFIX}/report.json`, reportFile(summary, rows));
    describeAs('SUCCEEDED', { output: JSON.stringify(summary) });
  });

  it('prints outcomes, the per-destination pivot and says everything is done (table)', async () => {
    const run = await cli([]);

    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`Run ${RUN_ID}: SUCCEEDED — 2 items, 0 failed`);
    expect(run.stdout).toContain(`Report: s3://${BUCKET}/${PREFIX}/report.json`);
    expect(run.stdout).toMatch(/ALREADY_PRESENT\s+4/);
    expect(run.stdout).toMatch(/Destination\s+BACKFILLED\s+CONFLICT/);
    expect(run.stdout).toMatch(/111122223333\/ap-northeast-2\s+2\s+1/);
    expect(run.stdout).toContain('Every planned tag is done.');
    expect(run.stderr).toBe('');
  });

  it('renders Markdown tables', async () => {
    const run = await cli(['--format', 'md']);

    expect(run.stdout).toContain(`# ecr-backfill report: ${RUN_ID}`);
    expect(run.stdout).toContain('| Outcome | Count |\n| --- | ---: |\n| ALREADY_PRESENT | 4 |');
    expect(run.stdout).toContain('| 111122223333/ap-northeast-2 | 2 | 1 |');
  });

  it('renders CSV with the report.csv columns and RFC 4180 quoting', async () => {
    const run = await cli(['--format', 'csv']);

    const lines = run.stdout.split('\r\n');
    expect(lines[0]).toBe(
      'repository,digest,tag,destination_region,destination_registry_id,outcome,detail,artifact_type,referrer_of',
    );
    expect(lines).toHaveLength(5); // header, 3 rows, trailing empty
    expect(lines[3]).toBe(
      `team/web,${DIGEST_WEB},v2,ap-northeast-2,111122223333,CONFLICT,"destination tag points to sha256:cc, ""kept""",,`,
    );
  });

  it('renders report.json as JSON', async () => {
    const run = await cli(['--format', 'json']);

    const parsed = JSON.parse(run.stdout) as { rows: unknown[]; summary: { status: string } };
    expect(parsed.rows).toHaveLength(3);
    expect(parsed.summary.status).toBe('SUCCEEDED');
  });

  it('writes to --output instead of stdout', async () => {
    const files: Record<string, string> = {};

    const run = await cli(['--format', 'md', '--output', 'report.md'], {
      writeTextFile: (path, text) => {
        files[path] = text;
        return Promise.resolve();
      },
    });

    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe('');
    expect(files['report.md']).toContain('# ecr-backfill report');
    expect(run.stderr).toContain('Report written to report.md (3 rows, 0 not done).');
  });

  it('refuses an unknown format', async () => {
    const run = await cli(['--format', 'xml']);

    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain('Allowed choices are table, md, csv, json');
  });
});

describe('ecr-backfill report, the engine and the native backfills', () => {
  const row = (tag: string, region: string, outcome: string): ReportRow => ({
    repositoryName: 'team/api',
    imageDigest: DIGEST_API,
    tag,
    destinationRegion: region,
    destinationRegistryId: '111122223333',
    outcome,
  });
  const summaryOf = (key: string): RunReportSummary => ({
    runId: RUN_ID,
    status: 'SUCCEEDED',
    counts: { NATIVE_BACKFILLED: 3, BACKFILLED: 1 },
    failedItems: 0,
    reportJson: { bucket: BUCKET, key },
    reportCsv: { bucket: BUCKET, key: key.replace(/json$/, 'csv') },
  });

  it('prints the engine, its reason and a per-destination native table (table and md); json keeps both', async () => {
    // Prepare: Seoul's backfill completed with one failure, repaired by re-push; Dublin never started.
    const key = `${PREFIX}/native-run/report.json`;
    const summary = summaryOf(key);
    const rows = [
      row('v1', 'ap-northeast-2', 'NATIVE_BACKFILLED'),
      row('latest', 'ap-northeast-2', 'BACKFILLED'),
      row('v1', 'eu-west-1', 'NATIVE_BACKFILLED'),
      row('latest', 'eu-west-1', 'NATIVE_BACKFILLED'),
    ];
    await put(
      key,
      reportFile(summary, rows, {
        items: 1,
        plan: {
          ...plannedRun.plan,
          engine: { method: 'native', reason: 'auto: the selection is the whole replication scope' },
        },
        native: {
          plannedItems: { key: `${PREFIX}/items.jsonl`, count: 1 },
          verifiedKey: `${PREFIX}/native/verified.jsonl`,
          verified: 3,
          repair: 1,
          destinations: [
            {
              region: 'eu-west-1',
              registryId: '111122223333',
              adopted: true,
              backfillId: 'bf-dublin',
              status: 'COMPLETE',
              progress: { total: 2, completed: 2, failed: 0, failureCodes: [] },
              verified: 2,
              repair: 0,
            },
            {
              region: 'ap-northeast-2',
              registryId: '111122223333',
              adopted: false,
              backfillId: 'bf-seoul',
              status: 'FAILED',
              failureCode: 'TOO_MANY_FAILURES',
              progress: { total: 2, completed: 1, failed: 1, failureCodes: ['KMS_ACCESS_DENIED'] },
              verified: 1,
              repair: 1,
              note: 'latest re-pushed',
            },
          ],
        },
      }),
    );
    describeAs('SUCCEEDED', { output: JSON.stringify(summary) });

    // Act
    const table = await cli([]);
    const md = await cli(['--format', 'md']);
    const json = await cli(['--format', 'json']);

    // Assess
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toContain('Engine: native (auto: the selection is the whole replication scope)');
    expect(table.stdout).toMatch(/Destination\s+Backfill\s+Status\s+Progress\s+Verified\s+Repaired\s+Note/);
    expect(table.stdout).toMatch(
      /111122223333\/ap-northeast-2\s+bf-seoul\s+FAILED \(TOO_MANY_FAILURES\)\s+1\/2 done, 1 failed\s+1\s+1\s+latest re-pushed/,
    );
    expect(table.stdout).toMatch(
      /111122223333\/eu-west-1\s+bf-dublin \(adopted\)\s+COMPLETE\s+2\/2 done\s+2\s+0/,
    );
    // Sorted by destination, before the per-destination outcomes.
    expect(table.stdout.indexOf('bf-seoul')).toBeLessThan(table.stdout.indexOf('bf-dublin'));
    expect(table.stdout.indexOf('bf-dublin')).toBeLessThan(table.stdout.indexOf('Per destination'));
    expect(md.stdout).toContain('Engine: native (auto: the selection is the whole replication scope).');
    expect(md.stdout).toContain(
      '## Native backfills\n\n| Destination | Backfill | Status | Progress | Verified | Repaired | Note |',
    );
    expect(md.stdout).toContain(
      '| 111122223333/ap-northeast-2 | bf-seoul | FAILED (TOO_MANY_FAILURES) | 1/2 done, 1 failed | 1 | 1 | latest re-pushed |',
    );
    const parsed = JSON.parse(json.stdout) as {
      summary: { plan: { engine: unknown }; native: { destinations: { status: string }[] } };
    };
    expect(parsed.summary.plan.engine).toEqual({
      method: 'native',
      reason: 'auto: the selection is the whole replication scope',
    });
    expect(parsed.summary.native.destinations.map((d) => d.status)).toEqual(['COMPLETE', 'FAILED']);
  });

  it('prints the re-push engine and its reason, and no native table, for a re-push run', async () => {
    // Prepare
    const key = `${PREFIX}/repush-run/report.json`;
    const summary = summaryOf(key);
    await put(key, reportFile(summary, [row('v1', 'ap-northeast-2', 'BACKFILLED')], { items: 1 }));
    describeAs('SUCCEEDED', { output: JSON.stringify(summary) });

    // Act
    const table = await cli([]);
    const md = await cli(['--format', 'md']);

    // Assess
    expect(table.stdout).toContain('Engine: repush (method repush requested)');
    expect(md.stdout).toContain('Engine: repush (method repush requested).');
    expect(table.stdout).not.toContain('Native backfills');
    expect(md.stdout).not.toContain('Native backfills');
  });

  it('prints no engine line for a report written before the engines existed', async () => {
    // Prepare: a plan summary without the engine.
    const key = `${PREFIX}/old-run/report.json`;
    const summary = summaryOf(key);
    const { engine: _engine, ...planBeforeEngines } = plannedRun.plan;
    await put(
      key,
      reportFile(summary, [row('v1', 'ap-northeast-2', 'BACKFILLED')], { plan: planBeforeEngines }),
    );
    describeAs('SUCCEEDED', { output: JSON.stringify(summary) });

    // Act
    const run = await cli([]);

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`Run ${RUN_ID}: SUCCEEDED`);
    expect(run.stdout).not.toContain('Engine:');
  });
});

describe('ecr-backfill report, failed run', () => {
  const mapRunId = MAP_RUN_ARN.split(':').at(-1) ?? '';
  // Where the definition's ResultWriter writes (runs/<id>/results), plus the map run id AWS appends.
  const resultsDir = `${PREFIX}/results/${mapRunId}`;

  beforeEach(async () => {
    await put(`${PREFIX}/items.jsonl`, `${JSON.stringify(apiItem)}\n${JSON.stringify(webItem)}\n`);
    await put(`${resultsDir}/SUCCEEDED_0.json`, [
      {
        ExecutionArn: `${EXECUTION_ARN}/1`,
        Name: 'batch-1',
        Status: 'SUCCEEDED',
        Input: JSON.stringify({ BatchInput: {}, Items: [apiItem] }),
        Output: JSON.stringify({ runId: RUN_ID, results: [apiResult], counts: { BACKFILLED: 2 } }),
      },
    ]);
    await put(`${resultsDir}/FAILED_0.json`, [
      {
        ExecutionArn: `${EXECUTION_ARN}/2`,
        Name: 'batch-2',
        Status: 'FAILED',
        Input: JSON.stringify({ BatchInput: {}, Items: [webItem] }),
        Error: 'ItemsFailed',
        Cause: lambdaCause('ItemsFailed', `1 item(s) could not be done: ${JSON.stringify([webResult])}`),
      },
    ]);
    await put(`${resultsDir}/manifest.json`, {
      DestinationBucket: BUCKET,
      MapRunArn: MAP_RUN_ARN,
      ResultFiles: {
        SUCCEEDED: [{ Key: `${resultsDir}/SUCCEEDED_0.json`, Size: 1 }],
        FAILED: [{ Key: `${resultsDir}/FAILED_0.json`, Size: 1 }],
        PENDING: [],
      },
    });
    describeAs('FAILED', { error: 'States.ExceedToleratedFailureThreshold', cause: 'threshold exceeded' });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 20, type: 'ExecutionFailed', timestamp: new Date() },
        {
          id: 12,
          type: 'TaskStateExited',
          timestamp: new Date(),
          stateExitedEventDetails: { name: 'FinalizePlan', output: JSON.stringify(plannedRun) },
        },
      ],
    });
    sfn.on(ListMapRunsCommand).resolves({
      mapRuns: [
        { mapRunArn: MAP_RUN_ARN, executionArn: EXECUTION_ARN, stateMachineArn: 'x', startDate: new Date() },
      ],
    });
  });

  it('builds the report from the map results, lists the items not done with reasons, and stores it', async () => {
    // Act
    const run = await cli([]);

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain('The run did not write a report (FAILED); built it from the map results');
    expect(run.stdout).toContain(`Run ${RUN_ID}: FAILED — 2 items, 1 failed`);
    expect(run.stdout).toMatch(/BACKFILLED\s+2/);
    expect(run.stdout).toContain('Not done (1):');
    expect(run.stdout).toMatch(
      /team\/web\s+sha256:bbbbbbbbbbbb\s+v2\s+111122223333\/ap-northeast-2\s+REPLICATION_FAILED\s+failure code KMS_ACCESS_DENIED/,
    );
    expect(run.stdout).toContain(`ecr-backfill redrive ${EXECUTION_ARN}\` re-runs only the failed batches.`);
    const stored = JSON.parse(await get(`${PREFIX}/report.json`)) as {
      summary: { status: string; failedItems: number };
    };
    expect(stored.summary).toMatchObject({ status: 'FAILED', failedItems: 1 });
    expect(await get(`${PREFIX}/report.csv`)).toContain('REPLICATION_FAILED');
  });

  it('reports items no child got to as NOT_STARTED when the map has no results', async () => {
    sfn.on(ListMapRunsCommand).resolves({ mapRuns: [] });

    const run = await cli(['--format', 'csv']);

    expect(run.exitCode).toBe(0);
    expect(run.stdout.match(/NOT_STARTED/g)).toHaveLength(3);
  });
});

describe('ecr-backfill report, dry run', () => {
  it('builds the report of what would be done from the plan in the output, rows PLANNED', async () => {
    // Prepare: a dry run ends with the PlannedRun as its output, before Summarize.
    const dryRun: PlannedRun = {
      ...plannedRun,
      runId: 'dry-1',
      runPrefix: 'runs/dry-1',
      items: { key: 'runs/dry-1/items.jsonl', count: 2 },
      config: { ...plannedRun.config, dryRun: true },
    };
    await put('runs/dry-1/items.jsonl', `${JSON.stringify(apiItem)}\n${JSON.stringify(webItem)}\n`);
    describeAs('SUCCEEDED', { output: JSON.stringify(dryRun) });

    // Act
    const run = await cli([]);

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain(
      'A dry run writes no report; built it from its plan: s3://run-bucket/runs/dry-1/report.json',
    );
    expect(run.stdout).toContain('Run dry-1: DRY_RUN — 2 items, 0 failed');
    expect(run.stdout).toMatch(/PLANNED\s+3/);
    expect(sfn).not.toHaveReceivedCommand(GetExecutionHistoryCommand);
  });
});

describe('ecr-backfill report, no report to give', () => {
  it('says a running execution has no report yet', async () => {
    describeAs('RUNNING');

    const run = await cli([]);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('The execution is still running');
    expect(run.stderr).toContain(`ecr-backfill watch ${EXECUTION_ARN}`);
  });

  it('explains a run that failed before planning, listing its input problems', async () => {
    describeAs('FAILED', {
      error: 'InvalidInput',
      cause: lambdaCause(
        'InvalidInput',
        invalidInputMessage(['tags[0]: must use letters', 'batchSize: must be ≤ 100 (got 500)']),
      ),
    });
    sfn
      .on(GetExecutionHistoryCommand)
      .resolves({ events: [{ id: 3, type: 'ExecutionFailed', timestamp: new Date() }] });

    const run = await cli([]);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('This execution ended before its backfill was planned: there is no report.');
    expect(run.stderr).toContain('  - batchSize: must be ≤ 100 (got 500)');
  });

  it('maps access denied on the execution to the missing permission', async () => {
    sfn
      .on(DescribeExecutionCommand)
      .rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));

    const run = await cli([]);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('needs states:DescribeExecution');
  });
});
