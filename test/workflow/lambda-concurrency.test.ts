/**
 * Children queue at the batch steps' reserved concurrency: the local runner throttles an invoke
 * beyond a function's ReservedConcurrentExecutions with Lambda.TooManyRequestsException, as Lambda
 * does, and the state machine's queue retrier (statemachine/retry-policies.ts, LAMBDA_QUEUE) waits
 * for a slot instead of failing the child.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_DEPLOYMENT } from '../../local/runner/defaults.ts';
import { runBackfillLocally } from '../../local/runner/run-backfill.ts';
import { synthesizeBackfillStack } from '../../local/synth/synth.ts';
import { generatedRegistry, SEOUL, SOURCE_ACCOUNT, SOURCE_REGION } from '../support/world.ts';
import {
  expectedDestinationTags,
  missingDestinationTags,
  startWorld,
  tempTagsAnywhere,
  type World,
} from './helpers.ts';

const SOURCE = { account: SOURCE_ACCOUNT, region: SOURCE_REGION };
const CHILDREN = 8;

describe('children beyond the reserved pushers', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('queue for the one pusher and all succeed: more children than pushers, none fails', async () => {
    // Prepare: one pusher and two slots for the other batch steps, eight children at once, and ECR
    // calls of 15 ms so that each push holds its slot long enough for the others to be throttled.
    const template = synthesizeBackfillStack({
      backfill: {
        ...LOCAL_DEPLOYMENT,
        concurrentPushers: 1,
        batchStepReservedConcurrency: 2,
        maxConcurrencyLimit: CHILDREN,
      },
    });
    world = await startWorld(
      generatedRegistry({
        destinations: [{ account: SOURCE_ACCOUNT, region: SEOUL }],
        repositories: 2,
        imagesPerRepository: CHILDREN / 2,
        seed: 'queue',
        tags: (r, i) => [`v${i}`, `build-${r}-${i}`],
      }),
      { apiLatencyMs: 15 },
    );
    const expected = expectedDestinationTags(world.emulator.snapshot(), SOURCE);

    // Act
    const result = await runBackfillLocally({
      ecrEndpoint: world.emulator.endpoint,
      s3: world.s3,
      sourceRegion: SOURCE_REGION,
      account: SOURCE_ACCOUNT,
      template,
      putImageRatePerSecond: 1000,
      // The queue retrier is sized for the 7 children ahead each holding the one pusher up to the
      // function's timeout (600 s): delays spanning 2 x 7 x 600 s, half of it expected with full
      // jitter. The runner scales retry delays by timeScale but invocations run in real time: at the
      // default 0.001 that is about 4 s of real waiting, which a loaded machine's pushes outlast; at
      // 0.01, about 42 s.
      timeScale: 0.01,
      input: { method: 'repush', batchSize: 1, maxConcurrency: CHILDREN },
    });
    await world.emulator.whenReplicationIdle();
    const after = world.emulator.snapshot();

    // Assess: Lambda throttled the children's invokes, and they waited instead of failing.
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(result.redrives).toBe(0);
    const backfill = result.execution.mapRuns.find((run) => run.stateName === 'BackfillImages');
    expect(backfill?.children).toHaveLength(CHILDREN);
    expect(result.metrics.throttles.PushTempTags ?? 0).toBeGreaterThan(0);
    expect(missingDestinationTags(after, expected)).toEqual([]);
    expect(tempTagsAnywhere(after)).toEqual([]);
  }, 240_000);
});
