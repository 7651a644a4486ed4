import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AslDefinition, Json } from '../../runner/asl.ts';
import type { Manifest } from '../../runner/distributed-map/result-writer.ts';
import { LocalStateMachine } from '../../runner/local-state-machine.ts';
import { startLocalS3, type LocalS3 } from '../../s3/index.ts';
import {
  concurrencyGauge,
  delay,
  distributedMap,
  getJson,
  jsonlReader,
  lambdaTask,
  putJsonLines,
} from './helpers.ts';

const BUCKET = 'run-bucket';

interface ResultRecord {
  ExecutionArn: string;
  Name: string;
  Status: string;
  Input: string;
  InputDetails: { Included: boolean };
  Output?: string;
  OutputDetails?: { Included: boolean };
  Error?: string;
  Cause?: string;
  StartDate: string;
  StopDate: string;
  StateMachineArn: string;
  RedriveCount: number;
}

class NamedError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

describe('Distributed Map shim', () => {
  let s3: LocalS3;

  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: [BUCKET] });
  });
  afterAll(async () => {
    await s3.close();
  });

  const oneStepMap = (overrides: Partial<Parameters<typeof distributedMap>[0]> = {}): AslDefinition => ({
    StartAt: 'Map',
    States: {
      Map: distributedMap({
        processor: { StartAt: 'Work', States: { Work: lambdaTask('work', undefined) } },
        itemReader: jsonlReader('$.itemsKey'),
        ...overrides,
      }),
    },
  });

  it('reads JSON Lines from S3 and batches items into {BatchInput, Items} children', async () => {
    // Prepare
    await putJsonLines(
      s3.client,
      BUCKET,
      'batching/items.jsonl',
      Array.from({ length: 7 }, (_, i) => ({ id: i })),
    );
    const definition = oneStepMap({
      itemSelector: { 'id.$': '$$.Map.Item.Value.id', 'index.$': '$$.Map.Item.Index' },
      itemBatcher: { MaxItemsPerBatchPath: '$.batchSize', BatchInput: { 'runId.$': '$.runId' } },
    });
    const inputs: Json[] = [];
    const machine = new LocalStateMachine({
      definition,
      s3: s3.client,
      lambdaHandlers: {
        Work: (event) => {
          inputs.push(event as Json);
          return Promise.resolve('done');
        },
      },
    });

    // Act
    const execution = await machine.start({ itemsKey: 'batching/items.jsonl', batchSize: 3, runId: 'r-1' });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toEqual(['done', 'done', 'done']);
    const byFirstId = [...inputs].sort(
      (a, b) =>
        ((a as { Items: { id: number }[] }).Items[0]?.id ?? 0) -
        ((b as { Items: { id: number }[] }).Items[0]?.id ?? 0),
    );
    expect(byFirstId).toEqual([
      { BatchInput: { runId: 'r-1' }, Items: [0, 1, 2].map((i) => ({ id: i, index: i })) },
      { BatchInput: { runId: 'r-1' }, Items: [3, 4, 5].map((i) => ({ id: i, index: i })) },
      { BatchInput: { runId: 'r-1' }, Items: [{ id: 6, index: 6 }] },
    ]);
    expect(execution.mapRuns[0]?.counts).toMatchObject({ itemsTotal: 7, childrenTotal: 3, succeeded: 3 });
  });

  it('starts a new batch before the child input would exceed MaxInputBytesPerBatch', async () => {
    // Prepare
    const items = Array.from({ length: 6 }, (_, i) => ({ id: i, pad: 'x'.repeat(90) }));
    await putJsonLines(s3.client, BUCKET, 'bytes/items.jsonl', items);
    const definition = oneStepMap({ itemBatcher: { MaxItemsPerBatch: 100, MaxInputBytesPerBatch: 300 } });
    const sizes: number[] = [];
    const machine = new LocalStateMachine({
      definition,
      s3: s3.client,
      lambdaHandlers: {
        Work: (event) => {
          sizes.push(Buffer.byteLength(JSON.stringify(event)));
          return Promise.resolve(null);
        },
      },
    });

    // Act
    const execution = await machine.start({ itemsKey: 'bytes/items.jsonl' });

    // Assess: each item is ~112 bytes, so two fit in 300 bytes, three do not.
    expect(execution.status).toBe('SUCCEEDED');
    expect(sizes).toHaveLength(3);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(300);
  });

  it('never runs more children at once than MaxConcurrency', async () => {
    // Prepare
    await putJsonLines(
      s3.client,
      BUCKET,
      'concurrency/items.jsonl',
      Array.from({ length: 12 }, (_, i) => ({ id: i })),
    );
    const definition = oneStepMap({ maxConcurrencyPath: '$.maxConcurrency' });
    const gauge = concurrencyGauge();
    const machine = new LocalStateMachine({
      definition,
      s3: s3.client,
      lambdaHandlers: {
        Work: async () => {
          gauge.enter();
          await delay(25);
          gauge.leave();
          return null;
        },
      },
    });

    // Act
    const execution = await machine.start({ itemsKey: 'concurrency/items.jsonl', maxConcurrency: 3 });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(gauge.max).toBe(3);
    expect(machine.metrics.invocations.Work).toBe(12);
  });

  describe('tolerated failures', () => {
    const failingItem = 3;
    const run = async (tolerance: Partial<Parameters<typeof distributedMap>[0]>) => {
      await putJsonLines(
        s3.client,
        BUCKET,
        'tolerance/items.jsonl',
        Array.from({ length: 10 }, (_, i) => ({ id: i })),
      );
      const machine = new LocalStateMachine({
        definition: oneStepMap({ maxConcurrency: 1, ...tolerance }),
        s3: s3.client,
        lambdaHandlers: {
          Work: (event) => {
            const id = (event as { id: number }).id;
            if (id === failingItem) throw new NamedError('ItemsFailed', `item ${id} failed`);
            return Promise.resolve(id);
          },
        },
      });
      return { execution: await machine.start({ itemsKey: 'tolerance/items.jsonl' }), machine };
    };

    it('fails the map on the first failed item by default (tolerance 0), starting no further child', async () => {
      // Act
      const { execution, machine } = await run({});

      // Assess
      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('States.ExceedToleratedFailureThreshold');
      expect(execution.failedState?.name).toBe('Map');
      expect(machine.metrics.invocations.Work).toBe(failingItem + 1);
      expect(execution.mapRuns[0]?.counts).toMatchObject({ succeeded: 3, failed: 1, pending: 6 });
    });

    it('succeeds while failed items stay within ToleratedFailurePercentage', async () => {
      // Act
      const { execution } = await run({ toleratedFailurePercentagePath: '$.tolerated' });
      const tolerated = await (async () => {
        const { machine } = await run({ toleratedFailurePercentage: 10 });
        return machine.list()[0];
      })();

      // Assess: no path value → default 0 → fails; 10 % of 10 items = 1 failure allowed.
      expect(execution.status).toBe('FAILED');
      expect(tolerated?.status).toBe('SUCCEEDED');
      expect(tolerated?.output).toEqual([
        0,
        1,
        2,
        { Error: 'ItemsFailed', Cause: expect.any(String) as unknown },
        4,
        5,
        6,
        7,
        8,
        9,
      ]);
    });

    it('applies ToleratedFailureCount: one failure exceeds 0 but not 1', async () => {
      // Act
      const zero = await run({ toleratedFailureCount: 0 });
      const one = await run({ toleratedFailureCount: 1 });

      // Assess
      expect(zero.execution.status).toBe('FAILED');
      expect(one.execution.status).toBe('SUCCEEDED');
    });
  });

  it('writes ResultWriter files as AWS lays them out and outputs {MapRunArn, ResultWriterDetails}', async () => {
    // Prepare
    await putJsonLines(
      s3.client,
      BUCKET,
      'writer/items.jsonl',
      Array.from({ length: 5 }, (_, i) => ({ id: i })),
    );
    const machine = new LocalStateMachine({
      definition: oneStepMap({
        toleratedFailurePercentage: 100,
        resultWriterPrefix: { path: "States.Format('runs/{}/results', $.runId)" },
        resultPath: '$.map',
      }),
      s3: s3.client,
      resultWriterMaxFileBytes: 1_200,
      lambdaHandlers: {
        Work: (event) => {
          const id = (event as { id: number }).id;
          if (id === 4) throw new NamedError('ItemsFailed', 'no');
          return Promise.resolve({ id, ok: true });
        },
      },
    });

    // Act
    const execution = await machine.start({ itemsKey: 'writer/items.jsonl', runId: 'r-7' });

    // Assess
    const output = execution.output as {
      map: { MapRunArn: string; ResultWriterDetails: { Bucket: string; Key: string } };
    };
    const mapRunArn = output.map.MapRunArn;
    const mapRunId = mapRunArn.split(':').at(-1) ?? '';
    expect(mapRunArn).toMatch(
      /^arn:aws:states:us-east-1:\d{12}:mapRun:LocalStateMachine\/Backfill:[0-9a-f-]{36}$/,
    );
    expect(output.map.ResultWriterDetails).toEqual({
      Bucket: BUCKET,
      Key: `runs/r-7/results/${mapRunId}/manifest.json`,
    });
    const manifest = await getJson<Manifest>(s3.client, BUCKET, output.map.ResultWriterDetails.Key);
    expect(manifest.DestinationBucket).toBe(BUCKET);
    expect(manifest.MapRunArn).toBe(mapRunArn);
    expect(manifest.ResultFiles.PENDING).toEqual([]);
    expect(manifest.ResultFiles.FAILED.map((file) => file.Key)).toEqual([
      `runs/r-7/results/${mapRunId}/FAILED_0.json`,
    ]);
    // Four succeeded records do not fit in one 1,200-byte file.
    expect(manifest.ResultFiles.SUCCEEDED.length).toBeGreaterThan(1);
    expect(manifest.ResultFiles.SUCCEEDED[1]?.Key).toBe(`runs/r-7/results/${mapRunId}/SUCCEEDED_1.json`);
    const succeeded = (
      await Promise.all(
        manifest.ResultFiles.SUCCEEDED.map((file) => getJson<ResultRecord[]>(s3.client, BUCKET, file.Key)),
      )
    ).flat();
    expect(succeeded.map((record) => JSON.parse(record.Output ?? 'null') as Json)).toEqual(
      expect.arrayContaining([0, 1, 2, 3].map((id) => ({ id, ok: true }))),
    );
    const [failed] = await getJson<ResultRecord[]>(
      s3.client,
      BUCKET,
      manifest.ResultFiles.FAILED[0]?.Key ?? '',
    );
    expect(failed).toMatchObject({
      Status: 'FAILED',
      Error: 'ItemsFailed',
      Input: JSON.stringify({ id: 4 }),
      InputDetails: { Included: true },
      StateMachineArn: expect.stringMatching(/:stateMachine:LocalStateMachine\/Backfill$/) as unknown,
    });
    expect(failed?.ExecutionArn).toMatch(
      new RegExp(`:execution:LocalStateMachine/Backfill:${failed?.Name}$`),
    );
    expect(JSON.parse(failed?.Cause ?? '{}')).toMatchObject({ errorType: 'ItemsFailed', errorMessage: 'no' });
    expect(failed?.Output).toBeUndefined();
    expect(Date.parse(failed?.StopDate ?? '')).toBeGreaterThanOrEqual(Date.parse(failed?.StartDate ?? ''));
  });

  it('fails with States.ItemReaderFailed when the item object is missing, which a Catch on the map can handle', async () => {
    // Prepare
    const definition: AslDefinition = {
      StartAt: 'Map',
      States: {
        Map: {
          ...distributedMap({
            processor: { StartAt: 'Work', States: { Work: lambdaTask('work', undefined) } },
            itemReader: jsonlReader('$.itemsKey'),
            next: 'Done',
          }),
          Catch: [{ ErrorEquals: ['States.ItemReaderFailed'], ResultPath: '$.error', Next: 'Done' }],
        },
        Done: { Type: 'Pass', End: true },
      },
    };
    const machine = new LocalStateMachine({
      definition,
      s3: s3.client,
      lambdaHandlers: { Work: () => Promise.resolve(1) },
    });

    // Act
    const execution = await machine.start({ itemsKey: 'nowhere/items.jsonl' });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect((execution.output as { error: { Error: string } }).error.Error).toBe('States.ItemReaderFailed');
  });

  it('reads a JSON array object and takes items from ItemsPath when there is no ItemReader', async () => {
    // Prepare
    await s3.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'json/items.json', Body: '[{"n":1},{"n":2}]' }),
    );
    const fromS3 = new LocalStateMachine({
      definition: oneStepMap({
        itemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSON' },
          Parameters: { Bucket: BUCKET, Key: 'json/items.json' },
        },
      }),
      s3: s3.client,
      lambdaHandlers: { Work: (event) => Promise.resolve((event as { n: number }).n * 10) },
    });
    const fromInput = new LocalStateMachine({
      definition: {
        StartAt: 'Map',
        States: {
          Map: distributedMap({
            processor: { StartAt: 'Work', States: { Work: lambdaTask('work', undefined) } },
            itemSelector: { 'n.$': '$$.Map.Item.Value' },
          }),
        },
      },
      s3: s3.client,
      lambdaHandlers: { Work: (event) => Promise.resolve((event as { n: number }).n + 1) },
    });

    // Act
    const a = await fromS3.start({});
    const b = await fromInput.start([5, 6, 7]);

    // Assess
    expect(a.output).toEqual([10, 20]);
    expect(b.output).toEqual([6, 7, 8]);
  });
});
