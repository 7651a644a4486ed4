/**
 * Owners' deletes win (docs/architecture.md §3.2 #11): a source image or tag its owner deletes while
 * the run goes is never re-created by the run, in the source or a destination.
 * Sections: PromoteTags, PushTempTags, RetagSourceTags (at the end of this file).
 *
 * PromoteTags: a source tag its owner deletes is never re-created in a destination by the run. ECR has no conditional put, so a
 * delete landing between the step's last read and its put is undone after the put (SOURCE_GONE).
 * The owner deletes after the k-th ECR call of the step, for every k up to the step's last source
 * read, with and without a replication rule that replicates deletes; replication is fast (5 ms:
 * the replayed delete can land before our put) or slower (300 ms: it lands after).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDockerImage } from '../../../local/ecr-emulator/index.ts';
import type { Strategy } from '../../../core/contracts/contracts.ts';
import {
  batchInput,
  batchState,
  DEST_OTHER,
  DEST_SAME,
  imageExists,
  seedDestination,
  seedSource,
  SOURCE,
  SOURCE_ACCOUNT,
  SOURCE_REGION,
  startHarness,
  tagsOf,
  workItem,
  type Harness,
  type RegistryLocation,
} from './support/harness.ts';
import { runPipeline, type CrashPlan } from './support/pipeline.ts';

const TAGS = ['a', 'b', 'c'];
const DELETED = 'b';

describe('PromoteTags: a source tag deleted anywhere in the read-to-write window is not re-created', () => {
  let runs = 0;

  async function backfillWithDelete(
    h: Harness,
    deleteAfterCall: number | undefined,
  ): Promise<{ repository: string; operations: string[]; outcome: string | undefined; ours: string }> {
    runs += 1;
    const repository = `d${runs}/app/deleted`;
    const ours = buildDockerImage(`deleted-ours-${runs}`);
    seedSource(h, repository, ours, TAGS);
    // The digest is there already (no temp tag): the copy's other tags keep it.
    seedDestination(h, DEST_SAME, repository, ours, ['keep']);
    const sourceRepository = h.emulator.world.requireRepository(SOURCE_ACCOUNT, SOURCE_REGION, repository);
    // A delete as ECR records it: the tag comes off, and a rule that replicates deletes replays it.
    const ownerDeletes = () => {
      h.emulator.world.removeTag(sourceRepository, DELETED);
      h.emulator.replicationEngine.onTagRemoved(sourceRepository, DELETED);
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
        if (deleteAfterCall === 0) ownerDeletes();
        unsubscribe = h.emulator.callLog.subscribe((entry) => {
          if (entry.params.repositoryName !== repository) return;
          operations.push(`${entry.operation}@${entry.region}`);
          if (operations.length === deleteAfterCall) ownerDeletes();
        });
      },
    });
    unsubscribe();
    await h.emulator.whenReplicationIdle();
    expect(run.error).toBeUndefined();
    return {
      repository,
      operations,
      outcome: run.result!.results[0]!.destinations[0]!.tags[DELETED],
      ours: ours.digest,
    };
  }

  for (const deleteReplication of [false, true]) {
    for (const replicationLatencyMs of [5, 300]) {
      describe(`${deleteReplication ? 'with' : 'without'} replication of deletes, ${replicationLatencyMs} ms`, () => {
        let h: Harness;
        beforeAll(async () => {
          h = await startHarness({ replicateTo: [DEST_SAME], replicationLatencyMs });
          for (const rule of h.emulator.world.registry(SOURCE_ACCOUNT, SOURCE_REGION).replicationConfiguration
            .rules)
            rule.deleteReplication = { enabled: deleteReplication };
        });
        afterAll(() => h.close());

        it('the deleted tag is absent from the destination after every call up to the last source read', async () => {
          // Prepare: the uninterrupted run's calls in PromoteTags (reads, one put per tag, the re-read).
          const reference = await backfillWithDelete(h, undefined);
          expect(reference.outcome).toBe('BACKFILLED');
          const lastSourceRead = reference.operations.lastIndexOf(`BatchGetImage@${SOURCE_REGION}`) + 1;
          expect(lastSourceRead).toBeGreaterThan(
            reference.operations.indexOf(`PutImage@${DEST_SAME.region}`),
          );

          for (let k = 0; k < lastSourceRead; k += 1) {
            // Act
            const run = await backfillWithDelete(h, k);

            // Assess
            const where = `delete after call ${k} of ${reference.operations.length} (${run.operations.join(', ')})`;
            expect(tagsOf(h, SOURCE, run.repository).has(DELETED), where).toBe(false);
            expect(tagsOf(h, DEST_SAME, run.repository).has(DELETED), where).toBe(false);
            expect(run.outcome, where).toBe('SOURCE_GONE');
            // Everything else is complete, and the copy that was there before stays.
            for (const tag of [...TAGS.filter((t) => t !== DELETED), 'keep'])
              expect(tagsOf(h, DEST_SAME, run.repository).get(tag), where).toBe(run.ours);
          }
        });
      });
    }
  }
});

/**
 * PushTempTags: the owner deletes a whole image after the k-th ECR call of the step, for every k
 * before its put (the read-to-write window). The put re-creates the image with only the temp tag
 * and sends it to every destination; the run finds that afterwards (a newer imagePushedAt) and, once
 * the copies have arrived, removes them and the re-created image. Another image of the batch is
 * backfilled completely.
 */
