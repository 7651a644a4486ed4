import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AslDefinition, Json } from '../../runner/asl.ts';
import type { Manifest } from '../../runner/distributed-map/result-writer.ts';
import { LocalStateMachine } from '../../runner/local-state-machine.ts';
import { startLocalS3, type LocalS3 } from '../../s3/index.ts';
import { distributedMap, getJson, jsonlReader, lambdaTask, putJsonLines } from './helpers.ts';

const BUCKET = 'run-bucket';

class NamedError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

interface Item {
  id: number;
  step1?: number;
}

/** Prepare → Map (Step1 → Step2 → Step3 per item) → After. */
function pipeline(options: {
  maxConcurrency: number;
  executionType?: 'STANDARD' | 'EXPRESS';
}): AslDefinition {
  return {
    StartAt: 'Prepare',
    States: {
      Prepare: lambdaTask('prepare', 'Map', { ResultPath: '$.prepared' }),
      Map: distributedMap({
        processor: {
          StartAt: 'Step1',
          States: {
            Step1: lambdaTask('step1', 'Step2'),
            Step2: lambdaTask('step2', 'Step3', {
              Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 1 }],
            }),
            Step3: lambdaTask('step3', undefined),
          },
        },
        itemReader: jsonlReader('$.itemsKey'),
        maxConcurrency: options.maxConcurrency,
        resultWriterPrefix: 'results',
        resultPath: '$.map',
        next: 'After',
        ...(options.executionType ? { executionType: options.executionType } : {}),
      }),
      After: lambdaTask('after', undefined, { ResultPath: '$.after' }),
    },
  };
}

