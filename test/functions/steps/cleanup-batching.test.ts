/**
 * CleanupTempTags reads and deletes per repository and registry, 100 images at a time: DescribeImages
 * and BatchDeleteImage have low, unpublished quotas, and a per-image cleanup of a 100,000-image
 * registry would spend hundreds of thousands of them.
 */
import { describe, expect, it } from 'vitest';
import { buildDockerImage } from '../../../local/ecr-emulator/index.ts';
import { describeImagesTags } from '../../../core/ecr/ecr.ts';
import {
  batchInput,
  batchState,
  DEST_OTHER,
  DEST_SAME,
  harnessPerTest,
  seedSource,
  SOURCE,
  SOURCE_ACCOUNT,
  SOURCE_REGION,
  workItem,
} from './support/harness.ts';
import { registryTags, tempTagsIn } from './support/invariants.ts';
import { runPipeline } from './support/pipeline.ts';

const freshHarness = harnessPerTest();

describe('CleanupTempTags', () => {
  it('cleans 101 images with two reads and two deletes per registry (chunks of 100), leaving no temp tag', async () => {
    // Prepare
    const h = await freshHarness();
    const images = Array.from({ length: 101 }, (_, n) => buildDockerImage(`cleanup-batch-${n}`));
    for (const [n, image] of images.entries()) seedSource(h, 'app/many', image, [`v${n}`]);
    const items = images.map((image, n) => workItem({ repository: 'app/many', image, tags: [`v${n}`] }));

    // Act
    const run = await runPipeline(h, batchState(batchInput({ strategy: 'promote' }), items));

    // Assess: source and two destinations, 101 images each → two chunks per registry.
    expect(run.error).toBeUndefined();
    const operations = run.operations.CleanupTempTags ?? [];
    expect(operations.filter((operation) => operation === 'DescribeImages')).toHaveLength(6);
    expect(operations.filter((operation) => operation === 'BatchDeleteImage')).toHaveLength(6);
    for (const where of [SOURCE, DEST_SAME, DEST_OTHER]) {
      expect(tempTagsIn(registryTags(h, where, 'app/many')), where.region).toEqual([]);
    }
    expect(registryTags(h, SOURCE, 'app/many').size).toBe(101);
  });
});

describe('describeImagesTags', () => {
  it('reads several images at once; when one is gone, finds it one by one and reads the rest together again', async () => {
    // Prepare
    const h = await freshHarness();
    const [a, b] = [buildDockerImage('tags-a'), buildDockerImage('tags-b')];
    seedSource(h, 'app/read', a, ['a1', 'a2']);
    seedSource(h, 'app/read', b, ['b1']);
    const missing = `sha256:${'0'.repeat(64)}`;
    const client = h.deps.ecr({ region: SOURCE_REGION, registryId: SOURCE_ACCOUNT });
    const ref = { registryId: SOURCE_ACCOUNT, repositoryName: 'app/read' };
    const logged = h.emulator.callLog.size;

    // Act
    const together = await describeImagesTags(client, ref, [a.digest, b.digest]);
    const withMissing = await describeImagesTags(client, ref, [a.digest, missing, b.digest]);
    const noRepository = await describeImagesTags(
      client,
      { registryId: SOURCE_ACCOUNT, repositoryName: 'app/absent' },
      [a.digest],
    );

    // Assess
    expect([...together]).toEqual([
      [a.digest, ['a1', 'a2']],
      [b.digest, ['b1']],
    ]);
    expect([...withMissing]).toEqual([
      [a.digest, ['a1', 'a2']],
      [missing, undefined],
      [b.digest, ['b1']],
    ]);
    expect([...noRepository]).toEqual([[a.digest, undefined]]);
    // 1 call; 1 failed call + 3 single probes + 1 fresh read of the two that exist; 1 call.
    const calls = h.emulator.callLog.entries().slice(logged);
    expect(calls.map((entry) => entry.operation)).toEqual(Array(7).fill('DescribeImages'));
    expect(calls[5]?.params.imageIds).toEqual([a.digest, b.digest]);
  });
});
