import { CreateRepositoryCommand } from '@aws-sdk/client-ecr';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcrEmulator, type EcrEmulator } from '../../ecr-emulator/index.ts';
import type { AslDefinition } from '../../runner/asl.ts';
import { localEcrClients, localStepDeps } from '../../runner/backfill-deps.ts';
import { CrashInjector } from '../../runner/lambda/crash.ts';
import { LocalStateMachine } from '../../runner/local-state-machine.ts';
import { startLocalS3, type LocalS3 } from '../../s3/index.ts';
import { lambdaTask } from './helpers.ts';

const REGION = 'eu-west-1';
const ACCOUNT = '111111111111';

describe('Lambda crash injection', () => {
  let emulator: EcrEmulator;
  let s3: LocalS3;

  beforeAll(async () => {
    emulator = await startEcrEmulator({ account: ACCOUNT, quotaScale: Infinity });
    s3 = await startLocalS3({ buckets: ['crash-bucket'] });
  });
  afterAll(async () => {
    await emulator.close();
    await s3.close();
  });

  /** A step that creates five repositories, one ECR call each, then writes a marker to S3. */
  function fiveWrites(prefix: string, retry: boolean) {
    const ecr = localEcrClients(emulator.endpoint, ACCOUNT);
    const deps = localStepDeps({
      ecr: ecr.provider,
      s3: s3.clientFor(REGION),
      env: { runBucket: 'crash-bucket', sourceRegion: REGION, defaultInput: {}, putImageRatePerSecond: 10 },
    });
    let completed = 0;
    const definition: AslDefinition = {
      StartAt: 'Write',
      States: {
        Write: lambdaTask('write', undefined, {
          Retry: retry ? [{ ErrorEquals: ['Lambda.Unknown'], IntervalSeconds: 1, MaxAttempts: 3 }] : [],
        }),
      },
    };
    const handler = async (event: unknown): Promise<unknown> => {
      const client = deps.ecr({ region: REGION });
      for (let i = 0; i < 5; i += 1) {
        await client
          .send(new CreateRepositoryCommand({ repositoryName: `${prefix}/repo-${i}` }))
          .catch((error: Error) => {
            if (error.name !== 'RepositoryAlreadyExistsException') throw error;
          });
      }
      await deps.runStore.put('crash-bucket', `${prefix}/done`, Buffer.from('x'), 'text/plain');
      completed += 1;
      return event;
    };
    return {
      ecr,
      handler,
      completed: () => completed,
      machine: (crashes: CrashInjector) =>
        new LocalStateMachine({
          definition,
          s3: s3.client,
          timeScale: 0.001,
          crashes,
          lambdaHandlers: { Write: handler },
        }),
    };
  }

  const createCalls = (prefix: string): number =>
    emulator.callLog
      .entries({ operation: 'CreateRepository' })
      .filter((entry) => entry.params.repositoryName?.startsWith(`${prefix}/`)).length;

  it('kills an invocation after some ECR calls reached the service, reported as Lambda.Unknown', async () => {
    // Prepare
    const step = fiveWrites('always', false);
    const machine = step.machine(new CrashInjector({ rate: 1, seed: 7, maxCallsBeforeCrash: 3 }));

    // Act
    const execution = await machine.start({});
    step.ecr.destroy();

    // Assess: between 1 and 3 repositories exist, the code after the crash point never ran.
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('Lambda.Unknown');
    expect(execution.cause).toMatch(/Runtime exited with error/);
    const calls = createCalls('always');
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(3);
    expect(step.completed()).toBe(0);
    const markers = await s3.client.send(
      new ListObjectsV2Command({ Bucket: 'crash-bucket', Prefix: 'always/' }),
    );
    expect(markers.KeyCount ?? 0).toBe(0);
    expect(machine.metrics.crashes).toBe(1);
    expect(machine.metrics.invocationErrors['Lambda.Unknown']).toBe(1);
  });

  it('lets a Retry on Lambda.Unknown run the step again until an invocation survives', async () => {
    // Prepare: the first invocation crashes (rate 1 for one plan), later ones do not.
    const step = fiveWrites('retried', true);
    const machine = step.machine(
      new CrashInjector({ rate: 1, seed: 1, maxCallsBeforeCrash: 2, maxCrashes: 1 }),
    );

    // Act
    const execution = await machine.start({});
    step.ecr.destroy();

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(machine.metrics.invocations.Write).toBe(2);
    expect(step.completed()).toBe(1);
    // The crashed attempt's writes plus the five of the surviving one.
    expect(createCalls('retried')).toBeGreaterThan(5);
  });

  it("sends none of a timed-out invocation's SDK retries: a killed sandbox makes no more calls", async () => {
    // Prepare: the first CreateRepository answers a retryable 5xx after 300 ms, once; the SDK's own
    // retry of it (standard mode) would then succeed. The function's timeout is 100 ms, so the
    // invocation is dead before that first answer arrives.
    const fault = emulator.faults.add({
      operation: 'CreateRepository',
      times: 1,
      delayMs: 300,
      error: 'ServerException',
    });
    const step = fiveWrites('timed-out', false);
    const machine = new LocalStateMachine({
      definition: { StartAt: 'Write', States: { Write: lambdaTask('write', undefined, { Retry: [] }) } },
      s3: s3.client,
      timeScale: 0.001,
      lambdaHandlers: { Write: step.handler },
      lambdaTimeoutsMs: { Write: 100 },
    });

    // Act: run, then wait past the fault's answer and the SDK's back-off (at most 20 s in standard
    // mode, https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html; the first
    // retry waits under a second) for a retry that must not come.
    const execution = await machine.start({});
    await new Promise((resolve) => setTimeout(resolve, 2000));
    step.ecr.destroy();
    fault.remove();

    // Assess: one attempt reached the emulator, no repository was created, the step never finished.
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('Sandbox.Timedout');
    expect(createCalls('timed-out')).toBe(1);
    expect(step.completed()).toBe(0);
  });

  it('plans the same crashes for the same seed', () => {
    // Prepare
    const a = new CrashInjector({ rate: 0.3, seed: 42 });
    const b = new CrashInjector({ rate: 0.3, seed: 42 });

    // Act
    const plansA = Array.from({ length: 200 }, () => a.plan());
    const plansB = Array.from({ length: 200 }, () => b.plan());

    // Assess
    expect(plansA).toEqual(plansB);
    const crashing = plansA.filter((plan) => plan !== undefined).length;
    expect(crashing).toBeGreaterThan(30);
    expect(crashing).toBeLessThan(90);
  });
});
