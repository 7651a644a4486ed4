/**
 * Branches of single steps that the end-to-end flows do not reach on their own: races with other
 * writers (staged through the emulator's fault hooks, which run just before a call takes effect),
 * retag journal failures, cleanup next to an image's last tag, malformed input, failure causes.
 */
import { describe, expect, it } from 'vitest';
import { buildDockerImage } from '../../../local/ecr-emulator/index.ts';
import type { BatchState, ItemResult } from '../../../core/contracts/contracts.ts';
import { createCheckReplicationHandler } from '../../../functions/check-replication/handler.ts';
import { failureMessage, type FailedTag } from '../../../functions/finish-batch/finish-batch.ts';
import { createPushTempTagsHandler } from '../../../functions/push-temp-tags/handler.ts';
import type { RetagJournal, RetagJournalEntry } from '../../../functions/retag-source-tags/journal.ts';
import { retagSourceTagsWithEvents } from '../../../functions/retag-source-tags/retag-source-tags.ts';
import { createStepContext } from '../../../functions/step-kit/step-context.ts';
import { tempTagFor } from '../../../core/ecr/temp-tags.ts';
import {
  batchInput,
  batchState,
  DEST_OTHER,
  DEST_SAME,
  type Harness,
  harnessPerTest,
  seedDestination,
  seedSource,
  SOURCE,
  SOURCE_ACCOUNT,
  SOURCE_REGION,
  tagsOf,
  TEMP_TAG_PREFIX,
  workItem,
} from './support/harness.ts';
import { registryTags, SourceWatch, tempTagsIn } from './support/invariants.ts';
import { childHandlers, runPipeline } from './support/pipeline.ts';

const freshHarness = harnessPerTest();

/** A journal in memory whose writes can be made to fail. */
class MemoryJournal implements RetagJournal {
  readonly entries = new Map<string, RetagJournalEntry>();
  failDeletedPhase = false;
  get(repositoryName: string, imageDigest: string, tag: string): Promise<RetagJournalEntry | undefined> {
    return Promise.resolve(this.entries.get(`${repositoryName}@${imageDigest}:${tag}`));
  }
  put(repositoryName: string, imageDigest: string, tag: string, entry: RetagJournalEntry): Promise<void> {
    if (this.failDeletedPhase && entry.phase === 'deleted')
      return Promise.reject(new Error('S3 unavailable'));
    this.entries.set(`${repositoryName}@${imageDigest}:${tag}`, entry);
    return Promise.resolve();
  }
}

describe('PromoteTags against other writers', () => {
  it('classifies an immutable destination tag set by someone between its read and the put (ImageTagAlreadyExists)', async () => {
    // Prepare: DEST_SAME is IMMUTABLE; someone sets v1 (theirs) there just before our PutImage lands.
    const h = await freshHarness({ replicateTo: [DEST_SAME] });
    const image = buildDockerImage('race-immutable');
    const theirs = buildDockerImage('race-theirs');
    seedSource(h, 'app/race', image, ['v1']);
    h.emulator.world.createRepository(DEST_SAME.registryId, DEST_SAME.region, 'app/race', {
      imageTagMutability: 'IMMUTABLE',
    });
    h.emulator.faults.add({
      operation: 'PutImage',
      region: DEST_SAME.region,
      match: (call) => {
        if (call.input.imageTag === 'v1') seedDestination(h, DEST_SAME, 'app/race', theirs, ['v1']);
        return false;
      },
    });
    const item = workItem({
      repository: 'app/race',
      image,
      tags: ['v1'],
      destinations: [{ destination: DEST_SAME }],
    });

    // Act
    const run = await runPipeline(h, batchState(batchInput({ strategy: 'promote' }), [item]));

    // Assess
    expect(run.error).toBeUndefined();
    expect(run.result!.results[0]!.destinations[0]!.tags).toEqual({ v1: 'CONFLICT' });
    expect(tagsOf(h, DEST_SAME, 'app/race').get('v1')).toBe(theirs.digest);
  });
});

