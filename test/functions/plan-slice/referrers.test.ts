/**
 * PlanSlice plans an image's referrers (OCI 1.1: signatures, SBOMs, attestations): every one in the
 * source, transitively, and per destination the digests it lacks; a referrer is never an image to
 * re-push itself (it would need a temp tag, and removing an untagged image's last tag deletes it).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ARTIFACT_TYPES,
  buildDockerImage,
  buildOciIndex,
  buildReferrer,
  type BuiltImage,
} from '../../../local/ecr-emulator/images.ts';
import type { PlanSliceEvent, WorkItem } from '../../../core/contracts/contracts.ts';
import { plan } from '../../../functions/plan/plan.ts';
import { planSlice } from '../../../functions/plan-slice/plan-slice.ts';
import { getText } from '../../../core/run-files/run-store.ts';
import { S3RunStore } from '../../../core/run-files/s3-run-store.ts';
import {
  BUCKET,
  type PlanningWorld,
  planningWorldPerTest,
  SEOUL,
  SOURCE_ACCOUNT,
  SOURCE_REGION,
} from '../plan-support/world.ts';

const freshWorld = planningWorldPerTest();
let world: PlanningWorld;

const REPO = 'signed';
const image = buildDockerImage('signed/app');
const signature = buildReferrer('signed/app/sig', image, ARTIFACT_TYPES.notationSignature);
const sbom = buildReferrer('signed/app/sbom', image, ARTIFACT_TYPES.spdxSbom);
const sbomSignature = buildReferrer('signed/app/sbom-sig', sbom, ARTIFACT_TYPES.notationSignature);
const index = buildOciIndex('signed/multi');
const indexSignature = buildReferrer('signed/multi/sig', index, ARTIFACT_TYPES.cosignSignature);

const seed = (region: string, built: BuiltImage, tags: string[] = []) =>
  world.emulator.seedImage({ region, repository: REPO }, built, { tags });

beforeEach(async () => {
  world = await freshWorld();
  seed(SOURCE_REGION, image, ['v1']);
  for (const referrer of [signature, sbom, sbomSignature]) seed(SOURCE_REGION, referrer);
  seed(SOURCE_REGION, index, ['multi']);
  seed(SOURCE_REGION, indexSignature);
  await world.replicate([{ destinations: [{ region: SEOUL, registryId: SOURCE_ACCOUNT }] }]);
});

let lastCounts: Record<string, number> = {};

async function itemsOf(executionName: string, input: Record<string, unknown> = {}): Promise<WorkItem[]> {
  const context = await plan({ input, executionName }, world.deps);
  const event: PlanSliceEvent = {
    runId: context.runId,
    bucket: context.bucket,
    runPrefix: context.runPrefix,
    config: context.config,
    slice: { sliceIndex: 0, repositories: [REPO] },
  };
  const result = await planSlice(event, world.deps);
  lastCounts = result.counts;
  const text = await getText(new S3RunStore(world.s3), BUCKET, result.itemsKey);
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as WorkItem);
}
const byDigest = (items: WorkItem[], built: BuiltImage) => items.find((i) => i.imageDigest === built.digest);

describe('PlanSlice and referrers', () => {
  it('plans every referrer of each image, transitively, subjects first, missing in every destination', async () => {
    // Act
    const items = await itemsOf('all-missing');

    // Assess
    expect(items.map((i) => i.imageDigest).sort()).toEqual([image.digest, index.digest].sort());
    const app = byDigest(items, image);
    const digests = app?.referrers?.map((r) => r.digest) ?? [];
    expect([...digests].sort()).toEqual([signature.digest, sbom.digest, sbomSignature.digest].sort());
    // The SBOM's signature comes after the SBOM it signs.
    expect(digests.indexOf(sbomSignature.digest)).toBeGreaterThan(digests.indexOf(sbom.digest));
    expect(app?.referrers?.find((r) => r.digest === sbom.digest)).toEqual({
      digest: sbom.digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: ARTIFACT_TYPES.spdxSbom,
    });
    expect(app?.destinations[0]?.referrers).toEqual(digests);
    expect(byDigest(items, index)?.referrers?.map((r) => r.digest)).toEqual([indexSignature.digest]);
    // Counted per (referrer, destination): four referrers, one destination.
    expect(lastCounts.REFERRERS_MISSING).toBe(4);
    expect(world.writeCalls()).toBe(0);
  });

  it('plans only the referrers a destination lacks, and an item for them alone when every tag is there', async () => {
    // Prepare: Seoul has the image, its tag and its signature, not the SBOM nor the SBOM's signature.
    seed(SEOUL, image, ['v1']);
    seed(SEOUL, signature);

    // Act
    const items = await itemsOf('some-missing');

    // Assess
    const app = byDigest(items, image);
    expect(app?.destinations).toEqual([
      expect.objectContaining({
        region: SEOUL,
        tags: [],
        digestPresent: true,
        referrers: [sbom.digest, sbomSignature.digest],
      }),
    ]);
  });

  it('plans nothing for an image whose tags and referrers are all in every destination', async () => {
    // Prepare
    for (const built of [image, signature, sbom, sbomSignature])
      seed(SEOUL, built, built === image ? ['v1'] : []);

    // Act
    const items = await itemsOf('all-there');

    // Assess
    expect(byDigest(items, image)).toBeUndefined();
  });

  it('never selects an untagged referrer as an image of its own, even with includeUntagged', async () => {
    // Act
    const items = await itemsOf('untagged', { includeUntagged: true });

    // Assess
    const selected = items.map((i) => i.imageDigest);
    for (const referrer of [signature, sbom, sbomSignature, indexSignature]) {
      expect(selected).not.toContain(referrer.digest);
    }
    expect(byDigest(items, image)?.referrers).toHaveLength(3);
  });

  it('copies only the artifact types the input lists, a signature of an SBOM only with the SBOM', async () => {
    // Act
    const sbomsOnly = await itemsOf('sboms', { referrers: [ARTIFACT_TYPES.spdxSbom] });
    const signaturesOnly = await itemsOf('signatures', { referrers: [ARTIFACT_TYPES.notationSignature] });
    const none = await itemsOf('none', { referrers: 'none', includeUntagged: true });

    // Assess
    expect(byDigest(sbomsOnly, image)?.referrers?.map((r) => r.digest)).toEqual([sbom.digest]);
    expect(byDigest(sbomsOnly, index)?.referrers).toBeUndefined();
    // The SBOM's signature is not followed without its SBOM.
    expect(byDigest(signaturesOnly, image)?.referrers?.map((r) => r.digest)).toEqual([signature.digest]);
    expect(byDigest(signaturesOnly, image)?.destinations[0]?.referrers).toEqual([signature.digest]);
    // None copied, and still none selected as an image of its own.
    expect(none.map((i) => i.imageDigest).sort()).toEqual([image.digest, index.digest].sort());
    expect(none.every((i) => i.referrers === undefined)).toBe(true);
  });

  it('refuses an artifact type that is not a media type, naming it, before anything is written', async () => {
    // Act
    const error = await plan({ input: { referrers: ['spdx'] }, executionName: 'bad' }, world.deps).catch(
      (e: unknown) => e as Error,
    );

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('InvalidInput');
    expect((error as Error).message).toContain('referrers');
    expect(world.writeCalls()).toBe(0);
  });
});
