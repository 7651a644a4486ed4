import { describe, expect, it } from 'vitest';
import {
  batchInput,
  batchState,
  DEST_OTHER,
  DEST_SAME,
  DESTINATIONS,
  harnessPerTest,
  putImageCalls,
  SOURCE,
  SOURCE_REGION,
} from './support/harness.ts';
import { registryTags, SourceWatch, tempTagsIn } from './support/invariants.ts';
import { runPipeline } from './support/pipeline.ts';
import { expectInEveryDestination, markerTagsOf, seedMixedRegistry } from './support/scenarios.ts';

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
    expectInEveryDestination(h, scenario);
    // Source untouched: same tags on the same digests, nothing ever removed or deleted.
    const markerTags = markerTagsOf(scenario, input);
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