describe('RetagSourceTags safety', () => {
  async function pushed(strategyHarness: Harness, repository: string, tags: string[]) {
    const image = buildDockerImage(`retag-${repository}`);
    seedSource(strategyHarness, repository, image, tags);
    const state = batchState(batchInput({ strategy: 'retag-source' }), [
      workItem({ repository, image, tags }),
    ]);
    const after = await createPushTempTagsHandler(strategyHarness.deps)(state);
    return { image, state: after };
  }

  it('never recreates a source tag someone else deleted (no journal entry): SOURCE_GONE', async () => {
    // Prepare
    const h = await freshHarness();
    const { image, state } = await pushed(h, 'app/deleted', ['v1', 'v2']);
    const repository = h.emulator.world.requireRepository(SOURCE_ACCOUNT, SOURCE_REGION, 'app/deleted');
    h.emulator.world.removeTag(repository, 'v1');
    const ctx = createStepContext('RetagSourceTags', h.deps, state.BatchInput, h.deps.logger);

    // Act
    const { state: after, events } = await retagSourceTagsWithEvents(ctx, state, new MemoryJournal());

    // Assess
    expect(events.map((e) => [e.tag, e.action])).toEqual([
      ['v1', 'source-gone'],
      ['v2', 'retagged'],
    ]);
    expect(tagsOf(h, SOURCE, 'app/deleted').has('v1')).toBe(false);
    expect(tagsOf(h, SOURCE, 'app/deleted').get('v2')).toBe(image.digest);
    expect(after.results![0]!.destinations.map((d) => d.tags.v1)).toEqual(['SOURCE_GONE', 'SOURCE_GONE']);
  });

  it('puts the tag back even when the journal cannot be written after the delete', async () => {
    // Prepare
    const h = await freshHarness();
    const { image, state } = await pushed(h, 'app/journal-down', ['v1']);
    const journal = new MemoryJournal();
    journal.failDeletedPhase = true;
    const ctx = createStepContext('RetagSourceTags', h.deps, state.BatchInput, h.deps.logger);

    // Act
    const { events } = await retagSourceTagsWithEvents(ctx, state, journal);

    // Assess
    expect(events.map((e) => e.action)).toEqual(['retagged']);
    expect(tagsOf(h, SOURCE, 'app/journal-down').get('v1')).toBe(image.digest);
  });

  it('restores a missing temp tag before deleting anything, so the image always keeps a tag', async () => {
    // Prepare: someone removed our temp tag after PushTempTags; v1 is the image's only other tag.
    const h = await freshHarness();
    const { image, state } = await pushed(h, 'app/no-temp', ['v1']);
    const repository = h.emulator.world.requireRepository(SOURCE_ACCOUNT, SOURCE_REGION, 'app/no-temp');
    h.emulator.world.removeTag(repository, state.results![0]!.tempTag);
    const watch = new SourceWatch(h);
    const ctx = createStepContext('RetagSourceTags', h.deps, state.BatchInput, h.deps.logger);

    // Act
    const { events } = await retagSourceTagsWithEvents(ctx, state, new MemoryJournal());

    // Assess
    expect(events.map((e) => e.action)).toEqual(['retagged']);
    expect(watch.deletedImages).toEqual([]);
    expect(tagsOf(h, SOURCE, 'app/no-temp').get('v1')).toBe(image.digest);
    expect(tagsOf(h, SOURCE, 'app/no-temp').get(state.results![0]!.tempTag)).toBe(image.digest);
    watch.close();
  });

  it('does nothing under strategy promote', async () => {
    const h = await freshHarness();
    const image = buildDockerImage('not-retag');
    seedSource(h, 'app/promote', image, ['v1']);
    const state = batchState(batchInput({ strategy: 'promote' }), [
      workItem({ repository: 'app/promote', image, tags: ['v1'] }),
    ]);
    const after = (await childHandlers(h).RetagSourceTags(state)) as BatchState;
    expect(after.results![0]!.destinations.map((d) => d.tags)).toEqual([
      { v1: 'PENDING' },
      { v1: 'PENDING' },
    ]);
    expect(h.emulator.callLog.size).toBe(0);
  });
});