describe('PushTempTags: an image deleted anywhere in the read-to-write window is not re-created', () => {
  let runs = 0;

  async function backfillWithImageDelete(
    h: Harness,
    strategy: Strategy,
    deleteAfterCall: number | undefined,
  ) {
    runs += 1;
    const repository = `i${runs}/app/deleted`;
    const gone = buildDockerImage(`image-gone-${runs}`);
    const kept = buildDockerImage(`image-kept-${runs}`);
    seedSource(h, repository, gone, ['g1', 'g2']);
    seedSource(h, repository, kept, ['k1']);
    const sourceRepository = h.emulator.world.requireRepository(SOURCE_ACCOUNT, SOURCE_REGION, repository);
    const planned = (digest: string) => ({ imagePushedAt: sourceRepository.images.get(digest)!.pushedAt });
    const ownerDeletes = () => {
      h.emulator.world.deleteImage(sourceRepository, gone.digest);
      h.emulator.replicationEngine.onImageDeleted(sourceRepository, gone.digest);
    };
    const operations: string[] = [];
    let unsubscribe = () => {};
    const items = [
      { ...workItem({ repository, image: gone, tags: ['g1', 'g2'] }), ...planned(gone.digest) },
      { ...workItem({ repository, image: kept, tags: ['k1'] }), ...planned(kept.digest) },
    ];
    const run = await runPipeline(h, batchState(batchInput({ strategy }), items), {
      beforeStep: (step) => {
        unsubscribe();
        if (step !== 'PushTempTags') return;
        if (deleteAfterCall === 0) ownerDeletes();
        unsubscribe = h.emulator.callLog.subscribe((entry) => {
          if (entry.params.repositoryName !== repository) return;
          operations.push(`${entry.operation}@${entry.region}`);
          if (operations.length === deleteAfterCall) ownerDeletes();
        });
      },
    });
    unsubscribe();
    await h.emulator.whenReplicationIdle();
    expect(run.error).toBeUndefined();
    return { repository, operations, run, gone: gone.digest, kept: kept.digest };
  }

  const imagePresent = (h: Harness, where: RegistryLocation, repository: string, digest: string) =>
    h.emulator.world.getRepository(where.registryId, where.region, repository)?.images.has(digest) ?? false;

  const cases: [Strategy, boolean][] = [
    ['promote', false],
    ['promote', true],
    // retag-source under a rule that replicates deletes is refused by Plan (§3.2 #9).
    ['retag-source', false],
  ];
  for (const [strategy, deleteReplication] of cases) {
    describe(`${strategy}, ${deleteReplication ? 'with' : 'without'} replication of deletes`, () => {
      let h: Harness;
      beforeAll(async () => {
        h = await startHarness({ replicationLatencyMs: 5 });
        for (const rule of h.emulator.world.registry(SOURCE_ACCOUNT, SOURCE_REGION).replicationConfiguration
          .rules)
          rule.deleteReplication = { enabled: deleteReplication };
      });
      afterAll(() => h.close());

      it('the deleted image is in no registry after a delete after every call before the put', async () => {
        // Prepare: the uninterrupted run's calls in PushTempTags (the read, then the puts).
        const reference = await backfillWithImageDelete(h, strategy, undefined);
        const firstPut = reference.operations.indexOf(`PutImage@${SOURCE_REGION}`);
        expect(firstPut).toBeGreaterThan(0);

        for (let k = 0; k <= firstPut; k += 1) {
          // Act
          const { repository, operations, run, gone, kept } = await backfillWithImageDelete(h, strategy, k);

          // Assess
          const where = `delete after call ${k} (${operations.join(', ')})`;
          for (const registry of [SOURCE, DEST_SAME, DEST_OTHER])
            expect(imagePresent(h, registry, repository, gone), `${where}: ${registry.region}`).toBe(false);
          const [goneResult, keptResult] = run.result!.results;
          for (const destination of goneResult!.destinations)
            expect(Object.values(destination.tags), where).toEqual(['SOURCE_GONE', 'SOURCE_GONE']);
          // The other image is complete, and no temp tag is left anywhere.
          for (const registry of [DEST_SAME, DEST_OTHER]) {
            expect(tagsOf(h, registry, repository).get('k1'), where).toBe(kept);
            expect(
              [...tagsOf(h, registry, repository).keys()].filter((t) => t.startsWith('ecr-backfill')),
              where,
            ).toEqual([]);
          }
          expect(tagsOf(h, SOURCE, repository), where).toEqual(new Map([['k1', kept]]));
          expect(Object.values(keptResult!.destinations[0]!.tags), where).toEqual(['BACKFILLED']);
        }
      });
    });
  }
});

