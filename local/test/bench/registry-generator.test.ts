/**
 * The generated registry: deterministic for a seed, the mix the bench claims, and a ground truth
 * (expectedWork) that agrees with what the emulator actually holds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEcrEmulator, type EcrEmulator } from '../../ecr-emulator/index.ts';
import { expectedWork, putImageNeeds, quotaBound } from '../../bench/expected-work.ts';
import { seedGeneratedRegistry, type GeneratedRegistry } from '../../bench/registry-generator.ts';

const SHAPE = { repositories: 12, imagesPerRepository: 6, tagsPerImage: 3, destinations: 2 };

describe('the generated registry', () => {
  const emulators: EcrEmulator[] = [];
  const generate = async (
    seed: number,
    shape = SHAPE,
  ): Promise<{ emulator: EcrEmulator; registry: GeneratedRegistry }> => {
    const emulator = await startEcrEmulator({});
    emulators.push(emulator);
    return { emulator, registry: seedGeneratedRegistry(emulator, { seed, ...shape }) };
  };
  afterEach(async () => {
    for (const emulator of emulators.splice(0)) await emulator.close();
  });

  it('is the same for the same seed and different for another', async () => {
    const one = await generate(7);
    const two = await generate(7);
    const three = await generate(8);
    const shape = (g: GeneratedRegistry) =>
      g.repositories.map((r) => ({
        name: r.name,
        coveredBy: r.coveredBy,
        images: r.images.map((i) => [i.digest, i.tags, i.status]),
        destinations: r.destinations.map((d) => [d.destination, [...d.tags], [...d.digests]]),
      }));
    expect(shape(two.registry)).toEqual(shape(one.registry));
    expect(three.registry.repositories[0]?.images[0]?.digest).not.toBe(
      one.registry.repositories[0]?.images[0]?.digest,
    );
  });

  it('mixes single-arch and multi-arch images, untagged, archived, uncovered, present and conflicting', async () => {
    const { emulator, registry } = await generate(3, { ...SHAPE, repositories: 30 });
    const images = registry.repositories.flatMap((r) => r.images);
    const formats = new Set(images.map((i) => i.format));
    expect(formats).toEqual(new Set(['docker', 'oci', 'oci-index', 'docker-list']));
    expect(images.some((i) => i.tags.length === 0)).toBe(true);
    expect(images.some((i) => i.status === 'ARCHIVED')).toBe(true);
    expect(images.filter((i) => i.tags.includes('latest')).length).toBe(30);
    expect(registry.repositories.some((r) => r.coveredBy.length === 0)).toBe(true);
    expect(registry.repositories.some((r) => r.coveredBy.length === 1)).toBe(true);
    const work = expectedWork(registry);
    expect(work.alreadyPresent).toBeGreaterThan(0);
    expect(work.conflicts).toBeGreaterThan(0);
    // Indexes come with their platform manifests and buildx attestations (platform unknown/unknown).
    const index = images.find((i) => i.format === 'oci-index')!;
    const repository = registry.repositories.find((r) => r.images.includes(index))!;
    const stored = emulator.world.getImage(
      registry.sourceAccount,
      registry.sourceRegion,
      repository.name,
      index.digest,
    )!;
    expect(stored.children.length).toBe(4);
    expect(stored.manifest).toContain('attestation-manifest');
    // An OCI manifest without a top-level mediaType is in the mix too.
    const bare = images
      .filter((i) => i.format === 'oci')
      .some((i) => {
        const r = registry.repositories.find((repo) => repo.images.includes(i))!;
        const m = emulator.world.getImage(
          registry.sourceAccount,
          registry.sourceRegion,
          r.name,
          i.digest,
        )!.manifest;
        return !('mediaType' in (JSON.parse(m) as object));
      });
    expect(bare).toBe(true);
  });

  it('counts the deliveries that the emulator state really lacks', async () => {
    const { emulator, registry } = await generate(5);
    let lacking = 0;
    for (const repository of registry.repositories) {
      for (const image of repository.images) {
        if (image.status !== 'ACTIVE') continue;
        for (const index of repository.coveredBy) {
          const d = registry.destinations[index]!;
          for (const tag of image.tags) {
            if (emulator.world.resolveTag(d.registryId, d.region, repository.name, tag) === undefined)
              lacking += 1;
          }
        }
      }
    }
    const work = expectedWork(registry);
    expect(work.deliveries).toBe(lacking);
    expect(work.deliveriesPerDestination.reduce((a, b) => a + b, 0)).toBe(work.deliveries);
  });

  it('derives PutImage needs per strategy and the quota bound of the busiest registry', async () => {
    const { registry } = await generate(5);
    const work = expectedWork(registry);
    const promote = putImageNeeds(registry, work, 'promote');
    expect(promote[`${registry.sourceAccount}/${registry.sourceRegion}`]).toBe(work.digestsToReplicate);
    expect(promote[`${registry.destinations[0]!.registryId}/${registry.destinations[0]!.region}`]).toBe(
      work.deliveriesPerDestination[0],
    );
    expect(putImageNeeds(registry, work, 'classic')).toEqual({
      [`${registry.sourceAccount}/${registry.sourceRegion}`]: 2 * work.coveredTags,
    });
    const bound = quotaBound({ a: 40, b: 100 }, 50, 300);
    expect(bound).toEqual({ seconds: 2.3, busiestRegistry: 'b', busiestCalls: 100, ratePerSecond: 50 });
    expect(() => quotaBound({ a: 1 }, Infinity, 0)).toThrow(RangeError);
  });
});