describe('redrive', () => {
  let s3: LocalS3;

  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: [BUCKET] });
    await putJsonLines(
      s3.client,
      BUCKET,
      'redrive/items.jsonl',
      Array.from({ length: 6 }, (_, id) => ({ id })),
    );
  });
  afterAll(async () => {
    await s3.close();
  });

  function harness(definition: AslDefinition, failing: Set<number>) {
    const calls: Record<string, unknown[]> = { Prepare: [], Step1: [], Step2: [], Step3: [], After: [] };
    const record = (state: string, event: unknown) => calls[state]?.push(event);
    const machine = new LocalStateMachine({
      definition,
      s3: s3.client,
      timeScale: 0.001,
      lambdaHandlers: {
        Prepare: (event) => {
          record('Prepare', event);
          return Promise.resolve('prepared');
        },
        Step1: (event) => {
          record('Step1', event);
          const item = event as Item;
          return Promise.resolve({ ...item, step1: (calls.Step1?.length ?? 0) * 100 + item.id });
        },
        Step2: (event) => {
          record('Step2', event);
          const item = event as Item;
          // Each failing item throws Flaky on every attempt of this run (1 try + 2 retries).
          if (failing.has(item.id)) throw new NamedError('Flaky', `item ${item.id} not yet`);
          return Promise.resolve({ ...item, step2: true });
        },
        Step3: (event) => {
          record('Step3', event);
          return Promise.resolve({ ...(event as Item), step3: true });
        },
        After: (event) => {
          record('After', event);
          return Promise.resolve('after');
        },
      },
    });
    return { machine, calls };
  }

  it('reruns only failed children, each resuming at its failed step with that step’s input, retries reset', async () => {
    // Prepare: items run one at a time; item 1 fails at Step2, so items 2-5 never start.
    const failing = new Set([1]);
    const { machine, calls } = harness(pipeline({ maxConcurrency: 1 }), failing);
    const first = await machine.start({ itemsKey: 'redrive/items.jsonl' });
    const failedChild = first.mapRuns[0]?.children.find((child) => child.status === 'FAILED');
    const step2InputBefore = calls.Step2?.find((event) => (event as Item).id === 1);

    // Act
    failing.clear();
    const redriven = await machine.redrive(first.executionArn);

    // Assess: the first attempt
    expect(first.status).toBe('FAILED');
    expect(first.error).toBe('States.ExceedToleratedFailureThreshold');
    expect(first.failedState).toMatchObject({
      name: 'Map',
      input: { itemsKey: 'redrive/items.jsonl', prepared: 'prepared' },
    });
    expect(failedChild?.failedState).toEqual({ name: 'Step2', input: step2InputBefore });
    expect(first.mapRuns[0]?.counts).toMatchObject({ succeeded: 1, failed: 1, pending: 4 });

    // Assess: the redrive
    expect(redriven.status).toBe('SUCCEEDED');
    expect(redriven.redriveCount).toBe(1);
    expect(calls.Prepare).toHaveLength(1);
    // Step1: items 0 and 1 first; then only the four children that never started. Not item 1 again.
    expect(calls.Step1?.map((event) => (event as Item).id)).toEqual([0, 1, 2, 3, 4, 5]);
    // Step2 for item 1: 3 attempts (1 + 2 retries) first, then a fresh retry budget; it succeeds at once.
    const step2ForItem1 = calls.Step2?.filter((event) => (event as Item).id === 1) ?? [];
    expect(step2ForItem1).toHaveLength(4);
    expect(step2ForItem1[3]).toEqual(step2InputBefore);
    expect(calls.After).toHaveLength(1);

    // The same Map Run, its results rewritten: six succeeded, no failed file left behind.
    const mapRun = redriven.mapRuns[0];
    expect(redriven.mapRuns).toHaveLength(1);
    expect(mapRun?.redriveCount).toBe(1);
    expect(mapRun?.children.find((child) => child.name === failedChild?.name)?.redriveCount).toBe(1);
    const output = redriven.output as { map: { MapRunArn: string; ResultWriterDetails: { Key: string } } };
    expect(output.map.MapRunArn).toBe(mapRun?.mapRunArn);
    const manifest = await getJson<Manifest>(s3.client, BUCKET, output.map.ResultWriterDetails.Key);
    expect(manifest.ResultFiles.FAILED).toEqual([]);
    const succeeded = await getJson<{ Name: string; RedriveCount: number }[]>(
      s3.client,
      BUCKET,
      manifest.ResultFiles.SUCCEEDED[0]?.Key ?? '',
    );
    expect(succeeded).toHaveLength(6);
    expect(succeeded.find((record) => record.Name === failedChild?.name)?.RedriveCount).toBe(1);
  });

  it('keeps redrivable failures failed until they are fixed, then converges', async () => {
    // Prepare: with concurrency, several children fail at once.
    const failing = new Set([0, 3, 5]);
    const { machine, calls } = harness(pipeline({ maxConcurrency: 6 }), failing);
    const first = await machine.start({ itemsKey: 'redrive/items.jsonl' });

    // Act: a redrive with the fault still there fails again at the same steps; a later one succeeds.
    const second = await machine.redrive(first.executionArn);
    failing.clear();
    const third = await machine.redrive(first.executionArn);

    // Assess
    expect(first.status).toBe('FAILED');
    expect(first.mapRuns[0]?.counts.failed).toBe(3);
    expect(second.status).toBe('FAILED');
    expect(
      second.mapRuns[0]?.children
        .filter((child) => child.status === 'FAILED')
        .map((c) => c.failedState?.name),
    ).toEqual(['Step2', 'Step2', 'Step2']);
    expect(third.status).toBe('SUCCEEDED');
    expect(calls.Step1).toHaveLength(6);
    expect(calls.Step3).toHaveLength(6);
    expect(machine.metrics.redrives).toBeGreaterThanOrEqual(2);
  });

  it('resumes a parent that failed before any map at the failed state, with the same input', async () => {
    // Prepare
    let prepareFails = true;
    const definition: AslDefinition = {
      StartAt: 'First',
      States: {
        First: lambdaTask('first', 'Second', { ResultPath: '$.first' }),
        Second: lambdaTask('second', undefined, { ResultPath: '$.second' }),
      },
    };
    const calls = { First: 0, Second: [] as Json[] };
    const machine = new LocalStateMachine({
      definition,
      s3: s3.client,
      lambdaHandlers: {
        First: () => {
          calls.First += 1;
          return Promise.resolve(1);
        },
        Second: (event) => {
          calls.Second.push(event as Json);
          if (prepareFails) throw new NamedError('AccessDenied', 'fix IAM');
          return Promise.resolve(2);
        },
      },
    });
    const first = await machine.start({ x: 'y' });

    // Act
    prepareFails = false;
    const redriven = await machine.redrive(first.name);

    // Assess
    expect(first.failedState).toEqual({ name: 'Second', input: { x: 'y', first: 1 } });
    expect(redriven.status).toBe('SUCCEEDED');
    expect(redriven.output).toEqual({ x: 'y', first: 1, second: 2 });
    expect(calls.First).toBe(1);
    expect(calls.Second).toEqual([
      { x: 'y', first: 1 },
      { x: 'y', first: 1 },
    ]);
  });

  it('starts the Map Run afresh on redrive when its items could not be read the first time', async () => {
    // Prepare
    const { machine, calls } = harness(pipeline({ maxConcurrency: 3 }), new Set());
    const first = await machine.start({ itemsKey: 'redrive/late-items.jsonl' });
    await putJsonLines(s3.client, BUCKET, 'redrive/late-items.jsonl', [{ id: 10 }, { id: 11 }]);

    // Act
    const redriven = await machine.redrive(first.executionArn);

    // Assess
    expect(first.error).toBe('States.ItemReaderFailed');
    expect(first.failedState?.name).toBe('Map');
    expect(redriven.status).toBe('SUCCEEDED');
    expect(redriven.mapRuns.map((run) => run.status)).toEqual(['FAILED', 'SUCCEEDED']);
    expect(calls.Step1?.map((event) => (event as Item).id).sort()).toEqual([10, 11]);
    expect(calls.Prepare).toHaveLength(1);
  });

  it('restarts EXPRESS children from their first state on redrive', async () => {
    // Prepare
    const failing = new Set([2]);
    const { machine, calls } = harness(pipeline({ maxConcurrency: 1, executionType: 'EXPRESS' }), failing);
    const first = await machine.start({ itemsKey: 'redrive/items.jsonl' });

    // Act
    failing.clear();
    const redriven = await machine.redrive(first.executionArn);

    // Assess: item 2 runs Step1 again (an Express workflow cannot resume mid-way).
    expect(redriven.status).toBe('SUCCEEDED');
    expect(calls.Step1?.filter((event) => (event as Item).id === 2)).toHaveLength(2);
  });

  it('refuses to redrive an execution that succeeded', async () => {
    // Prepare
    const { machine } = harness(pipeline({ maxConcurrency: 2 }), new Set());
    const done = await machine.start({ itemsKey: 'redrive/items.jsonl' });

    // Act
    const attempt = machine.redrive(done.executionArn);

    // Assess
    await expect(attempt).rejects.toThrow(/SUCCEEDED and cannot be redriven/);
  });
});