describe('CleanupTempTags', () => {
  it('keeps the source temp tag when it has become the image’s last tag, so the image is not deleted', async () => {
    // Prepare: after replication, someone deletes the image's only original tag in the source.
    const h = await freshHarness();
    const image = buildDockerImage('last-tag');
    seedSource(h, 'app/last', image, ['v1']);
    const input = batchInput({ strategy: 'promote' });

    // Act
    const run = await runPipeline(
      h,
      batchState(input, [workItem({ repository: 'app/last', image, tags: ['v1'] })]),
      {
        beforeStep: (step) => {
          if (step !== 'CleanupTempTags') return;
          const repository = h.emulator.world.requireRepository(SOURCE_ACCOUNT, SOURCE_REGION, 'app/last');
          h.emulator.world.removeTag(repository, 'v1');
        },
      },
    );

    // Assess
    expect(run.error).toBeUndefined();
    expect(h.emulator.world.getImage(SOURCE_ACCOUNT, SOURCE_REGION, 'app/last', image.digest)).toBeDefined();
    expect(tempTagsIn(registryTags(h, SOURCE))).toEqual([
      `app/last:${tempTagFor(TEMP_TAG_PREFIX, input.runId, image.digest)}`,
    ]);
    // In the destinations the image kept v1, so the temp tag went.
    expect(tempTagsIn(registryTags(h, DEST_SAME))).toEqual([]);
    expect(tempTagsIn(registryTags(h, DEST_OTHER))).toEqual([]);
  });
});

describe('CheckReplication', () => {
  it('does not trust a COMPLETE status alone: the digest must be readable in the destination', async () => {
    // Prepare: replication completes, then the copy disappears from DEST_SAME.
    const h = await freshHarness({ replicateTo: [DEST_SAME] });
    const image = buildDockerImage('status-only');
    seedSource(h, 'app/status', image, ['v1']);
    const state = batchState(batchInput({ strategy: 'promote', replicationTimeoutMinutes: 5 }), [
      workItem({ repository: 'app/status', image, tags: ['v1'], destinations: [{ destination: DEST_SAME }] }),
    ]);
    const after = await createPushTempTagsHandler(h.deps)(state);
    await h.emulator.whenReplicationIdle();
    const copy = h.emulator.world.requireRepository(DEST_SAME.registryId, DEST_SAME.region, 'app/status');
    h.emulator.world.deleteImage(copy, image.digest);
    const check = createCheckReplicationHandler(h.deps);

    // Act + Assess
    await expect(check(structuredClone(after))).rejects.toMatchObject({ name: 'ReplicationPending' });
    h.clock.offsetMs = 5 * 60_000;
    const timedOut = await check(structuredClone(after));
    expect(timedOut.results![0]!.destinations[0]).toMatchObject({
      replication: 'TIMEOUT',
      tags: { v1: 'REPLICATION_TIMEOUT' },
    });
  });
});

describe('step input', () => {
  it('rejects a malformed BatchState with InvalidInput, naming the fields, before any call', async () => {
    const h = await freshHarness();
    const handler = createPushTempTagsHandler(h.deps);
    await expect(handler({ BatchInput: { runId: 'x' }, Items: 'nope' })).rejects.toMatchObject({
      name: 'InvalidInput',
      message: expect.stringContaining('Items') as unknown,
    });
    expect(h.emulator.callLog.size).toBe(0);
  });
});

describe('failureMessage (the ItemsFailed cause)', () => {
  const failed = (n: number): FailedTag[] =>
    Array.from({ length: n }, (_, i) => ({
      repositoryName: `repo/${i}`,
      imageDigest: `sha256:${String(i).padStart(64, '0')}`,
      destination: '222222222222/us-west-2',
      tag: `tag-${i}`,
      outcome: 'REPLICATION_FAILED' as const,
      failureCode: 'X',
    }));
  const results: ItemResult[] = [];

  it('carries the run id, the failed tags and the results when they fit', () => {
    const message = failureMessage('run-1', failed(2), results);
    expect(JSON.parse(message)).toEqual({ runId: 'run-1', failed: failed(2), results });
  });

  it('stays within the limit by dropping the results, then cutting the list and counting what it cut', () => {
    const message = failureMessage('run-1', failed(2000), results, 32_000);
    const parsed = JSON.parse(message) as { failed: FailedTag[]; truncated: number; resultsOmitted: boolean };
    expect(message.length).toBeLessThanOrEqual(32_000);
    expect(parsed.resultsOmitted).toBe(true);
    expect(parsed.failed.length + parsed.truncated).toBe(2000);
    expect(parsed.failed[0]).toEqual(failed(1)[0]);
  });
});
