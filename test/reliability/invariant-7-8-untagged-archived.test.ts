/**
 * Invariants 7 and 8 of docs/architecture.md §3.2 through the whole workflow (Plan to Summarize), not one Lambda:
 * untagged and archived source images are skipped by default; with `includeUntagged` an untagged
 * image is backfilled and keeps the run's temp tag as its marker in the source and in every
 * destination (removing an image's last tag deletes it), and with `includeArchived` an archived image
 * is restored and backfilled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDockerImage, buildOciImage } from '../../local/ecr-emulator/index.ts';
import { formatViolations } from '../../local/bench/invariants.ts';
import { DEFAULT_TEMP_TAG_PREFIX } from '../../core/contracts/input-schema.ts';
import { isTempTag } from '../../core/ecr/temp-tags.ts';
import type { LocalS3 } from '../../local/s3/index.ts';
import { startEcrWorld } from '../support/world.ts';
import { runObserved, startRunS3, type ReliabilityWorld } from './support.ts';

const ACCOUNT = '111111111111';
const SOURCE = 'ap-south-1';
const DESTINATIONS = [
  { region: 'ap-northeast-2', registryId: ACCOUNT },
  { region: 'eu-west-1', registryId: ACCOUNT },
];
const REPOSITORY = 'shop/app';

/** `shop/app`: `v1` (active), one untagged image, `old` (archived). */
async function selectionWorld(): Promise<
  ReliabilityWorld & { digests: { tagged: string; untagged: string; archived: string } }
> {
  const tagged = buildDockerImage('selection/tagged');
  const untagged = buildOciImage('selection/untagged');
  const archived = buildDockerImage('selection/archived');
  const world = await startEcrWorld({
    account: ACCOUNT,
    sourceRegion: SOURCE,
    replicationLatencyMs: 10,
    quotaScale: 1000,
    replication: { destinations: DESTINATIONS },
    images: [
      { repository: REPOSITORY, image: tagged, tags: ['v1'] },
      { repository: REPOSITORY, image: untagged, tags: [] },
      { repository: REPOSITORY, image: archived, tags: ['old'], status: 'ARCHIVED' },
    ],
  });
  return {
    ...world,
    digests: { tagged: tagged.digest, untagged: untagged.digest, archived: archived.digest },
  };
}

/** The image's tags in one registry, or undefined when the image is not there. */
function tagsOfImage(world: ReliabilityWorld, region: string, digest: string): string[] | undefined {
  return world.emulator.world.getImage(ACCOUNT, region, REPOSITORY, digest)?.tags;
}

describe('untagged and archived source images', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startRunS3(SOURCE, ACCOUNT);
  });
  afterAll(async () => {
    await s3.close();
  });

  it('are skipped by default: neither reaches a destination, neither is written in the source', async () => {
    // Prepare
    const world = await selectionWorld();
    try {
      // Act
      const run = await runObserved(world, { s3, input: {} });

      // Assess
      expect(run.result.status).toBe('SUCCEEDED');
      expect(formatViolations(run.violations)).toBe('');
      for (const { region } of DESTINATIONS) {
        expect(tagsOfImage(world, region, world.digests.tagged)).toEqual(['v1']);
        expect(tagsOfImage(world, region, world.digests.untagged)).toBeUndefined();
        expect(tagsOfImage(world, region, world.digests.archived)).toBeUndefined();
      }
      const image = (digest: string) => world.emulator.world.getImage(ACCOUNT, SOURCE, REPOSITORY, digest);
      expect(image(world.digests.untagged)?.tags).toEqual([]);
      expect(image(world.digests.archived)?.status).toBe('ARCHIVED');
      const touched = run.calls.filter(
        (c) =>
          c.operation === 'PutImage' &&
          c.account === ACCOUNT &&
          c.region === SOURCE &&
          (c.params.imageDigest === world.digests.untagged ||
            c.params.imageDigest === world.digests.archived),
      );
      expect(touched).toEqual([]);
    } finally {
      await world.close();
    }
  });

  it.each(['promote', 'retag-source'] as const)(
    '%s with includeUntagged and includeArchived: the untagged image keeps its marker tag everywhere and is never deleted; the archived one is restored and backfilled',
    async (strategy) => {
      // Prepare
      const world = await selectionWorld();
      try {
        // Act
        const run = await runObserved(world, {
          s3,
          input: { strategy, includeUntagged: true, includeArchived: true },
          invariants: { includeUntagged: true, includeArchived: true },
        });

        // Assess
        expect(run.result.status).toBe('SUCCEEDED');
        // The untagged image stands in the source and every destination with exactly one tag: a temp tag.
        const marker = tagsOfImage(world, SOURCE, world.digests.untagged);
        expect(marker).toHaveLength(1);
        expect(isTempTag(marker![0]!, DEFAULT_TEMP_TAG_PREFIX)).toBe(true);
        for (const { region } of DESTINATIONS)
          expect(tagsOfImage(world, region, world.digests.untagged)).toEqual(marker);
        // No delete ever named the marker tag or the untagged digest, in any registry.
        const deletedIds = run.calls
          .filter((c) => c.operation === 'BatchDeleteImage' && c.outcome === 'ok')
          .flatMap((c) => c.params.imageIds ?? []);
        expect(
          deletedIds.filter((id) => id.includes(marker![0]!) || id.includes(world.digests.untagged)),
        ).toEqual([]);
        // The report says what the temp tag is doing there.
        const markerRows = (run.result.report?.rows ?? []).filter(
          (r) => r.imageDigest === world.digests.untagged,
        );
        expect(markerRows).toHaveLength(DESTINATIONS.length);
        for (const row of markerRows) expect(row.detail).toContain('marker tag of an untagged image');
        // The archived image is active again and its tag in every destination.
        expect(
          world.emulator.world.getImage(ACCOUNT, SOURCE, REPOSITORY, world.digests.archived)?.status,
        ).toBe('ACTIVE');
        for (const { region } of DESTINATIONS)
          expect(tagsOfImage(world, region, world.digests.archived)).toEqual(['old']);
        // Invariants 1–6 hold too: the marker tags are the only temp tags left, as invariant 7 asks.
        expect(formatViolations(run.violations)).toBe('');
      } finally {
        await world.close();
      }
    },
  );
});
