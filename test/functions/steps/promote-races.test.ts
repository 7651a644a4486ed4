/**
 * PromoteTags against writers racing it. ECR has no conditional put, so the step narrows the gap:
 * it waits for its PutImage token first, then re-reads the source tag and the destination tag, then
 * puts. A write landing after the batch reads but before those last checks must win.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDockerImage } from '../../../local/ecr-emulator/index.ts';
import {
  batchInput,
  batchState,
  DEST_OTHER,
  DEST_SAME,
  harnessPerTest,
  seedDestination,
  seedSource,
  SOURCE,
  SOURCE_ACCOUNT,
  SOURCE_REGION,
  startHarness,
  tagsOf,
  workItem,
  type Harness,
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

/**
 * Invariant 3 across PromoteTags' read-to-write window (core/ecr/read-window.ts): a third
 * party pushes a newer digest to a tag after the k-th ECR call of the step, for every k from before
 * the first read to after the last write, with replication of that push both faster than the window
 * (5 ms: it can land before our put, which the post-put re-read must repair) and slower (1.5 s: our
 * put lands first and the push's replication overwrites it). Whatever k, the tag ends at the newer
 * digest in the source and in the destination, and the other tags at ours.
 */
describe('invariant 3: a push landing anywhere in the read-to-write window wins', () => {
  const TAGS = ['a', 'b', 'c', 'd'];
  let runs = 0;

  async function backfillWithPush(
    h: Harness,
    moved: string,
    pushAfterCall: number | undefined,
  ): Promise<{ repository: string; operations: string[]; outcome: string | undefined; newer: string }> {
    runs += 1;
    const repository = `r${runs}/app/window`;
    const ours = buildDockerImage(`window-ours-${runs}`);
    const newer = buildDockerImage(`window-newer-${runs}`);
    seedSource(h, repository, ours, TAGS);
    seedSource(h, repository, newer, []);
    seedDestination(h, DEST_SAME, repository, ours, []);
    const sourceRepository = h.emulator.world.requireRepository(SOURCE_ACCOUNT, SOURCE_REGION, repository);
    // A push as ECR records it: the tag moves, and replication of the push is scheduled.
    const push = () => {
      h.emulator.world.setTag(sourceRepository, moved, newer.digest);
      h.emulator.replicationEngine.onPush(sourceRepository, newer.digest, moved);
    };
    const operations: string[] = [];
    let unsubscribe = () => {};
    const item = workItem({
      repository,
      image: ours,
      tags: TAGS,
      destinations: [{ destination: DEST_SAME }],
    });
    const run = await runPipeline(h, batchState(batchInput({ strategy: 'promote' }), [item]), {
      beforeStep: (step) => {
        unsubscribe();
        if (step !== 'PromoteTags') return;
        if (pushAfterCall === 0) push();
        unsubscribe = h.emulator.callLog.subscribe((entry) => {
          if (entry.params.repositoryName !== repository) return;
          operations.push(`${entry.operation}@${entry.region}`);
          if (operations.length === pushAfterCall) push();
        });
      },
    });
    unsubscribe();
    await h.emulator.whenReplicationIdle();
    expect(run.error).toBeUndefined();
    return {
      repository,
      operations,
      outcome: run.result!.results[0]!.destinations[0]!.tags[moved],
      newer: newer.digest,
    };
  }

  for (const replicationLatencyMs of [5, 1500]) {
    describe(`replication of the push takes ${replicationLatencyMs} ms`, () => {
      let h: Harness;
      beforeAll(async () => {
        h = await startHarness({ replicateTo: [DEST_SAME], replicationLatencyMs });
      });
      afterAll(() => h.close());

      it.each(['a', 'd'])('tag %s: the newer digest wins after every call of PromoteTags', async (moved) => {
        // Prepare: the uninterrupted run's calls in PromoteTags (reads, then one put per tag).
        const reference = await backfillWithPush(h, moved, undefined);
        expect(reference.operations.filter((op) => op.startsWith('PutImage'))).toHaveLength(TAGS.length);

        for (let k = 0; k <= reference.operations.length; k += 1) {
          // Act
          const run = await backfillWithPush(h, moved, k);

          // Assess
          const where = `push after call ${k} of ${reference.operations.length} (${run.operations.join(', ')})`;
          expect(tagsOf(h, SOURCE, run.repository).get(moved), where).toBe(run.newer);
          expect(tagsOf(h, DEST_SAME, run.repository).get(moved), where).toBe(run.newer);
          for (const tag of TAGS.filter((t) => t !== moved)) {
            expect(tagsOf(h, DEST_SAME, run.repository).get(tag), where).toBe(
              tagsOf(h, SOURCE, run.repository).get(tag),
            );
          }
          // Labelled MOVED, or CONFLICT when the push's replication reached the destination before our read.
          expect(['MOVED', 'BACKFILLED', 'CONFLICT'], where).toContain(run.outcome);
        }
      });
    });
  }
});
