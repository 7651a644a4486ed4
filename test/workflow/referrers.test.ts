/**
 * Referrers follow their image (issue 21's "Done when"): images with a signature and an SBOM, one with a
 * signature of its SBOM, and a multi-architecture index with a signature, all there before replication
 * was configured. After a run, each destination's ListImageReferrers returns the source's referrer
 * digests for every image, the source is unchanged, and no temporary tag is left anywhere. With `{}`
 * the auto engine picks the re-push engine: a native backfill is not documented to copy referrers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ECRClient } from '@aws-sdk/client-ecr';
import {
  ARTIFACT_TYPES,
  buildDockerImage,
  buildOciImage,
  buildOciIndex,
  buildReferrer,
  EcrError,
  type BuiltImage,
} from '../../local/ecr-emulator/index.ts';
import { listReferrersTransitively } from '../../core/ecr/referrers.ts';
import { reportedRun } from '../functions/native/support/native-workflow.ts';
import { digestsOf, tagsOf, tempTagsAnywhere } from './helpers.ts';
import {
  OREGON,
  runWorkflow,
  SEOUL,
  SOURCE_ACCOUNT,
  startWorld,
  RUN_BUCKET,
  type SeedImage,
  type World,
} from '../support/world.ts';

const REPO = 'signed/app';
const plain = buildDockerImage('ref-flow/plain');
const signedOnly = buildOciImage('ref-flow/signed');
const signedSbom = buildDockerImage('ref-flow/sbom');
const index = buildOciIndex('ref-flow/multi');
const sbom = buildReferrer('ref-flow/sbom/sbom', signedSbom, ARTIFACT_TYPES.spdxSbom);
const REFERRERS: BuiltImage[] = [
  buildReferrer('ref-flow/signed/sig', signedOnly, ARTIFACT_TYPES.notationSignature),
  buildReferrer('ref-flow/signed/sbom', signedOnly, ARTIFACT_TYPES.spdxSbom),
  buildReferrer('ref-flow/sbom/sig', signedSbom, ARTIFACT_TYPES.notationSignature),
  sbom,
  buildReferrer('ref-flow/sbom/sbom-sig', sbom, ARTIFACT_TYPES.notationSignature),
  buildReferrer('ref-flow/multi/sig', index, ARTIFACT_TYPES.cosignSignature),
];
const SUBJECTS: Array<{ image: BuiltImage; tag: string }> = [
  { image: plain, tag: 'plain' },
  { image: signedOnly, tag: 'signed' },
  { image: signedSbom, tag: 'sbom' },
  { image: index, tag: 'multi' },
];
const images: SeedImage[] = [
  ...SUBJECTS.map(({ image, tag }) => ({ repository: REPO, image, tags: [tag] })),
  ...REFERRERS.map((image) => ({ repository: REPO, image, tags: [] })),
];

describe('referrers follow their image', () => {
  let world: World | undefined;
  const clients: ECRClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await world?.close();
    world = undefined;
  });

  /** Every image's referrers in one registry, transitively, as ListImageReferrers lists them. */
  const referrersIn = async (region: string): Promise<Record<string, string[]>> => {
    const client = world!.emulator.client(region, { account: SOURCE_ACCOUNT });
    clients.push(client);
    const listed: Record<string, string[]> = {};
    for (const { image } of SUBJECTS) {
      const referrers = await listReferrersTransitively(client, { repositoryName: REPO }, image.digest);
      listed[image.digest] = referrers.map((r) => r.digest).sort();
    }
    return listed;
  };

  it('arrive in every destination untagged at the same digests, the source unchanged, no temp tag left', async () => {
    // Prepare: everything was pushed before the rule existed (seeded: nothing replicated).
    world = await startWorld({ images, buckets: [RUN_BUCKET] });
    await world.replicate([
      {
        destinations: [
          { region: SEOUL, registryId: SOURCE_ACCOUNT },
          { region: OREGON, registryId: SOURCE_ACCOUNT },
        ],
      },
    ]);
    const before = world.emulator.snapshot();
    const sourceReferrers = await referrersIn(world.source.region);

    // Act
    const result = await runWorkflow(world, { s3: world.s3, input: {} });
    await world.emulator.whenReplicationIdle();
    const after = world.emulator.snapshot();

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    // `{}` selects the whole scope, yet auto re-pushes: only that engine copies referrers.
    const { plan } = reportedRun(result);
    expect(plan.engine.method).toBe('repush');
    expect(plan.engine.reason).toContain('referrer');
    expect(plan.counts.REFERRERS_MISSING).toBe(2 * REFERRERS.length);
    // The report counts them per artifact type and outcome, per (referrer, destination).
    expect(result.report?.summary.referrers).toEqual({
      [ARTIFACT_TYPES.notationSignature]: { BACKFILLED: 6 },
      [ARTIFACT_TYPES.spdxSbom]: { BACKFILLED: 4 },
      [ARTIFACT_TYPES.cosignSignature]: { BACKFILLED: 2 },
    });
    // The source lists the six referrers (the SBOM's signature under the SBOM).
    expect(Object.values(sourceReferrers).flat()).toHaveLength(REFERRERS.length);
    for (const region of [SEOUL, OREGON]) {
      expect(await referrersIn(region)).toEqual(sourceReferrers);
      const destination = { account: SOURCE_ACCOUNT, region };
      // Untagged there as in the source: only the subjects' tags exist.
      expect([...tagsOf(after, destination).keys()].sort()).toEqual(
        SUBJECTS.map(({ tag }) => `${REPO}:${tag}`).sort(),
      );
    }
    expect(tagsOf(after, world.source)).toEqual(tagsOf(before, world.source));
    expect(digestsOf(after, world.source)).toEqual(digestsOf(before, world.source));
    expect(tempTagsAnywhere(after)).toEqual([]);
    // No referrer was ever given a tag, anywhere: no PutImage names one with a tag.
    const referrerDigests = new Set(REFERRERS.map((r) => r.digest));
    const taggedReferrerPuts = world.emulator.callLog
      .entries({ operation: 'PutImage' })
      .filter((call) => referrerDigests.has(String(call.params.imageDigest)) && call.params.imageTag);
    expect(taggedReferrerPuts).toEqual([]);
  });

  it('with the native engine forced: NativeVerify copies what the backfill left out, untagged, nothing in the source', async () => {
    // Prepare: everything was pushed before the rule existed (seeded: nothing replicated).
    world = await startWorld({ images, buckets: [RUN_BUCKET] });
    await world.replicate([
      {
        destinations: [
          { region: SEOUL, registryId: SOURCE_ACCOUNT },
          { region: OREGON, registryId: SOURCE_ACCOUNT },
        ],
      },
    ]);
    const before = world.emulator.snapshot();
    const sourceReferrers = await referrersIn(world.source.region);
    world.emulator.callLog.clear();

    // Act
    const result = await runWorkflow(world, { s3: world.s3, input: { method: 'native' } });
    await world.emulator.whenReplicationIdle();
    const after = world.emulator.snapshot();

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const { plan, native } = reportedRun(result);
    expect(plan.engine.method).toBe('native');
    // The backfill brought every image and tag (nothing to repair), but no referrer (the emulator's
    // conservative case): NativeVerify copied them all, per (referrer, destination).
    expect(native?.repair).toBe(0);
    expect(result.report?.summary.referrers).toEqual({
      [ARTIFACT_TYPES.notationSignature]: { BACKFILLED: 6 },
      [ARTIFACT_TYPES.spdxSbom]: { BACKFILLED: 4 },
      [ARTIFACT_TYPES.cosignSignature]: { BACKFILLED: 2 },
    });
    for (const region of [SEOUL, OREGON]) {
      expect(await referrersIn(region)).toEqual(sourceReferrers);
      const destination = { account: SOURCE_ACCOUNT, region };
      expect([...tagsOf(after, destination).keys()].sort()).toEqual(
        SUBJECTS.map(({ tag }) => `${REPO}:${tag}`).sort(),
      );
      // Each referrer was put once, untagged, at its digest (the index's children came with the backfill).
      const puts = world.emulator.callLog.entries({ operation: 'PutImage', region });
      expect(puts.map((call) => call.params.imageDigest).sort()).toEqual(
        REFERRERS.map((r) => r.digest).sort(),
      );
      expect(puts.filter((call) => call.params.imageTag !== undefined)).toEqual([]);
    }
    expect(world.emulator.callLog.entries({ operation: 'PutImage', region: world.source.region })).toEqual(
      [],
    );
    expect(tagsOf(after, world.source)).toEqual(tagsOf(before, world.source));
    expect(digestsOf(after, world.source)).toEqual(digestsOf(before, world.source));
    expect(tempTagsAnywhere(after)).toEqual([]);
  });

  it('a referrer copy that failed fails the batch, and a redrive copies it', async () => {
    // Prepare: the destination refuses the first untagged put of a referrer (AccessDenied is never retried).
    world = await startWorld({ images, buckets: [RUN_BUCKET] });
    await world.replicate([{ destinations: [{ region: SEOUL, registryId: SOURCE_ACCOUNT }] }]);
    const referrerDigests = new Set(REFERRERS.map((r) => r.digest));
    world.emulator.faults.add({
      operation: 'PutImage',
      region: SEOUL,
      match: (call) =>
        call.input.imageTag === undefined && referrerDigests.has(String(call.input.imageDigest)),
      times: 1,
      error: new EcrError('AccessDeniedException', 'User is not authorized to perform: ecr:PutImage'),
    });
    const sourceReferrers = await referrersIn(world.source.region);

    // Act
    const result = await runWorkflow(world, {
      s3: world.s3,
      input: { method: 'repush' },
      maxRedrives: 2,
    });
    await world.emulator.whenReplicationIdle();

    // Assess
    expect(result.redrives).toBeGreaterThan(0);
    expect(result.status).toBe('SUCCEEDED');
    expect(await referrersIn(SEOUL)).toEqual(sourceReferrers);
    expect(tempTagsAnywhere(world.emulator.snapshot())).toEqual([]);
  });

  it('copies only the referrers a destination lacks when its image and tags are already there, pushing nothing in the source', async () => {
    // Prepare: Seoul already holds every image with its tags, and some of the referrers.
    const inSeoul: SeedImage[] = [
      ...SUBJECTS.map(({ image, tag }) => ({
        repository: REPO,
        image,
        tags: [tag],
        registry: { region: SEOUL },
      })),
      ...REFERRERS.slice(0, 2).map((image) => ({
        repository: REPO,
        image,
        tags: [],
        registry: { region: SEOUL },
      })),
    ];
    world = await startWorld({ images: [...images, ...inSeoul], buckets: [RUN_BUCKET] });
    await world.replicate([{ destinations: [{ region: SEOUL, registryId: SOURCE_ACCOUNT }] }]);
    const sourceReferrers = await referrersIn(world.source.region);
    world.emulator.callLog.clear();

    // Act
    const result = await runWorkflow(world, { s3: world.s3, input: {} });
    await world.emulator.whenReplicationIdle();

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(reportedRun(result).plan.counts.REFERRERS_MISSING).toBe(REFERRERS.length - 2);
    expect(await referrersIn(SEOUL)).toEqual(sourceReferrers);
    // Nothing was re-pushed in the source: the images were there, only referrers were copied.
    const sourcePuts = world.emulator.callLog.entries({ operation: 'PutImage', region: world.source.region });
    expect(sourcePuts).toEqual([]);
    const copies = world.emulator.callLog.entries({ operation: 'PutImage', region: SEOUL });
    expect(copies.map((call) => call.params.imageDigest).sort()).toEqual(
      REFERRERS.slice(2)
        .map((r) => r.digest)
        .sort(),
    );
    expect(tempTagsAnywhere(world.emulator.snapshot())).toEqual([]);
  });
});
