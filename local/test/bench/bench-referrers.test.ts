/**
 * The bench's referrers (issue 21, item 8): the options are checked at the edge and name the flag,
 * the generator makes the shares it is asked for (and seeds the referrers as the emulator lists
 * them), and the referrer-parity check finds a referrer a destination lacks, transitively.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DescribeImagesCommand, ListImageReferrersCommand } from '@aws-sdk/client-ecr';
import {
  buildDockerImage,
  buildReferrer,
  startEcrEmulator,
  ARTIFACT_TYPES,
  type EcrEmulator,
} from '../../ecr-emulator/index.ts';
import { expectedWork } from '../../bench/expected-work.ts';
import { checkReferrerParity } from '../../bench/referrer-parity.ts';
import {
  resolveShape,
  seedGeneratedRegistry,
  type GeneratedRegistry,
  type RegistryShape,
} from '../../bench/registry-generator.ts';
import { runCli } from '../../../test/cli/cli-harness.ts';

const SHAPE = { repositories: 12, imagesPerRepository: 10, tagsPerImage: 2, destinations: 2 };

describe('bench options --signed-share and --sbom-share', () => {
  it.each([
    ['--signed-share', '1.5'],
    ['--signed-share', '-0.1'],
    ['--sbom-share', 'abc'],
    ['--sbom-share', ''],
  ])('refuses %s %j, naming the flag', async (flag, value) => {
    // Act
    const run = await runCli(['bench', flag, value, '--strategies', 'none', '--planner-images', '0']);

    // Assess
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain(flag);
    expect(run.stderr).toContain('between 0 and 1');
  });

  it.each(['signedShare', 'sbomShare'] as const)(
    'the generator refuses a %s outside 0..1, naming it',
    (name) => {
      // Act
      const resolve = () => resolveShape({ seed: 1, ...SHAPE, [name]: 2 });

      // Assess
      expect(resolve).toThrow(RangeError);
      expect(resolve).toThrow(name);
    },
  );
});

describe('the generated registry’s referrers', () => {
  const emulators: EcrEmulator[] = [];
  const generate = async (
    shape: Partial<RegistryShape>,
  ): Promise<{ emulator: EcrEmulator; registry: GeneratedRegistry }> => {
    const emulator = await startEcrEmulator({});
    emulators.push(emulator);
    return { emulator, registry: seedGeneratedRegistry(emulator, { seed: 5, ...SHAPE, ...shape }) };
  };
  afterEach(async () => {
    for (const emulator of emulators.splice(0)) await emulator.close();
  });
  const tagged = (registry: GeneratedRegistry) =>
    registry.repositories.flatMap((r) => r.images.filter((i) => i.tags.length > 0));
  const ofType = (registry: GeneratedRegistry, type: string) =>
    registry.repositories
      .flatMap((r) => r.images.flatMap((i) => i.referrers))
      .filter((r) => r.artifactType === type);

  it('signs and SBOMs about the shares asked for, and signs some SBOMs', async () => {
    // Arrange
    const signedShare = 0.5;
    const sbomShare = 0.3;

    // Act
    const { registry } = await generate({ signedShare, sbomShare });

    // Assess: 120 images; the tolerance is about three binomial standard deviations.
    const images = tagged(registry);
    const digests = new Set(images.map((i) => i.digest));
    const signed = images.filter((i) =>
      i.referrers.some((r) => r.subject === i.digest && r.artifactType !== ARTIFACT_TYPES.spdxSbom),
    );
    const sboms = ofType(registry, ARTIFACT_TYPES.spdxSbom);
    const sbomDigests = new Set(sboms.map((s) => s.digest));
    const signedSboms = registry.repositories
      .flatMap((r) => r.images.flatMap((i) => i.referrers))
      .filter((r) => sbomDigests.has(r.subject));
    expect(signed.length / images.length).toBeGreaterThan(signedShare - 0.15);
    expect(signed.length / images.length).toBeLessThan(signedShare + 0.15);
    expect(sboms.length / images.length).toBeGreaterThan(sbomShare - 0.15);
    expect(sboms.length / images.length).toBeLessThan(sbomShare + 0.15);
    expect(sboms.every((s) => digests.has(s.subject))).toBe(true);
    expect(signedSboms.length).toBeGreaterThan(0);
    expect(signedSboms.length).toBeLessThan(sboms.length);
  });

  it('gives every image a signature and a signed SBOM at 1, none at 0, and leaves the rest of the registry alone', async () => {
    // Act
    const all = await generate({ signedShare: 1, sbomShare: 1 });
    const none = await generate({ signedShare: 0, sbomShare: 0 });

    // Assess
    const images = tagged(all.registry);
    for (const image of images) {
      const direct = image.referrers.filter((r) => r.subject === image.digest);
      expect(direct.map((r) => r.artifactType)).toContain(ARTIFACT_TYPES.spdxSbom);
      expect(direct).toHaveLength(2);
      expect(image.referrers).toHaveLength(3);
    }
    expect(tagged(none.registry).every((i) => i.referrers.length === 0)).toBe(true);
    const withoutReferrers = (g: GeneratedRegistry) =>
      g.repositories.map((r) => r.images.map((i) => [i.digest, i.tags, i.status]));
    expect(withoutReferrers(all.registry)).toEqual(withoutReferrers(none.registry));
  });

  it('seeds the referrers untagged in the source, where ListImageReferrers finds them', async () => {
    // Act
    const { emulator, registry } = await generate({ signedShare: 0.5, sbomShare: 0.5 });

    // Assess
    const repository = registry.repositories.find((r) => r.images.some((i) => i.referrers.length > 0))!;
    const image = repository.images.find((i) => i.referrers.length > 0)!;
    const client = emulator.client(registry.sourceRegion, { account: registry.sourceAccount });
    const listed = await client.send(
      new ListImageReferrersCommand({
        repositoryName: repository.name,
        subjectId: { imageDigest: image.digest },
      }),
    );
    const direct = image.referrers.filter((r) => r.subject === image.digest);
    expect((listed.referrers ?? []).map((r) => r.digest).sort()).toEqual(direct.map((r) => r.digest).sort());
    const described = await client.send(
      new DescribeImagesCommand({
        repositoryName: repository.name,
        imageIds: image.referrers.map((r) => ({ imageDigest: r.digest })),
      }),
    );
    expect(described.imageDetails).toHaveLength(image.referrers.length);
    expect(described.imageDetails?.every((d) => (d.imageTags ?? []).length === 0)).toBe(true);
  });

  it('counts the referrer copies a run must make, less those a destination already holds', async () => {
    // Act
    const { registry } = await generate({ signedShare: 1, sbomShare: 1 });
    const work = expectedWork(registry);

    // Assess: recount by hand from the records, each (referrer, destination) pair once.
    let expected = 0;
    for (const repository of registry.repositories) {
      for (const image of repository.images) {
        if (image.status !== 'ACTIVE' || image.tags.length === 0) continue;
        for (const d of repository.coveredBy) {
          const content = repository.destinations.find((c) => c.destination === d);
          const receives = image.tags.some((t) => content?.tags.get(t) === undefined);
          if (!receives && !content?.digests.has(image.digest)) continue;
          expected += image.referrers.filter((r) => !content?.digests.has(r.digest)).length;
        }
      }
    }
    expect(work.referrersToCopy).toBe(expected);
    expect(work.referrersToCopy).toBeGreaterThan(0);
    expect(work.referrersToCopyPerDestination.reduce((a, b) => a + b, 0)).toBe(work.referrersToCopy);
    // Some present images brought their referrers along: fewer copies than referrers × destinations.
    const held = registry.repositories.some((r) =>
      r.destinations.some((c) => r.images.some((i) => i.referrers.some((ref) => c.digests.has(ref.digest)))),
    );
    expect(held).toBe(true);
  });
});

describe('referrer parity', () => {
  const ACCOUNT = '111111111111';
  const SOURCE = 'ap-south-1';
  const SEOUL = 'ap-northeast-2';
  const image = buildDockerImage('parity/v1');
  const sbom = buildReferrer('parity/v1/sbom', image, ARTIFACT_TYPES.spdxSbom);
  const sbomSignature = buildReferrer('parity/v1/sbom/sig', sbom, ARTIFACT_TYPES.notationSignature);
  const emulators: EcrEmulator[] = [];
  afterEach(async () => {
    for (const emulator of emulators.splice(0)) await emulator.close();
  });

  /** The source holds v1 with its SBOM and the SBOM's signature; Seoul holds v1 and `inSeoul`. */
  async function world(inSeoul: (typeof sbom)[]) {
    const emulator = await startEcrEmulator({ account: ACCOUNT, replicationLatencyMs: 0 });
    emulators.push(emulator);
    emulator.world.setReplicationConfiguration(ACCOUNT, SOURCE, {
      rules: [
        {
          destinations: [{ region: SEOUL, registryId: ACCOUNT }],
          repositoryFilters: [{ filter: 'app/', filterType: 'PREFIX_MATCH' }],
        },
      ],
    });
    for (const img of [image, sbom, sbomSignature]) {
      emulator.seedImage({ region: SOURCE, repository: 'app/api' }, img, {
        tags: img === image ? ['v1'] : [],
      });
    }
    const before = emulator.snapshot();
    emulator.seedImage({ region: SEOUL, repository: 'app/api' }, image, { tags: ['v1'] });
    for (const referrer of inSeoul)
      emulator.seedImage({ region: SEOUL, repository: 'app/api' }, referrer, { tags: [] });
    return { before, after: emulator.snapshot() };
  }
  const check = (
    s: { before: ReturnType<EcrEmulator['snapshot']>; after: ReturnType<EcrEmulator['snapshot']> },
    succeeded = true,
  ) =>
    checkReferrerParity({
      ...s,
      source: { account: ACCOUNT, region: SOURCE },
      tempTagPrefix: 'ecr-backfill-',
      succeeded,
    });

  it('holds when the destination has every referrer, transitively', async () => {
    expect(check(await world([sbom, sbomSignature]))).toEqual([]);
  });

  it('finds the signature of an SBOM missing in a destination', async () => {
    // Act
    const missing = check(await world([sbom]));

    // Assess
    expect(missing).toEqual([
      {
        repository: 'app/api',
        image: image.digest,
        referrer: sbomSignature.digest,
        artifactType: ARTIFACT_TYPES.notationSignature,
        destination: `${ACCOUNT}/${SEOUL}`,
      },
    ]);
  });

  it('finds every referrer missing when none arrived, but judges only a run that succeeded', async () => {
    // Arrange
    const state = await world([]);

    // Act / Assess
    expect(
      check(state)
        .map((m) => m.referrer)
        .sort(),
    ).toEqual([sbom.digest, sbomSignature.digest].sort());
    expect(check(state, false)).toEqual([]);
  });
});
