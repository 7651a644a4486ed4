/**
 * Per-tag outcomes the steps must reach against the ECR emulator: conflicts (with and without
 * overwriteConflicts, immutable repositories with exclusion filters), tags moved by someone else
 * mid-run, archived images, images already in every destination, source images deleted mid-run,
 * and index children missing in a destination.
 */
import { PutImageCommand } from '@aws-sdk/client-ecr';
import { describe, expect, it } from 'vitest';
import { buildDockerImage, buildOciIndex } from '../../../local/ecr-emulator/index.ts';
import type { Strategy } from '../../../core/contracts/contracts.ts';
import {
  batchInput,
  batchState,
  DEST_OTHER,
  DEST_SAME,
  DESTINATIONS,
  harnessPerTest,
  putImageCalls,
  seedDestination,
  seedSource,
  SOURCE,
  SOURCE_ACCOUNT,
  SOURCE_REGION,
  tagsOf,
  workItem,
} from './support/harness.ts';
import { registryTags, SourceWatch, tempTagsIn } from './support/invariants.ts';
import { childHandlers, runPipeline } from './support/pipeline.ts';

const freshHarness = harnessPerTest();

const STRATEGIES: Strategy[] = ['promote', 'retag-source'];
const outcomesOf = (run: Awaited<ReturnType<typeof runPipeline>>, i = 0) =>
  run.result!.results[i]!.destinations.map((d) => ({ region: d.region, tags: d.tags }));

