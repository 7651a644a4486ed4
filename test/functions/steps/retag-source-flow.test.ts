import { BatchGetImageCommand } from '@aws-sdk/client-ecr';
import { describe, expect, it } from 'vitest';
import { buildDockerImage } from '../../../local/ecr-emulator/index.ts';
import { ACCEPTED_MANIFEST_MEDIA_TYPES } from '../../../core/ecr/media-types.ts';
import {
  batchInput,
  batchState,
  DESTINATIONS,
  harnessPerTest,
  putImageCalls,
  seedSource,
  SOURCE,
  SOURCE_REGION,
  tagsOf,
  workItem,
} from './support/harness.ts';
import { registryImages, registryTags, SourceWatch, tempTagsIn } from './support/invariants.ts';
import { childHandlers, runPipeline } from './support/pipeline.ts';
import { expectInEveryDestination, markerTagsOf, seedMixedRegistry } from './support/scenarios.ts';
import type { BatchState } from '../../../core/contracts/contracts.ts';

const freshHarness = harnessPerTest();

describe('strategy retag-source, steps in order against the ECR emulator', () => {
  it('carries every tag to both destinations by re-putting it in the source, never losing an image', async () => {
    // Prepare
    const h = await freshHarness();
    const scenario = seedMixedRegistry(h);
    const input = batchInput({ strategy: 'retag-source' });
    const watch = new SourceWatch(h);
    const sourceBefore = registryTags(h, SOURCE);
    const imagesBefore = registryImages(h, SOURCE);

    // Act
    const run = await runPipeline(h, batchState(input, scenario.items));

    // Assess
    expect(run.error).toBeUndefined();
    expectInEveryDestination(h, scenario);
    expect(watch.deletedImages).toEqual([]);
    expect([...imagesBefore].every((key) => registryImages(h, SOURCE).has(key))).toBe(true);
    // Each original tag was removed exactly once and came back on the same digest.
    const originalTags = scenario.images.flatMap((s) => s.tags.map((tag) => `${s.repository}:${tag}`));
    expect(watch.gaps.map((g) => `${g.repository}:${g.tag}`).sort()).toEqual([...originalTags].sort());
    expect(watch.unrestored()).toEqual([]);
    expect(watch.movedTags).toEqual([]);
    const markerTags = markerTagsOf(scenario, input);
    const sourceAfter = registryTags(h, SOURCE);
    const sorted = (entries: [string, string][]) => entries.sort(([a], [b]) => a.localeCompare(b));
    expect(sorted([...sourceAfter].filter(([key]) => !markerTags.includes(key)))).toEqual(
      sorted([...sourceBefore]),
    );
    expect(tempTagsIn(sourceAfter)).toEqual(markerTags);
    for (const destination of DESTINATIONS)
      expect(tempTagsIn(registryTags(h, destination))).toEqual(markerTags);
    // Source PutImage: one temp tag per digest + one re-put per original tag; none in destinations.
    expect(putImageCalls(h, SOURCE_REGION)).toBe(scenario.images.length + originalTags.length);
    expect(putImageCalls(h) - putImageCalls(h, SOURCE_REGION)).toBe(0);
    // The reported windows are the gaps the registry itself saw (within scheduling noise).
    const reported = run.result!.results.flatMap((r) =>
      Object.entries(r.sourceTagUnavailableMs ?? {}).map(([tag, ms]) => ({
        key: `${r.repositoryName}:${tag}`,
        ms,
      })),
    );
    expect(reported.map((r) => r.key).sort()).toEqual([...originalTags].sort());
    for (const gap of watch.gaps) {
      const ms = reported.find((r) => r.key === `${gap.repository}:${gap.tag}`)!.ms;
      expect(ms).toBeGreaterThanOrEqual(Math.floor(gap.restoredAt! - gap.removedAt) - 2);
    }
    watch.close();
  });

  it('reports an unavailability window that matches what a client polling the source tag observes', async () => {
    // Prepare: a slow re-put (200 ms) makes the window long enough for a poller to see.
    const h = await freshHarness();
    const image = buildDockerImage('polled');
    seedSource(h, 'svc/polled', image, ['prod']);
    const input = batchInput({ strategy: 'retag-source' });
    h.emulator.faults.add({
      operation: 'PutImage',
      match: (call) => call.input.imageTag === 'prod',
      delayMs: 200,
      times: 1,
    });
    const handlers = childHandlers(h);
    const pushed = (await handlers.PushTempTags(
      batchState(input, [workItem({ repository: 'svc/polled', image, tags: ['prod'] })]),
    )) as BatchState;
    const observer = h.emulator.client(SOURCE_REGION);
    let polling = true;
    let missingSince: number | undefined;
    let longestMissing = 0;
    // The poller sees the window only to within one of its round trips, which load stretches.
    let previousObservation: number | undefined;
    let longestRoundTrip = 0;
    const poll = (async () => {
      while (polling) {
        const output = await observer.send(
          new BatchGetImageCommand({
            repositoryName: 'svc/polled',
            imageIds: [{ imageTag: 'prod' }],
            acceptedMediaTypes: [...ACCEPTED_MANIFEST_MEDIA_TYPES],
          }),
        );
        const now = performance.now();
        if (previousObservation !== undefined)
          longestRoundTrip = Math.max(longestRoundTrip, now - previousObservation);
        previousObservation = now;
        if ((output.images ?? []).length === 0) missingSince ??= now;
        else if (missingSince !== undefined) {
          longestMissing = Math.max(longestMissing, now - missingSince);
          missingSince = undefined;
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();

    // Act
    const retagged = (await handlers.RetagSourceTags(pushed)) as BatchState;
    await new Promise((resolve) => setTimeout(resolve, 20));
    polling = false;
    await poll;
    observer.destroy();

    // Assess
    const reported = retagged.results![0]!.sourceTagUnavailableMs!.prod!;
    expect(longestMissing).toBeGreaterThan(150);
    expect(reported).toBeGreaterThanOrEqual(200);
    // Each edge of the observed window lags the real one by at most a round trip (and a margin for
    // the timer between polls); on a quiet machine that is a few milliseconds.
    expect(Math.abs(reported - longestMissing)).toBeLessThan(2 * longestRoundTrip + 20);
    expect(tagsOf(h, SOURCE, 'svc/polled').get('prod')).toBe(image.digest);
  });
});