/**
 * RetagSourceTags: the owner deletes a tag (or its whole image, by digest) after the k-th ECR call
 * of the step, for every k up to the step's delete of that tag (for the image: up to its re-put, the
 * gap included). Plan refuses retag-source under a rule that replicates deletes (§3.2 #9), but a
 * rule can be changed while a run goes, so both are run. The tag's owner wins: it is in no registry
 * afterwards (the image too, where deletes replicate) and is reported SOURCE_GONE; the tags before
 * it are complete and no temp tag is left.
 */
describe('RetagSourceTags: a tag or image deleted anywhere in the retag window is not re-created', () => {
  let runs = 0;
  type Deletes = 'tag' | 'image';

  async function retagWithDelete(
    h: Harness,
    deletes: Deletes,
    deleteAfterCall: number | undefined,
    crash?: CrashPlan,
  ) {
    runs += 1;
    const repository = `r${runs}/app/deleted`;
    const ours = buildDockerImage(`retag-deleted-${runs}`);
    seedSource(h, repository, ours, TAGS);
    const sourceRepository = h.emulator.world.requireRepository(SOURCE_ACCOUNT, SOURCE_REGION, repository);
    const item = {
      ...workItem({ repository, image: ours, tags: TAGS }),
      imagePushedAt: sourceRepository.images.get(ours.digest)!.pushedAt,
    };
    const ownerDeletes = () => {
      if (deletes === 'tag') {
        h.emulator.world.removeTag(sourceRepository, DELETED);
        h.emulator.replicationEngine.onTagRemoved(sourceRepository, DELETED);
      } else {
        h.emulator.world.deleteImage(sourceRepository, ours.digest);
        h.emulator.replicationEngine.onImageDeleted(sourceRepository, ours.digest);
      }
    };
    // Each call of the step, with the tag it deletes or puts in the source (to find the window).
    const operations: string[] = [];
    let unsubscribe = () => {};
    const run = await runPipeline(h, batchState(batchInput({ strategy: 'retag-source' }), [item]), {
      ...(crash && { crash }),
      beforeStep: (step) => {
        unsubscribe();
        if (step !== 'RetagSourceTags') return;
        if (deleteAfterCall === 0) ownerDeletes();
        unsubscribe = h.emulator.callLog.subscribe((entry) => {
          if (entry.params.repositoryName !== repository) return;
          const tag = entry.params.imageTag ?? entry.params.imageIds?.join(',');
          const inSource = entry.region === SOURCE_REGION && entry.account === SOURCE_ACCOUNT;
          const write = entry.operation === 'PutImage' || entry.operation === 'BatchDeleteImage';
          operations.push(`${entry.operation}@${entry.region}${inSource && write ? `:${tag}` : ''}`);
          if (operations.length === deleteAfterCall) ownerDeletes();
        });
      },
    });
    unsubscribe();
    await h.emulator.whenReplicationIdle();
    expect(run.error).toBeUndefined();
    return { repository, operations, run, ours: ours.digest };
  }

  for (const deleteReplication of [false, true]) {
    describe(`${deleteReplication ? 'with' : 'without'} replication of deletes`, () => {
      let h: Harness;
      beforeAll(async () => {
        h = await startHarness({ replicationLatencyMs: 5 });
        for (const rule of h.emulator.world.registry(SOURCE_ACCOUNT, SOURCE_REGION).replicationConfiguration
          .rules)
          rule.deleteReplication = { enabled: deleteReplication };
      });
      afterAll(() => h.close());

      // The uninterrupted run's calls in RetagSourceTags, and where the deleted tag's retag is in them.
      async function reference() {
        const { operations, run } = await retagWithDelete(h, 'tag', undefined);
        for (const destination of run.result!.results[0]!.destinations)
          expect(destination.tags[DELETED]).toBe('BACKFILLED');
        const ourDelete = operations.indexOf(`BatchDeleteImage@${SOURCE_REGION}:${DELETED}`);
        const ourPut = operations.indexOf(`PutImage@${SOURCE_REGION}:${DELETED}`);
        expect(ourDelete).toBeGreaterThan(0);
        expect(ourPut).toBeGreaterThan(ourDelete);
        return { ourDelete, ourPut, count: operations.length };
      }

      it('a tag deleted after every call up to our delete of it is in no registry, SOURCE_GONE', async () => {
        // Prepare
        const { ourDelete, count } = await reference();

        // k = ourDelete: the owner's delete lands after our last look, right before our delete.
        for (let k = 0; k <= ourDelete; k += 1) {
          // Act
          const { repository, operations, run, ours } = await retagWithDelete(h, 'tag', k);

          // Assess
          const where = `delete after call ${k} of ${count} (${operations.join(', ')})`;
          for (const registry of [SOURCE, DEST_SAME, DEST_OTHER]) {
            const tags = tagsOf(h, registry, repository);
            expect(tags.has(DELETED), `${where}: ${registry.region}`).toBe(false);
            // Everything else is complete, and no temp tag is left.
            for (const tag of TAGS.filter((t) => t !== DELETED))
              expect(tags.get(tag), `${where}: ${registry.region} ${tag}`).toBe(ours);
            expect(
              [...tags.keys()].filter((t) => t.startsWith('ecr-backfill')),
              where,
            ).toEqual([]);
          }
          for (const destination of run.result!.results[0]!.destinations)
            expect(destination.tags[DELETED], where).toBe('SOURCE_GONE');
        }
      });

      it('a rerun after a crash does not take the tag its owner deleted for one it must restore', async () => {
        // Prepare: the owner deletes the tag right before our delete; the invocation dies at its next
        // ECR call, so the rerun starts from the same input and finds the tag absent, its journal entry
        // written and our temp tag on the image (which, with an `intent` entry, means "restore it").
        const { ourDelete } = await reference();

        // Act
        const { repository, operations, run } = await retagWithDelete(h, 'tag', ourDelete, {
          step: 'RetagSourceTags',
          k: ourDelete + 1,
          mode: 'before',
        });

        // Assess
        const where = operations.join(', ');
        expect(run.crashed, where).toBe(true);
        for (const registry of [SOURCE, DEST_SAME, DEST_OTHER])
          expect(tagsOf(h, registry, repository).has(DELETED), `${where}: ${registry.region}`).toBe(false);
        for (const destination of run.result!.results[0]!.destinations)
          expect(destination.tags[DELETED], where).toBe('SOURCE_GONE');
      });

      it('an image deleted after every call up to our re-put of its tag is not re-created', async () => {
        // Prepare
        const { ourPut, count } = await reference();

        // k = ourPut: the owner's delete lands in the tag's own gap, between our delete and re-put.
        for (let k = 0; k <= ourPut; k += 1) {
          // Act
          const { repository, operations, run, ours } = await retagWithDelete(h, 'image', k);

          // Assess
          const where = `image delete after call ${k} of ${count} (${operations.join(', ')})`;
          expect(imageExists(h, SOURCE, repository, ours), where).toBe(false);
          // Where deletes replicate, the owner's delete reaches every copy, and ours do not undo it.
          if (deleteReplication)
            for (const registry of [DEST_SAME, DEST_OTHER])
              expect(imageExists(h, registry, repository, ours), `${where}: ${registry.region}`).toBe(false);
          for (const destination of run.result!.results[0]!.destinations) {
            expect(destination.tags[DELETED], where).toBe('SOURCE_GONE');
            expect(destination.tags.c, where).toBe('SOURCE_GONE');
          }
        }
      });
    });
  }
});

