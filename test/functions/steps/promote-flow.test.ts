import { describe, expect, it } from 'vitest';
import { tempTagFor } from '../../../functions/shared/temp-tags.ts';
import {
  batchInput,
  batchState,
  DEST_OTHER,
  DEST_SAME,
  DESTINATIONS,
  harnessPerTest,
  imageExists,
  putImageCalls,
  SOURCE,
  SOURCE_REGION,
  tagsOf,
  TEMP_TAG_PREFIX,
} from './support/harness.ts';
import { registryTags, SourceWatch, tempTagsIn } from './support/invariants.ts';
import { runPipeline } from './support/pipeline.ts';
import { seedMixedRegistry } from './support/scenarios.ts';

const freshHarness = harnessPerTest();

describe('strategy promote, steps in order against the ECR emulator', () => {
  it('backfills Docker v2, OCI, a multi-arch index with attestations, an artifact without mediaType and an untagged image into two destinations', async () => {
    // Prepare
    const h = await freshHarness();
    const scenario = seedMixedRegistry(h);
    const input = batchInput({ strategy: 'promote' });
    const watch = new SourceWatch(h);
    const sourceBefore = registryTags(h, SOURCE);

    // Act
    const run = await runPipeline(h, batchState(input, scenario.items));

    // Assess
    expect(run.error).toBeUndefined();
    for (const { repository, image, tags } of scenario.images) {
      for (const destination of DESTINATIONS) {
        const inDestination = tagsOf(h, destination, repository);
        for (const tag of tags)
          expect(inDestination.get(tag), `${repository}:${tag} in ${destination.region}`).toBe(image.digest);
        for (const child of image.children)
          expect(imageExists(h, destination, repository, child.digest)).toBe(true);
      }
    }
    // Source untouched: same tags on the same digests, nothing ever removed or deleted.
    const markerTags = scenario.images
      .filter((s) => s.tags.length === 0)
      .map((s) => `${s.repository}:${tempTagFor(TEMP_TAG_PREFIX, input.runId, s.image.digest)}`);
    const sourceAfter = registryTags(h, SOURCE);
    expect([...sourceAfter].filter(([key]) => !markerTags.includes(key))).toEqual([...sourceBefore]);
    expect(watch.deletedImages).toEqual([]);
    expect(watch.gaps).toEqual([]);
    expect(watch.movedTags).toEqual([]);
    // No temp tag anywhere but the untagged image's marker, in the source and in each destination.
    expect(tempTagsIn(sourceAfter)).toEqual(markerTags);
    for (const destination of DESTINATIONS)
      expect(tempTagsIn(registryTags(h, destination))).toEqual(markerTags);
    // One temp-tag PutImage per digest in the source (api-1 has two tags), one PutImage per tag per destination.
    expect(putImageCalls(h, SOURCE_REGION)).toBe(scenario.images.length);
    expect(putImageCalls(h, DEST_SAME.region)).toBe(5);
    expect(putImageCalls(h, DEST_OTHER.region)).toBe(5);
    // The other account was reached through its role.
    expect(h.targets).toContainEqual({
      region: DEST_OTHER.region,
      registryId: DEST_OTHER.registryId,
      roleArn: DEST_OTHER.roleArn,
    });
    expect(
      h.targets.filter((t) => t.region === DEST_OTHER.region).every((t) => t.roleArn === DEST_OTHER.roleArn),
    ).toBe(true);
    expect(run.result?.counts).toEqual({ BACKFILLED: 12 });
    watch.close();
  });
});