describe.each(STRATEGIES)('strategy %s', (strategy) => {
  it('reports a destination tag on another digest as CONFLICT and leaves it there', async () => {
    // Prepare
    const h = await freshHarness();
    const image = buildDockerImage('conflict-source');
    const theirs = buildDockerImage('conflict-theirs');
    seedSource(h, 'app/conf', image, ['v1', 'v2']);
    seedDestination(h, DEST_SAME, 'app/conf', theirs, ['v1']);
    const watch = new SourceWatch(h);

    // Act
    const run = await runPipeline(
      h,
      batchState(batchInput({ strategy }), [workItem({ repository: 'app/conf', image, tags: ['v1', 'v2'] })]),
    );

    // Assess
    expect(run.error).toBeUndefined();
    expect(tagsOf(h, DEST_SAME, 'app/conf').get('v1')).toBe(theirs.digest);
    expect(tagsOf(h, DEST_SAME, 'app/conf').get('v2')).toBe(image.digest);
    expect(tagsOf(h, DEST_OTHER, 'app/conf').get('v2')).toBe(image.digest);
    const outcomes = outcomesOf(run);
    expect(outcomes[0]!.tags).toEqual({ v1: 'CONFLICT', v2: 'BACKFILLED' });
    if (strategy === 'promote') {
      expect(outcomes[1]!.tags).toEqual({ v1: 'BACKFILLED', v2: 'BACKFILLED' });
      expect(tagsOf(h, DEST_OTHER, 'app/conf').get('v1')).toBe(image.digest);
    } else {
      // Re-putting v1 would replicate over the conflicting tag: v1 is not retagged at all.
      expect(outcomes[1]!.tags).toEqual({ v1: 'CONFLICT', v2: 'BACKFILLED' });
      expect(watch.gaps.map((g) => g.tag)).toEqual(['v2']);
    }
    watch.close();
  });

  it('overwrites a conflicting destination tag when asked, except where the tag is immutable', async () => {
    // Prepare: DEST_SAME mutable with a conflict; DEST_OTHER immutable (except temp tags) with a conflict.
    const h = await freshHarness();
    const image = buildDockerImage('overwrite-source');
    const theirs = buildDockerImage('overwrite-theirs');
    seedSource(h, 'app/over', image, ['v1']);
    seedDestination(h, DEST_SAME, 'app/over', theirs, ['v1']);
    h.emulator.world.createRepository(DEST_OTHER.registryId, DEST_OTHER.region, 'app/over', {
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'ecr-backfill-*' }],
    });
    seedDestination(h, DEST_OTHER, 'app/over', theirs, ['v1']);

    // Act
    const run = await runPipeline(
      h,
      batchState(batchInput({ strategy, overwriteConflicts: true }), [
        workItem({ repository: 'app/over', image, tags: ['v1'] }),
      ]),
    );

    // Assess
    expect(run.error).toBeUndefined();
    expect(outcomesOf(run)).toEqual([
      { region: DEST_SAME.region, tags: { v1: 'OVERWRITTEN' } },
      { region: DEST_OTHER.region, tags: { v1: 'CONFLICT' } },
    ]);
    expect(tagsOf(h, DEST_SAME, 'app/over').get('v1')).toBe(image.digest);
    expect(tagsOf(h, DEST_OTHER, 'app/over').get('v1')).toBe(theirs.digest);
    // No temp tag anywhere: in DEST_OTHER it was the only tag of a copy the run itself brought and
    // no tag needs (v1 is a CONFLICT there), so that copy went with it.
    for (const where of [SOURCE, ...DESTINATIONS]) expect(tempTagsIn(registryTags(h, where))).toEqual([]);
    expect(
      h.emulator.world.getImage(DEST_OTHER.registryId, DEST_OTHER.region, 'app/over', image.digest),
    ).toBeUndefined();
  });

  it('never removes a destination image that was there before the run, even when the temp tag became its only tag', async () => {
    // Prepare: DEST_SAME already holds the digest, untagged; its v1 points to another image.
    const h = await freshHarness();
    const image = buildDockerImage('preexisting');
    const theirs = buildDockerImage('preexisting-theirs');
    seedSource(h, 'app/pre', image, ['v1']);
    seedDestination(h, DEST_SAME, 'app/pre', image, []);
    seedDestination(h, DEST_SAME, 'app/pre', theirs, ['v1']);
    const item = workItem({
      repository: 'app/pre',
      image,
      tags: ['v1'],
      destinations: [
        { destination: DEST_SAME, tags: ['v1'], digestPresent: true },
        { destination: DEST_OTHER, tags: ['v1'] },
      ],
    });

    // Act
    const run = await runPipeline(h, batchState(batchInput({ strategy }), [item]));

    // Assess
    expect(run.error).toBeUndefined();
    expect(run.result!.results[0]!.destinations[0]!.tags).toEqual({ v1: 'CONFLICT' });
    expect(
      h.emulator.world.getImage(DEST_SAME.registryId, DEST_SAME.region, 'app/pre', image.digest),
    ).toBeDefined();
    expect(tagsOf(h, DEST_SAME, 'app/pre').get('v1')).toBe(theirs.digest);
  });

  it('cleans the temp tag where replication went although the item lists nothing there, and never moves a tag there', async () => {
    // Prepare: the plan dropped DEST_SAME (v1 conflicts there), but the rules replicate there too.
    const h = await freshHarness();
    const image = buildDockerImage('unlisted');
    const theirs = buildDockerImage('unlisted-theirs');
    seedSource(h, 'app/unlisted', image, ['v1']);
    seedDestination(h, DEST_SAME, 'app/unlisted', theirs, ['v1']);
    const item = workItem({
      repository: 'app/unlisted',
      image,
      tags: ['v1'],
      destinations: [{ destination: DEST_OTHER }],
    });

    // Act
    const run = await runPipeline(h, batchState(batchInput({ strategy }), [item]));

    // Assess
    expect(run.error).toBeUndefined();
    const [other, extra] = run.result!.results[0]!.destinations;
    expect(extra).toMatchObject({ region: DEST_SAME.region, extra: true, digestPresent: false, tags: {} });
    expect(tagsOf(h, DEST_SAME, 'app/unlisted').get('v1')).toBe(theirs.digest);
    for (const where of [SOURCE, ...DESTINATIONS]) expect(tempTagsIn(registryTags(h, where))).toEqual([]);
    if (strategy === 'promote') {
      expect(other!.tags).toEqual({ v1: 'BACKFILLED' });
      expect(tagsOf(h, DEST_OTHER, 'app/unlisted').get('v1')).toBe(image.digest);
    } else {
      // Re-putting v1 would replicate it over DEST_SAME's v1: not retagged, reported, nothing moved.
      expect(other!.tags).toEqual({ v1: 'CONFLICT' });
    }
  });

  it('leaves a tag moved by someone else mid-run alone (MOVED): it ends at the newer digest everywhere', async () => {
    // Prepare
    const h = await freshHarness();
    const image = buildDockerImage('moved-old');
    const newer = buildDockerImage('moved-new');
    seedSource(h, 'app/moved', image, ['latest', 'v1']);
    seedSource(h, 'app/moved', newer, []);
    h.emulator.faults.clear();
    const watch = new SourceWatch(h);
    const client = h.emulator.client(SOURCE_REGION, { account: SOURCE_ACCOUNT });
    const moveAfter = strategy === 'promote' ? 'PromoteTags' : 'RetagSourceTags';

    // Act: someone pushes `latest` on a newer image right before the step that would write it.
    const run = await runPipeline(
      h,
      batchState(batchInput({ strategy }), [
        workItem({ repository: 'app/moved', image, tags: ['latest', 'v1'] }),
      ]),
      {
        beforeStep: async (step) => {
          if (step !== moveAfter) return;
          await watch.external(() =>
            client.send(
              new PutImageCommand({
                repositoryName: 'app/moved',
                imageManifest: newer.manifest,
                imageManifestMediaType: newer.mediaType,
                imageTag: 'latest',
              }),
            ),
          );
        },
      },
    );
    await h.emulator.whenReplicationIdle();
    client.destroy();

    // Assess
    expect(run.error).toBeUndefined();
    for (const destination of outcomesOf(run))
      expect(destination.tags).toEqual({ latest: 'MOVED', v1: 'BACKFILLED' });
    expect(tagsOf(h, SOURCE, 'app/moved').get('latest')).toBe(newer.digest);
    for (const destination of DESTINATIONS) {
      expect(tagsOf(h, destination, 'app/moved').get('latest')).toBe(newer.digest);
      expect(tagsOf(h, destination, 'app/moved').get('v1')).toBe(image.digest);
    }
    expect(watch.movedTags).toEqual([]);
    expect(watch.deletedImages).toEqual([]);
    watch.close();
  });

  it('backfills from repositories that are immutable in the source (with and without a temp-tag exclusion) and in a destination', async () => {
    // Prepare: IMMUTABLE accepts the temp tag (a new tag); IMMUTABLE_WITH_EXCLUSION keeps temp tags mutable.
    const h = await freshHarness();
    const image = buildDockerImage('immutable');
    const other = buildDockerImage('immutable-excluded');
    h.emulator.world.createRepository(SOURCE_ACCOUNT, SOURCE_REGION, 'app/imm', {
      imageTagMutability: 'IMMUTABLE',
    });
    h.emulator.world.createRepository(SOURCE_ACCOUNT, SOURCE_REGION, 'app/imm-ex', {
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'ecr-backfill-*' }],
    });
    h.emulator.world.createRepository(DEST_SAME.registryId, DEST_SAME.region, 'app/imm', {
      imageTagMutability: 'IMMUTABLE',
    });
    seedSource(h, 'app/imm', image, ['1.0.0']);
    seedSource(h, 'app/imm-ex', other, ['2.0.0']);
    const items = [
      workItem({ repository: 'app/imm', image, tags: ['1.0.0'] }),
      workItem({ repository: 'app/imm-ex', image: other, tags: ['2.0.0'] }),
    ];
    const state = batchState(batchInput({ strategy }), items);

    // Act: PushTempTags twice first, as a retry after a lost answer would.
    await childHandlers(h).PushTempTags(structuredClone(state));
    const run = await runPipeline(h, state);

    // Assess
    expect(run.error).toBeUndefined();
    for (const destination of DESTINATIONS) {
      expect(tagsOf(h, destination, 'app/imm').get('1.0.0')).toBe(image.digest);
      expect(tagsOf(h, destination, 'app/imm-ex').get('2.0.0')).toBe(other.digest);
    }
    const tempPuts = strategy === 'promote' ? 2 : 2 + 2;
    expect(putImageCalls(h, SOURCE_REGION)).toBe(tempPuts);
    expect(tempTagsIn(registryTags(h, SOURCE))).toEqual([]);
    expect(tempTagsIn(registryTags(h, DEST_SAME))).toEqual([]);
    expect(tagsOf(h, SOURCE, 'app/imm').get('1.0.0')).toBe(image.digest);
  });

  it('restores and backfills an archived image', async () => {
    // Prepare
    const h = await freshHarness();
    const image = buildDockerImage('archived');
    seedSource(h, 'app/arch', image, ['old'], 'ARCHIVED');

    // Act
    const run = await runPipeline(
      h,
      batchState(batchInput({ strategy }), [workItem({ repository: 'app/arch', image, tags: ['old'] })]),
    );

    // Assess
    expect(run.error).toBeUndefined();
    expect(h.emulator.world.getImage(SOURCE_ACCOUNT, SOURCE_REGION, 'app/arch', image.digest)?.status).toBe(
      'ACTIVE',
    );
    for (const destination of DESTINATIONS)
      expect(tagsOf(h, destination, 'app/arch').get('old')).toBe(image.digest);
  });

  it('writes nothing for an image deleted from the source after planning (SOURCE_GONE)', async () => {
    // Prepare
    const h = await freshHarness();
    const image = buildDockerImage('gone');
    seedSource(h, 'app/gone', image, ['v1']);
    const repository = h.emulator.world.requireRepository(SOURCE_ACCOUNT, SOURCE_REGION, 'app/gone');
    h.emulator.world.deleteImage(repository, image.digest);

    // Act
    const run = await runPipeline(
      h,
      batchState(batchInput({ strategy }), [workItem({ repository: 'app/gone', image, tags: ['v1'] })]),
    );

    // Assess
    expect(run.error).toBeUndefined();
    expect(run.result!.results[0]!.note).toBe('SOURCE_GONE');
    for (const destination of outcomesOf(run)) expect(destination.tags).toEqual({ v1: 'SOURCE_GONE' });
    expect(putImageCalls(h)).toBe(0);
    expect(h.emulator.callLog.count({ operation: 'BatchDeleteImage' })).toBe(0);
  });
});