/**
 * CleanupTempTags: an image its owner deletes after our push (its temp tag already replicated) is
 * found gone by CheckReplication (SOURCE_GONE). The copies our push sent still hold the temp tag in
 * every destination where deletes do not replicate: cleanup removes it there too, and the copy with
 * it where the run brought it and nothing else keeps it.
 */
describe('CleanupTempTags: an image deleted after our push leaves no temp tag behind', () => {
  let runs = 0;
  let h: Harness;
  beforeAll(async () => {
    // No rule replicates deletes: nothing but the run's own cleanup removes the copies' temp tags.
    h = await startHarness({ replicationLatencyMs: 5 });
  });
  afterAll(() => h.close());

  for (const strategy of ['promote', 'retag-source'] as const) {
    it(`${strategy}: no temp tag in any registry, the image reported SOURCE_GONE`, async () => {
      // Prepare
      runs += 1;
      const repository = `c${runs}/app/deleted`;
      const gone = buildDockerImage(`cleanup-gone-${runs}`);
      const kept = buildDockerImage(`cleanup-kept-${runs}`);
      seedSource(h, repository, gone, ['g1', 'g2']);
      seedSource(h, repository, kept, ['k1']);
      const sourceRepository = h.emulator.world.requireRepository(SOURCE_ACCOUNT, SOURCE_REGION, repository);
      const planned = (digest: string) => ({ imagePushedAt: sourceRepository.images.get(digest)!.pushedAt });
      const items = [
        { ...workItem({ repository, image: gone, tags: ['g1', 'g2'] }), ...planned(gone.digest) },
        { ...workItem({ repository, image: kept, tags: ['k1'] }), ...planned(kept.digest) },
      ];

      // Act: the owner deletes the image once our push has replicated (and, for retag-source, once
      // its tags were retagged), before CheckReplication looks.
      const run = await runPipeline(h, batchState(batchInput({ strategy }), items), {
        beforeStep: async (step) => {
          if (step !== 'CheckReplication') return;
          await h.emulator.whenReplicationIdle();
          for (const registry of [DEST_SAME, DEST_OTHER])
            expect(
              [...tagsOf(h, registry, repository).keys()].some((t) => t.startsWith('ecr-backfill')),
            ).toBe(true);
          h.emulator.world.deleteImage(sourceRepository, gone.digest);
          h.emulator.replicationEngine.onImageDeleted(sourceRepository, gone.digest);
        },
      });
      await h.emulator.whenReplicationIdle();

      // Assess
      expect(run.error).toBeUndefined();
      const [goneResult, keptResult] = run.result!.results;
      expect(goneResult!.note).toBe('SOURCE_GONE');
      for (const registry of [SOURCE, DEST_SAME, DEST_OTHER]) {
        const tags = [...tagsOf(h, registry, repository).keys()];
        expect(
          tags.filter((t) => t.startsWith('ecr-backfill')),
          registry.region,
        ).toEqual([]);
      }
      for (const registry of [DEST_SAME, DEST_OTHER])
        expect(tagsOf(h, registry, repository).get('k1'), registry.region).toBe(kept.digest);
      expect(tagsOf(h, SOURCE, repository)).toEqual(new Map([['k1', kept.digest]]));
      expect(Object.values(keptResult!.destinations[0]!.tags)).toEqual(['BACKFILLED']);
    });
  }
});
