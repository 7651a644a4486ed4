/**
 * The progress record every child step writes for its batch (core/run-files/batch-progress.ts):
 * it moves within one batch — images replicated as the polls see them, tags delivered once promoted —
 * and a write that fails never fails the step.
 */
import { describe, expect, it } from 'vitest';
import { buildDockerImage } from '../../../local/ecr-emulator/index.ts';
import {
  BatchProgressSchema,
  batchIdOf,
  throttledProgress,
  type BatchProgress,
} from '../../../core/run-files/batch-progress.ts';
import type { BatchState } from '../../../core/contracts/contracts.ts';
import { runKeys } from '../../../core/run-files/run-layout.ts';
import { getJson } from '../../../core/run-files/run-store.ts';
import { createPushTempTagsHandler } from '../../../functions/push-temp-tags/handler.ts';
import {
  batchInput,
  batchState,
  DEST_OTHER,
  DEST_SAME,
  harnessPerTest,
  RUN_BUCKET,
  seedSource,
  workItem,
  type Harness,
} from './support/harness.ts';
import { childHandlers } from './support/pipeline.ts';

const freshHarness = harnessPerTest();

const key = (d: { registryId: string; region: string }) => `${d.registryId}/${d.region}`;

async function progressOf(h: Harness, state: BatchState): Promise<BatchProgress> {
  const where = runKeys(state.BatchInput.runPrefix).batchProgress(batchIdOf(state.Items));
  return getJson(h.deps.runStore, RUN_BUCKET, where, BatchProgressSchema);
}

describe('batch progress records', () => {
  it('move within one batch: pushed, then one of two images replicated (a poll), then every tag delivered', async () => {
    // Prepare: replication never lands by itself; the test lands it with flush().
    const h = await freshHarness({ replicationLatencyMs: 3_600_000 });
    const early = buildDockerImage('progress-early');
    const late = buildDockerImage('progress-late');
    seedSource(h, 'app/early', early, ['v1', 'v2']);
    seedSource(h, 'app/late', late, ['v1']);
    const input = batchInput({ strategy: 'promote' });
    const items = [
      workItem({ repository: 'app/early', image: early, tags: ['v1', 'v2'] }),
      workItem({ repository: 'app/late', image: late, tags: ['v1'] }),
    ];
    const state = batchState(input, items);
    const steps = childHandlers(h);
    // The early image was pushed (by an earlier attempt) and has replicated; the late one has not.
    await createPushTempTagsHandler(h.deps)(batchState(input, [items[0]!]));
    h.emulator.replication.flush();

    // Act 1: the batch's push.
    const pushed = (await steps.PushTempTags(structuredClone(state))) as BatchState;
    const afterPush = await progressOf(h, state);
    // Act 2: a poll that finds one image there, one still on its way.
    const poll = await steps.CheckReplication(structuredClone(pushed)).catch((error: unknown) => error);
    const afterPoll = await progressOf(h, state);

    // Assess
    expect((poll as Error).name).toBe('ReplicationPending');
    expect(afterPush.phase).toBe('waiting for replication');
    expect(afterPush.images).toBe(2);
    for (const destination of [DEST_SAME, DEST_OTHER]) {
      expect(afterPush.destinations[key(destination)]).toEqual({
        plannedTags: 3,
        deliveredTags: 0,
        skippedTags: 0,
        failedTags: 0,
        plannedImages: 2,
        replicatedImages: 0,
      });
      expect(afterPoll.destinations[key(destination)]?.replicatedImages).toBe(1);
      expect(afterPoll.destinations[key(destination)]?.deliveredTags).toBe(0);
    }
    expect(afterPoll.phase).toBe('waiting for replication');

    // Act 3: the rest lands; the batch promotes.
    h.emulator.replication.flush();
    const checked = (await steps.CheckReplication(structuredClone(pushed))) as BatchState;
    await steps.PromoteTags(structuredClone(checked));
    const afterPromote = await progressOf(h, state);

    // Assess
    expect(afterPromote.phase).toBe('verifying');
    for (const destination of [DEST_SAME, DEST_OTHER]) {
      expect(afterPromote.destinations[key(destination)]).toMatchObject({
        plannedTags: 3,
        deliveredTags: 3,
        replicatedImages: 2,
      });
    }
  });

  it('a progress write that fails does not fail the step', async () => {
    // Prepare: a run bucket that does not exist, so every PutObject fails.
    const h = await freshHarness();
    const image = buildDockerImage('progress-no-bucket');
    seedSource(h, 'app/nobucket', image, ['v1']);
    const state = batchState({ ...batchInput({ strategy: 'promote' }), bucket: 'no-such-bucket' }, [
      workItem({ repository: 'app/nobucket', image, tags: ['v1'] }),
    ]);

    // Act
    const pushed = (await childHandlers(h).PushTempTags(structuredClone(state))) as BatchState;

    // Assess
    expect(pushed.results?.[0]?.pushedAt).toBeGreaterThan(0);
  });

  it('mid-step records are throttled by time, not by the number of tags', async () => {
    // Prepare
    let now = 0;
    const written: number[] = [];
    const progress = throttledProgress(
      (results) => {
        written.push(results.length);
        return Promise.resolve();
      },
      { now: () => now },
      2_000,
    );

    // Act: 100 calls (one per promoted item) over 5 seconds.
    for (let call = 1; call <= 100; call++) {
      now = call * 50;
      await progress(new Array<never>(call));
    }

    // Assess: at 2 s and 4 s only.
    expect(written).toEqual([40, 80]);
  });
});
