/**
 * The classic single-loop trick, as the baseline models it: it does deliver every covered tag, and it
 * shows the flaws it is known for — two source PutImage calls per tag, and every source tag
 * unpullable for a moment.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEcrEmulator, type EcrEmulator } from '../../ecr-emulator/index.ts';
import { CLASSIC_TEMP_TAG_SUFFIX, classicTempTag, runClassicTrick } from '../../bench/classic-trick.ts';
import { expectedWork } from '../../bench/expected-work.ts';
import { SourceEventObserver } from '../../bench/observer.ts';
import { seedGeneratedRegistry } from '../../bench/registry-generator.ts';

describe('the classic trick baseline', () => {
  let emulator: EcrEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
  });

  it('delivers every covered tag, and makes every source tag briefly unpullable', async () => {
    // Prepare
    emulator = await startEcrEmulator({ replicationLatencyMs: 10, quotaScale: 100 });
    const registry = seedGeneratedRegistry(emulator, {
      seed: 9,
      repositories: 6,
      imagesPerRepository: 3,
      tagsPerImage: 2,
      destinations: 2,
      conflictShare: 0,
    });
    const work = expectedWork(registry);
    const observer = new SourceEventObserver(emulator.world, {
      account: registry.sourceAccount,
      region: registry.sourceRegion,
      ignoreTag: (tag) => tag.endsWith(CLASSIC_TEMP_TAG_SUFFIX),
    });

    // Act
    const result = await runClassicTrick({
      endpoint: emulator.endpoint,
      sourceRegion: registry.sourceRegion,
      account: registry.sourceAccount,
      pollIntervalMs: 5,
    });
    await emulator.whenReplicationIdle();
    observer.stop();

    // Assess
    expect(result.errors).toEqual([]);
    expect(result.tags).toBe(work.coveredTags);
    for (const repository of registry.repositories) {
      for (const image of repository.images.filter((i) => i.status === 'ACTIVE')) {
        for (const tag of image.tags) {
          expect(
            emulator.world.resolveTag(registry.sourceAccount, registry.sourceRegion, repository.name, tag),
          ).toBe(image.digest);
          for (const index of repository.coveredBy) {
            const d = registry.destinations[index]!;
            expect(emulator.world.resolveTag(d.registryId, d.region, repository.name, tag)).toBe(
              image.digest,
            );
          }
        }
      }
    }
    // Its temp tags are gone from the source; in the destinations a copy landing after the cleanup
    // (the replication status of a digest reads COMPLETE after its first copy) may bring one back.
    const sourceLeftovers = emulator
      .snapshot()
      .registries.filter((r) => r.region === registry.sourceRegion)
      .flatMap((r) => r.repositories.flatMap((repo) => repo.images.flatMap((i) => i.tags)))
      .filter((tag) => tag.endsWith(CLASSIC_TEMP_TAG_SUFFIX));
    expect(sourceLeftovers).toEqual([]);
    const sourcePuts = emulator.callLog.count({ operation: 'PutImage', region: registry.sourceRegion });
    expect(sourcePuts).toBe(2 * work.coveredTags);
    expect(observer.report().windows).toBe(work.coveredTags);
    expect(observer.report().neverRestored).toEqual([]);
    // Uncovered repositories are left alone (the baseline is given that much).
    const uncovered = registry.repositories.filter((r) => r.coveredBy.length === 0).map((r) => r.name);
    expect(
      emulator.callLog
        .entries({ operation: 'PutImage' })
        .filter((c) => uncovered.includes(c.params.repositoryName ?? '')),
    ).toEqual([]);
  });

  it('names temp tags after the tag, within 128 characters', () => {
    expect(classicTempTag('v1.2.3')).toBe('v1.2.3-bkfl');
    expect(classicTempTag('x'.repeat(128))).toHaveLength(128);
  });
});
