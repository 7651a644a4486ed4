import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { AslDefinition, AslState, Json } from '../../runner/asl.ts';
import { LocalStateMachine, MissingLocalHandlerError } from '../../runner/local-state-machine.ts';
import { CDK_LAMBDA_RETRY, distributedMap, fn, lambdaTask } from './helpers.ts';

// These definitions have no Distributed Map: S3 is never called.
const s3 = new S3Client({ region: 'us-east-1' });

class NamedError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

describe('Task handlers', () => {
  it('refuses to run a definition with a Task that has no local handler, naming every such Task', () => {
    // Prepare
    const definition: AslDefinition = {
      StartAt: 'Plan',
      States: {
        Plan: lambdaTask('plan', 'Map'),
        Map: distributedMap({
          processor: {
            StartAt: 'Push',
            States: { Push: lambdaTask('push', 'Verify'), Verify: lambdaTask('verify', undefined) },
          },
        }),
      },
    };
    let planCalls = 0;

    // Act
    const build = () =>
      new LocalStateMachine({
        definition,
        s3,
        lambdaHandlers: {
          Plan: () => {
            planCalls += 1;
            return Promise.resolve({});
          },
          Push: () => Promise.resolve({}),
        },
      });

    // Assess
    expect(build).toThrow(MissingLocalHandlerError);
    expect(build).toThrow(/'Verify'/);
    expect(planCalls).toBe(0);
  });

  it('passes the state input as the event and the return value as the result (payloadResponseOnly)', async () => {
    // Prepare
    const definition: AslDefinition = {
      StartAt: 'Step',
      States: {
        Step: lambdaTask('step', undefined, {
          Parameters: { 'value.$': '$.value', 'executionName.$': '$$.Execution.Name' },
          ResultPath: '$.result',
        }),
      },
    };
    const seen: unknown[] = [];
    const machine = new LocalStateMachine({
      definition,
      s3,
      lambdaHandlers: {
        Step: (event) => {
          seen.push(event);
          return Promise.resolve({ doubled: (event as { value: number }).value * 2 });
        },
      },
    });

    // Act
    const execution = await machine.start({ value: 21 }, { name: 'run-42' });

    // Assess
    expect(seen).toEqual([{ value: 21, executionName: 'run-42' }]);
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toEqual({ value: 21, result: { doubled: 42 } });
  });

  it('wraps the result in {Payload, StatusCode} for the lambda:invoke integration', async () => {
    // Prepare
    const definition: AslDefinition = {
      StartAt: 'Step',
      States: {
        Step: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: fn('step'), 'Payload.$': '$' },
          OutputPath: '$.Payload',
          End: true,
        },
      },
    };
    const machine = new LocalStateMachine({
      definition,
      s3,
      lambdaHandlers: { Step: (event) => Promise.resolve({ got: event }) },
    });

    // Act
    const execution = await machine.start({ a: 1 });

    // Assess
    expect(execution.output).toEqual({ got: { a: 1 } });
  });

  it("retries on the thrown error's name, with every attempt counted", async () => {
    // Prepare
    const definition: AslDefinition = {
      StartAt: 'Step',
      States: {
        Step: lambdaTask('step', undefined, {
          Retry: [
            {
              ErrorEquals: ['Throttled'],
              IntervalSeconds: 10,
              BackoffRate: 2,
              MaxAttempts: 3,
              JitterStrategy: 'FULL',
            },
          ],
        }),
      },
    };
    let calls = 0;
    const machine = new LocalStateMachine({
      definition,
      s3,
      timeScale: 0.0001,
      lambdaHandlers: {
        Step: () => {
          calls += 1;
          if (calls <= 3) throw new NamedError('Throttled', `slow down (${calls})`);
          return Promise.resolve({ calls });
        },
      },
    });

    // Act
    const started = Date.now();
    const execution = await machine.start({});

    // Assess: 1 attempt + 3 retries of 10 s, 20 s, 40 s, compressed 10,000 times.
    expect(execution.status).toBe('SUCCEEDED');
    expect(calls).toBe(4);
    expect(machine.metrics.invocations.Step).toBe(4);
    expect(machine.metrics.transitions).toBe(4);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('fails with the error name and a Lambda-shaped cause once retries are exhausted', async () => {
    // Prepare
    const definition: AslDefinition = {
      StartAt: 'Step',
      States: {
        Step: lambdaTask('step', undefined, {
          Retry: [{ ErrorEquals: ['Throttled'], IntervalSeconds: 1, MaxAttempts: 1 }],
        }),
      },
    };
    const machine = new LocalStateMachine({
      definition,
      s3,
      timeScale: 0.001,
      lambdaHandlers: { Step: () => Promise.reject(new NamedError('Throttled', 'rate exceeded')) },
    });

    // Act
    const execution = await machine.start({});

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('Throttled');
    const cause = JSON.parse(execution.cause ?? '{}') as {
      errorType: string;
      errorMessage: string;
      trace: string[];
    };
    expect(cause.errorType).toBe('Throttled');
    expect(cause.errorMessage).toBe('rate exceeded');
    expect(cause.trace.length).toBeGreaterThan(0);
    expect(machine.metrics.invocations.Step).toBe(2);
    expect(execution.failedState?.name).toBe('Step');
  });

  it('lets Catch match the error name and States.TaskFailed, with the Lambda cause as Cause', async () => {
    // Prepare
    const definition: AslDefinition = {
      StartAt: 'Step',
      States: {
        Step: lambdaTask('step', 'Other', {
          Catch: [{ ErrorEquals: ['InvalidInput'], ResultPath: '$.error', Next: 'Handled' }],
        }),
        Other: lambdaTask('other', undefined, {
          Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.error', Next: 'Handled' }],
        }),
        Handled: { Type: 'Pass', End: true },
      },
    };
    const machine = new LocalStateMachine({
      definition,
      s3,
      lambdaHandlers: {
        Step: () => Promise.reject(new NamedError('InvalidInput', 'bad input: x')),
        Other: () => Promise.resolve({}),
      },
    });

    // Act
    const execution = await machine.start({ x: 1 });

    // Assess
    const output = execution.output as { error: { Error: string; Cause: string } };
    expect(output.error.Error).toBe('InvalidInput');
    expect(JSON.parse(output.error.Cause)).toMatchObject({
      errorType: 'InvalidInput',
      errorMessage: 'bad input: x',
    });
    expect(machine.metrics.invocations.Other).toBeUndefined();
  });

  it('compresses Wait states by the time scale without skipping them', async () => {
    // Prepare
    const definition: AslDefinition = {
      StartAt: 'Wait',
      States: {
        Wait: { Type: 'Wait', SecondsPath: '$.seconds', Next: 'After' },
        After: lambdaTask('after', undefined),
      },
    };
    let calledAfterMs = -1;
    let started = 0;
    const machine = new LocalStateMachine({
      definition,
      s3,
      timeScale: 0.0001,
      lambdaHandlers: {
        After: (event) => {
          calledAfterMs = Date.now() - started;
          return Promise.resolve(event);
        },
      },
    });

    // Act: one hour, compressed to 360 ms.
    started = Date.now();
    const execution = await machine.start({ seconds: 3600 });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(calledAfterMs).toBeGreaterThanOrEqual(350);
    expect(calledAfterMs).toBeLessThan(3_000);
    expect(machine.metrics.transitions).toBe(2);
  });

  it('turns a result over 256 KiB into States.DataLimitExceeded, which States.ALL does not catch', async () => {
    // Prepare
    const definition: AslDefinition = {
      StartAt: 'Step',
      States: {
        Step: lambdaTask('step', undefined, {
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Handled' }],
        }),
        Handled: { Type: 'Pass', End: true },
      },
    };
    const machine = new LocalStateMachine({
      definition,
      s3,
      lambdaHandlers: { Step: () => Promise.resolve({ big: 'x'.repeat(300 * 1024) }) },
    });

    // Act
    const execution = await machine.start({});

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.DataLimitExceeded');
  });

  it('fails with States.DataLimitExceeded when a state is entered with an input over 256 KiB, and never invokes it', async () => {
    // Prepare: each Lambda result is under the limit; the ResultPath merge makes the next input exceed it.
    const half = 'x'.repeat(140 * 1024);
    const definition: AslDefinition = {
      StartAt: 'First',
      States: {
        First: lambdaTask('first', 'Second', { ResultPath: '$.first' }),
        Second: lambdaTask('second', undefined, {
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Handled' }],
        }),
        Handled: { Type: 'Pass', End: true },
      },
    };
    let secondCalls = 0;
    const machine = new LocalStateMachine({
      definition,
      s3,
      lambdaHandlers: {
        First: () => Promise.resolve({ half }),
        Second: () => {
          secondCalls += 1;
          return Promise.resolve({});
        },
      },
    });

    // Act
    const execution = await machine.start({ other: half });

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.DataLimitExceeded');
    expect(execution.cause).toMatch(/The input of 'Second' is \d+ bytes, over the 262144-byte limit/);
    expect(secondCalls).toBe(0);
  });

  it('accepts a state input of exactly 256 KiB (the limit is inclusive)', async () => {
    // Prepare: {"p":"xxx…"} is 8 bytes of envelope.
    const definition: AslDefinition = { StartAt: 'Step', States: { Step: lambdaTask('step', undefined) } };
    const machine = new LocalStateMachine({
      definition,
      s3,
      lambdaHandlers: { Step: () => Promise.resolve({ ok: true }) },
    });

    // Act
    const execution = await machine.start({ p: 'x'.repeat(256 * 1024 - 8) });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
  });

  describe('reserved concurrency', () => {
    /** An inline Map running `Push` for 4 items at once; Push's function reserves 1. */
    const definition = (retry: AslState['Retry']): AslDefinition => ({
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          MaxConcurrency: 4,
          ItemProcessor: {
            StartAt: 'Push',
            States: { Push: lambdaTask('push', undefined, { Retry: retry }) },
          } as unknown as Json,
          End: true,
        },
      },
    });
    const slowPush = () => new Promise<Json>((resolve) => setTimeout(() => resolve({ pushed: true }), 40));

    it('throttles an invoke beyond the function reserved concurrency with Lambda.TooManyRequestsException', async () => {
      // Prepare: no retrier for the throttle (CDK's default one does not match it).
      const machine = new LocalStateMachine({
        definition: definition([CDK_LAMBDA_RETRY]),
        s3,
        lambdaHandlers: { Push: slowPush },
        lambdaReservedConcurrency: { Push: { functionName: 'PushFunction', limit: 1 } },
      });

      // Act
      const execution = await machine.start([1, 2, 3, 4]);

      // Assess
      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('Lambda.TooManyRequestsException');
      expect(execution.cause).toMatch(/ReservedFunctionConcurrentInvocationLimitExceeded/);
      expect(machine.metrics.throttles.Push).toBeGreaterThanOrEqual(1);
    });

    it('runs every invoke once a slot is free when the state retries the throttle, never two at once', async () => {
      // Prepare
      let running = 0;
      let most = 0;
      const machine = new LocalStateMachine({
        definition: definition([
          {
            ErrorEquals: ['Lambda.TooManyRequestsException'],
            IntervalSeconds: 1,
            BackoffRate: 1,
            MaxAttempts: 100,
          },
        ]),
        s3,
        timeScale: 0.01,
        lambdaHandlers: {
          Push: async () => {
            running += 1;
            most = Math.max(most, running);
            const result = await slowPush();
            running -= 1;
            return result;
          },
        },
        lambdaReservedConcurrency: { Push: { functionName: 'PushFunction', limit: 1 } },
      });

      // Act
      const execution = await machine.start([1, 2, 3, 4]);

      // Assess
      expect(execution.status).toBe('SUCCEEDED');
      expect(most).toBe(1);
      expect(machine.metrics.invocations.Push).toBe(4);
      expect(machine.metrics.throttles.Push).toBeGreaterThanOrEqual(3);
    });
  });
});
