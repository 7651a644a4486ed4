/**
 * FinishBatch's second look keeps the paced steps' time budget (functions/step-kit/work-budget.ts):
 * deployed, PromoteTags' share of the PutImage quota is 1/s, so a second look with hundreds of late
 * tags would outlast the 600 s function. Past its budget the second look starts no new put and
 * FinishBatch throws WorkRemaining with the whole batch's results, which its own retrier re-enters
 * (continuation.ts); the continued invocations finish the work without repeating a PutImage and report
 * every tag as the run's own (BACKFILLED).
 *
 * The Lambda Context's remaining time is driven by the destination puts made so far: each costs a
 * quarter of the invocation's 600 s, so an invocation's budget (a third of its time) is spent after
 * its second put.
 */
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { buildDockerImage } from '../../../local/ecr-emulator/index.ts';
import type { BatchResult, BatchState } from '../../../core/contracts/contracts.ts';
import { ERROR_NAMES } from '../../../core/errors/error-names.ts';
import {
  batchInput,
  batchState,
  DEST_SAME,
  harnessPerTest,
  putImageCalls,
  seedDestination,
  seedSource,
  tagsOf,
  workItem,
  type Harness,
} from './support/harness.ts';
import { childHandlers } from './support/pipeline.ts';

const freshHarness = harnessPerTest();
const TIMEOUT_MS = 600_000;
const TAGS = Array.from({ length: 24 }, (_, i) => `v${i}`);

/** A Lambda Context whose clock is the destination puts made since the invocation started. */
function invocationContext(h: Harness): Context {
  const before = putImageCalls(h, DEST_SAME.region);
  return {
    getRemainingTimeInMillis: () =>
      Math.max(0, TIMEOUT_MS - (TIMEOUT_MS / 4) * (putImageCalls(h, DEST_SAME.region) - before)),
  } as Context;
}

describe('FinishBatch keeps a time budget in its second look', () => {
  it('stops at its budget, continues from its record, and finishes every late tag once', async () => {
    // Prepare: replication lands after CheckReplication timed out, so every tag is left to the
    // second look (REPLICATION_TIMEOUT), with nothing put in the destination yet.
    const h = await freshHarness({ replicateTo: [DEST_SAME], replicationLatencyMs: 400 });
    // Another item of the batch has nothing left to do: the second look is not the whole batch.
    const image = buildDockerImage('late-many-tags');
    const done = buildDockerImage('nothing-to-do');
    seedSource(h, 'app/late', image, TAGS);
    seedSource(h, 'app/done', done, ['ok']);
    seedDestination(h, DEST_SAME, 'app/done', done, ['ok']);
    const handlers = childHandlers(h);
    let state: BatchState = batchState(batchInput({ strategy: 'promote', replicationTimeoutMinutes: 1 }), [
      workItem({ repository: 'app/late', image, tags: TAGS, destinations: [{ destination: DEST_SAME }] }),
      workItem({
        repository: 'app/done',
        image: done,
        tags: ['ok'],
        destinations: [{ destination: DEST_SAME, tags: [], digestPresent: true }],
      }),
    ]);
    state = (await handlers.PushTempTags(state)) as BatchState;
    h.clock.offsetMs = 61_000;
    state = (await handlers.CheckReplication(state)) as BatchState;
    state = (await handlers.PromoteTags(state)) as BatchState;
    state = (await handlers.VerifyDigests(state)) as BatchState;
    state = (await handlers.CleanupTempTags(state)) as BatchState;
    expect(new Set(Object.values(state.results![0]!.destinations[0]!.tags))).toEqual(
      new Set(['REPLICATION_TIMEOUT']),
    );
    expect(state.results![1]!.destinations[0]!.tags).toEqual({});
    await h.emulator.whenReplicationIdle();
    const putsBefore = putImageCalls(h, DEST_SAME.region);

    // Act: Step Functions' WorkRemaining retrier re-sends the same input to a new invocation.
    let finished: BatchResult | undefined;
    const putsPerInvocation: number[] = [];
    while (!finished) {
      const before = putImageCalls(h, DEST_SAME.region);
      try {
        finished = (await handlers.FinishBatch(structuredClone(state), invocationContext(h))) as BatchResult;
      } catch (error) {
        expect((error as Error).name).toBe(ERROR_NAMES.WorkRemaining);
      }
      putsPerInvocation.push(putImageCalls(h, DEST_SAME.region) - before);
      expect(putsPerInvocation.length, 'FinishBatch does not converge').toBeLessThan(TAGS.length);
    }

    // Assess: continued several times, each invocation stopping short of the whole second look
    // (at most one window of puts in flight past the budget); every tag put once, reported BACKFILLED.
    expect(putsPerInvocation.length, putsPerInvocation.join(', ')).toBeGreaterThanOrEqual(3);
    for (const puts of putsPerInvocation) expect(puts).toBeLessThan(TAGS.length / 2);
    expect(putImageCalls(h, DEST_SAME.region) - putsBefore).toBe(TAGS.length);
    expect(finished.counts).toEqual({ BACKFILLED: TAGS.length });
    for (const tag of TAGS) expect(tagsOf(h, DEST_SAME, 'app/late').get(tag)).toBe(image.digest);
  });
});
