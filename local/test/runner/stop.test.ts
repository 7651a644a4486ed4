import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AslDefinition } from '../../runner/asl.ts';
import type { ExecutionDescription } from '../../runner/execution.ts';
import { LocalStateMachine } from '../../runner/local-state-machine.ts';
import { startLocalS3, type LocalS3 } from '../../s3/index.ts';
import { distributedMap, jsonlReader, lambdaTask, putJsonLines } from './helpers.ts';

const BUCKET = 'run-bucket';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/** Prepare → Map (Slow → Quick per item, two children at a time) → After. */
const definition: AslDefinition = {
  StartAt: 'Prepare',
  States: {
    Prepare: lambdaTask('prepare', 'Map', { ResultPath: '$.prepared' }),
    Map: distributedMap({
      processor: {
        StartAt: 'Slow',
        States: { Slow: lambdaTask('slow', 'Quick'), Quick: lambdaTask('quick', undefined) },
      },
      itemReader: jsonlReader('$.itemsKey'),
      maxConcurrency: 2,
      resultWriterPrefix: 'results',
      resultPath: '$.map',
      next: 'After',
    }),
    After: lambdaTask('after', undefined, { ResultPath: '$.after' }),
  },
};

describe('StopExecution', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: [BUCKET] });
    await putJsonLines(s3.client, BUCKET, 'stop/items.jsonl', [{ id: 0 }, { id: 1 }, { id: 2 }, { id: 3 }]);
  });
  afterAll(async () => {
    await s3.close();
  });

  function harness() {
    const calls: Record<string, number> = { Slow: 0, Quick: 0, After: 0 };
    const slowStarted = deferred();
    let gate = deferred();
    const ended: ExecutionDescription[] = [];
    const machine = new LocalStateMachine({
      definition,
      s3: s3.client,
      timeScale: 0.001,
      lambdaHandlers: {
        Prepare: () => Promise.resolve('prepared'),
        Slow: async (event) => {
          calls.Slow = (calls.Slow ?? 0) + 1;
          if (calls.Slow === 2) slowStarted.resolve();
          await gate.promise;
          return event;
        },
        Quick: (event) => {
          calls.Quick = (calls.Quick ?? 0) + 1;
          return Promise.resolve(event);
        },
        After: () => {
          calls.After = (calls.After ?? 0) + 1;
          return Promise.resolve('after');
        },
      },
      onExecutionEnd: (execution) => {
        ended.push(execution);
        return Promise.resolve();
      },
    });
    return {
      machine,
      calls,
      ended,
      slowStarted: slowStarted.promise,
      release: () => gate.resolve(),
      reset: () => {
        gate = deferred();
        gate.resolve();
      },
    };
  }

  it('aborts the execution and the running Map Run children, starts nothing more, and reports ABORTED once', async () => {
    // Prepare: two children are blocked in Slow, two have not started.
    const { machine, calls, ended, slowStarted, release } = harness();
    const run = machine.start({ itemsKey: 'stop/items.jsonl' }, { name: 'stopped' });
    await slowStarted;

    // Act
    const stopped = await machine.stop('stopped', { error: 'Operator', cause: 'changed my mind' });
    release();
    const fromStart = await run;
    await new Promise((resolve) => setTimeout(resolve, 20));

    // Assess
    expect(stopped.status).toBe('ABORTED');
    expect(fromStart.status).toBe('ABORTED');
    expect(stopped).toMatchObject({ error: 'Operator', cause: 'changed my mind' });
    expect(stopped.stopDate).toBeDefined();
    const [mapRun] = stopped.mapRuns;
    expect(mapRun?.status).toBe('ABORTED');
    expect(mapRun?.children.map((child) => child.status).sort()).toEqual([
      'ABORTED',
      'ABORTED',
      'PENDING',
      'PENDING',
    ]);
    // The blocked Slow invocations returned after the stop: their children ran nothing more.
    expect(calls).toEqual({ Slow: 2, Quick: 0, After: 0 });
    expect(ended.map((execution) => execution.status)).toEqual(['ABORTED']);
  });

  it('redrives an ABORTED execution from the state it was stopped in, finishing the same Map Run', async () => {
    // Prepare
    const { machine, calls, ended, slowStarted, release, reset } = harness();
    const run = machine.start({ itemsKey: 'stop/items.jsonl' }, { name: 'stopped-then-redriven' });
    await slowStarted;
    await machine.stop('stopped-then-redriven');
    release();
    await run;
    reset();

    // Act
    const redriven = await machine.redrive('stopped-then-redriven');

    // Assess
    expect(redriven.status).toBe('SUCCEEDED');
    expect(redriven.redriveCount).toBe(1);
    expect(redriven.mapRuns).toHaveLength(1);
    expect(redriven.mapRuns[0]?.children.every((child) => child.status === 'SUCCEEDED')).toBe(true);
    // Two Slow calls were stopped and run again, the two never-started children run once.
    expect(calls).toEqual({ Slow: 6, Quick: 4, After: 1 });
    expect(ended.map((execution) => execution.status)).toEqual(['ABORTED', 'SUCCEEDED']);
  });
});
