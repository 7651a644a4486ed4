/**
 * PromoteTags against writers racing it. ECR has no conditional put, so the step narrows the gap:
 * it waits for its PutImage token first, then re-reads the source tag and the destination tag, then
 * puts. A write landing after the batch reads but before those last checks must win.
 */
import { describe, expect, it } from 'vitest';
import { buildDockerImage } from '../../../local/ecr-emulator/index.ts';
import {
  batchInput,
  batchState,
  DEST_OTHER,
  DEST_SAME,
  harnessPerTest,
  seedDestination,
  seedSource,
  SOURCE_REGION,
  tagsOf,
  workItem,
} from './support/harness.ts';
import { runPipeline } from './support/pipeline.ts';

const freshHarness = harnessPerTest();

describe('PromoteTags racing other writers', () => {
  it('leaves a destination tag someone set after the batch reads, reporting CONFLICT', async () => {
    // Prepare: when PromoteTags makes its per-tag source check for the first destination, someone
    // sets `v1` there to their own image (after the step's batch read of that destination).
    const h = await freshHarness();
    const ours = buildDockerImage('race-ours');
    const theirs = buildDockerImage('race-theirs');
    seedSource(h, 'app/race', ours, ['v1']);
    let sourceReads = 0;
    let unsubscribe = () => {};

    // Act
    const run = await runPipeline(
      h,
      batchState(batchInput({ strategy: 'promote' }), [
        workItem({ repository: 'app/race', image: ours, tags: ['v1'] }),
      ]),
      {
        beforeStep: (step) => {
          if (step !== 'PromoteTags') return;
          unsubscribe = h.emulator.callLog.subscribe((entry) => {
            if (entry.operation !== 'BatchGetImage' || entry.region !== SOURCE_REGION) return;
            sourceReads += 1;
            // Read 1 is the batch read of the source tags, read 2 the last check before the put.
            if (sourceReads === 2) seedDestination(h, DEST_SAME, 'app/race', theirs, ['v1']);
          });
        },
      },
    );
    unsubscribe();

    // Assess
    expect(run.error).toBeUndefined();
    expect(sourceReads).toBeGreaterThanOrEqual(2);
    expect(tagsOf(h, DEST_SAME, 'app/race').get('v1')).toBe(theirs.digest);
    expect(tagsOf(h, DEST_OTHER, 'app/race').get('v1')).toBe(ours.digest);
    const [same, other] = run.result!.results[0]!.destinations;
    expect(same?.tags).toEqual({ v1: 'CONFLICT' });
    expect(other?.tags).toEqual({ v1: 'BACKFILLED' });
  });
});