describe('strategy promote', () => {
  it('only puts the tags when every destination already holds the digest (no push, no replication)', async () => {
    // Prepare
    const h = await freshHarness();
    const image = buildDockerImage('present');
    seedSource(h, 'app/present', image, ['v1', 'v2']);
    seedDestination(h, DEST_SAME, 'app/present', image, ['v1']);
    seedDestination(h, DEST_OTHER, 'app/present', image, []);
    const item = workItem({
      repository: 'app/present',
      image,
      tags: ['v1', 'v2'],
      destinations: [
        { destination: DEST_SAME, tags: ['v2'], digestPresent: true },
        { destination: DEST_OTHER, tags: ['v1', 'v2'], digestPresent: true },
      ],
    });

    // Act
    const run = await runPipeline(h, batchState(batchInput({ strategy: 'promote' }), [item]));

    // Assess
    expect(run.error).toBeUndefined();
    expect(putImageCalls(h, SOURCE_REGION)).toBe(0);
    expect(putImageCalls(h)).toBe(3);
    expect(run.result!.results[0]!.destinations.map((d) => d.replication)).toEqual([
      'NOT_NEEDED',
      'NOT_NEEDED',
    ]);
    for (const destination of DESTINATIONS) {
      expect(tagsOf(h, destination, 'app/present').get('v1')).toBe(image.digest);
      expect(tagsOf(h, destination, 'app/present').get('v2')).toBe(image.digest);
    }
  });

  it('reports DIGEST_MISMATCH when a child manifest of an index is missing in a destination', async () => {
    // Prepare: replicate, then lose one child in DEST_SAME before verification.
    const h = await freshHarness();
    const image = buildOciIndex('index-child');
    seedSource(h, 'app/index', image, ['multi']);
    const child = image.children[0]!;

    // Act
    const run = await runPipeline(
      h,
      batchState(batchInput({ strategy: 'promote' }), [
        workItem({ repository: 'app/index', image, tags: ['multi'] }),
      ]),
      {
        beforeStep: (step) => {
          if (step !== 'VerifyDigests') return;
          const repository = h.emulator.world.requireRepository(
            DEST_SAME.registryId,
            DEST_SAME.region,
            'app/index',
          );
          repository.images.delete(child.digest);
        },
      },
    );

    // Assess
    expect(run.error?.name).toBe('ItemsFailed');
    const cause = JSON.parse(run.error!.message) as {
      failed: { destination: string; tag: string; outcome: string }[];
    };
    expect(cause.failed).toEqual([
      expect.objectContaining({
        destination: `${DEST_SAME.registryId}/${DEST_SAME.region}`,
        tag: 'multi',
        outcome: 'DIGEST_MISMATCH',
      }),
    ]);
  });
});
