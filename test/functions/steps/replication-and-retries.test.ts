/**
 * Replication that fails, lags or times out, FinishBatch's second look and its ItemsFailed cause, and
 * a transient ECR error on one item of a batch.
 */
import { describe, expect, it } from 'vitest';
import { buildDockerImage } from '../../../local/ecr-emulator/index.ts';
import type { BatchResult, BatchState, Strategy } from '../../../core/contracts/contracts.ts';
import {
  batchInput,
  batchState,
  DEST_OTHER,
  DEST_SAME,
  DESTINATIONS,
  harnessPerTest,
  putImageCalls,
  seedSource,
  SOURCE,
  SOURCE_REGION,
  tagsOf,
  workItem,
} from './support/harness.ts';
import { registryTags, tempTagsIn } from './support/invariants.ts';
import { childHandlers, runPipeline } from './support/pipeline.ts';

const freshHarness = harnessPerTest();

const STRATEGIES: Strategy[] = ['promote', 'retag-source'];

describe.each(STRATEGIES)('strategy %s', (strategy) => {
  it('fails the batch with ItemsFailed naming ECR’s failure code when replication to a destination fails, and finishes the rest', async () => {
    // Prepare
    const h = await freshHarness();
    const broken = buildDockerImage('replication-broken');
    const fine = buildDockerImage('replication-fine');
    seedSource(h, 'app/broken', broken, ['v1']);
    seedSource(h, 'app/fine', fine, ['v1']);
    h.emulator.replication.fail({
      repository: 'app/broken',
      destinationRegion: DEST_OTHER.region,
      failureCode: 'KMS_ACCESS_DENIED',
    });
    const state = batchState(batchInput({ strategy }), [
      workItem({ repository: 'app/broken', image: broken, tags: ['v1'] }),
      workItem({ repository: 'app/fine', image: fine, tags: ['v1'] }),
    ]);

    // Act
    const run = await runPipeline(h, state);

    // Assess
    expect(run.error?.name).toBe('ItemsFailed');
    const cause = JSON.parse(run.error!.message) as {
      runId: string;
      failed: unknown[];
      results: BatchResult['results'];
    };
    expect(cause.runId).toBe(state.BatchInput.runId);
    expect(cause.failed).toEqual([
      {
        repositoryName: 'app/broken',
        imageDigest: broken.digest,
        destination: `${DEST_OTHER.registryId}/${DEST_OTHER.region}`,
        tag: 'v1',
        outcome: 'REPLICATION_FAILED',
        failureCode: 'KMS_ACCESS_DENIED',
      },
    ]);
    expect(cause.results[1]!.destinations.map((d) => d.tags)).toEqual([
      { v1: 'BACKFILLED' },
      { v1: 'BACKFILLED' },
    ]);
    for (const destination of DESTINATIONS)
      expect(tagsOf(h, destination, 'app/fine').get('v1')).toBe(fine.digest);
    expect(tagsOf(h, DEST_SAME, 'app/broken').get('v1')).toBe(broken.digest);
    expect(tempTagsIn(registryTags(h, DEST_SAME))).toEqual([]);
  });

  it('polls with ReplicationPending until the timeout, then records REPLICATION_TIMEOUT; FinishBatch completes it once replication lands late', async () => {
    // Prepare: replication takes 400 ms; the test's clock jumps past the timeout.
    const h = await freshHarness({ replicationLatencyMs: 400 });
    const image = buildDockerImage('late');
    seedSource(h, 'app/late', image, ['v1']);
    const handlers = childHandlers(h);
    let state = batchState(batchInput({ strategy, replicationTimeoutMinutes: 1 }), [
      workItem({ repository: 'app/late', image, tags: ['v1'] }),
    ]);
    state = (await handlers.PushTempTags(state)) as BatchState;
    if (strategy === 'retag-source') state = (await handlers.RetagSourceTags(state)) as BatchState;

    // Act 1: still replicating, within the timeout → the poll's error, nothing recorded.
    const pending = handlers.CheckReplication(structuredClone(state));
    // Act 2: past the timeout → recorded as REPLICATION_TIMEOUT.
    await expect(pending).rejects.toMatchObject({ name: 'ReplicationPending' });
    h.clock.offsetMs = 61_000;
    const timedOut = (await handlers.CheckReplication(structuredClone(state))) as BatchState;
    expect(timedOut.results![0]!.destinations.map((d) => [d.replication, d.tags.v1])).toEqual([
      ['TIMEOUT', 'REPLICATION_TIMEOUT'],
      ['TIMEOUT', 'REPLICATION_TIMEOUT'],
    ]);
    let rest = timedOut;
    if (strategy === 'promote') rest = (await handlers.PromoteTags(rest)) as BatchState;
    rest = (await handlers.VerifyDigests(rest)) as BatchState;
    rest = (await handlers.CleanupTempTags(rest)) as BatchState;
    // The source temp tag stays while replication is unconfirmed.
    expect(tempTagsIn(registryTags(h, SOURCE))).toHaveLength(1);
    // Act 3: replication lands; FinishBatch (or its redrive) takes its second look.
    await h.emulator.whenReplicationIdle();
    const finished = (await handlers.FinishBatch(rest)) as BatchResult;

    // Assess
    expect(finished.results[0]!.destinations.map((d) => [d.replication, d.tags.v1])).toEqual([
      ['COMPLETE', 'BACKFILLED'],
      ['COMPLETE', 'BACKFILLED'],
    ]);
    expect(finished.counts).toEqual({ BACKFILLED: 2 });
    for (const destination of DESTINATIONS) {
      expect(tagsOf(h, destination, 'app/late').get('v1')).toBe(image.digest);
      expect(tempTagsIn(registryTags(h, destination))).toEqual([]);
    }
    expect(tempTagsIn(registryTags(h, SOURCE))).toEqual([]);
  });

  it('finishes the other items when one hits throttling, then throws Throttled; the retry redoes only what is left', async () => {
    // Prepare: PutImage of `app/t2` is throttled twice (the SDK's own second attempt included).
    const h = await freshHarness();
    const images = ['t1', 't2', 't3'].map((name) => ({ name, image: buildDockerImage(`throttle-${name}`) }));
    for (const { name, image } of images) seedSource(h, `app/${name}`, image, ['v1']);
    h.emulator.faults.add({
      operation: 'PutImage',
      repository: 'app/t2',
      error: 'ThrottlingException',
      times: 2,
    });
    const handlers = childHandlers(h);
    const state = batchState(
      batchInput({ strategy }),
      images.map(({ name, image }) => workItem({ repository: `app/${name}`, image, tags: ['v1'] })),
    );

    // Act
    const first = handlers.PushTempTags(structuredClone(state));
    await expect(first).rejects.toMatchObject({ name: 'Throttled' });
    const pushed = () =>
      h.emulator.callLog.count({ operation: 'PutImage', region: SOURCE_REGION, outcome: 'ok' });
    const pushedFirst = pushed();
    const retried = (await handlers.PushTempTags(structuredClone(state))) as BatchState;

    // Assess: t1 and t3 pushed despite t2's throttling; the retry pushes t2 only.
    expect(pushedFirst).toBe(2);
    expect(pushed()).toBe(3);
    expect(putImageCalls(h, SOURCE_REGION)).toBe(5);
    expect(retried.results!.every((r) => r.pushedAt !== undefined)).toBe(true);
    const run = await runPipeline(h, retried);
    expect(run.error).toBeUndefined();
  });
});
