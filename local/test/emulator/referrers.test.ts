/**
 * OCI 1.1 referrers and ListImageReferrers, as the API reference documents them:
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ListImageReferrers.html
 */
import { createHash } from 'node:crypto';
import {
  GetDownloadUrlForLayerCommand,
  ListImageReferrersCommand,
  PutImageCommand,
  PutReplicationConfigurationCommand,
  StartReplicationBackfillCommand,
  type ECRClient,
  type ListImageReferrersCommandInput,
} from '@aws-sdk/client-ecr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ARTIFACT_TYPES,
  allowAccountsPolicy,
  buildDockerImage,
  buildOciIndex,
  buildReferrer,
  pushImage,
  type BuiltImage,
} from '../../ecr-emulator/index.ts';
import { errorOf, startHarness, type Harness } from './helpers.ts';

const SOURCE = 'ap-south-1';
const DEST = 'ap-northeast-2';
const ACCOUNT = '111111111111';
const OTHER = '222222222222';
const REPO = 'shop/api';

describe('ListImageReferrers and referrers', () => {
  let h: Harness;
  let source: ECRClient;

  const list = async (client: ECRClient, input: Omit<ListImageReferrersCommandInput, 'repositoryName'>) =>
    client.send(new ListImageReferrersCommand({ repositoryName: REPO, ...input }));
  const digestsOf = async (
    client: ECRClient,
    subject: string,
    filter?: ListImageReferrersCommandInput['filter'],
  ) =>
    (
      (await list(client, { subjectId: { imageDigest: subject }, ...(filter ? { filter } : {}) }))
        .referrers ?? []
    )
      .map((r) => r.digest)
      .sort();
  const configureReplication = () =>
    source.send(
      new PutReplicationConfigurationCommand({
        replicationConfiguration: { rules: [{ destinations: [{ region: DEST, registryId: ACCOUNT }] }] },
      }),
    );
  /** An image with a signature and an SBOM, and a signature of the SBOM, pushed through the API. */
  const pushSignedImage = async (seed: string) => {
    const image = buildDockerImage(seed);
    const signature = buildReferrer(`${seed}/sig`, image, ARTIFACT_TYPES.notationSignature);
    const sbom = buildReferrer(`${seed}/sbom`, image, ARTIFACT_TYPES.spdxSbom);
    const sbomSignature = buildReferrer(`${seed}/sbom-sig`, sbom, ARTIFACT_TYPES.notationSignature);
    await pushImage(source, REPO, image, { tag: 'v1' });
    for (const referrer of [signature, sbom, sbomSignature]) await pushImage(source, REPO, referrer);
    return { image, signature, sbom, sbomSignature };
  };
  const sorted = (...images: BuiltImage[]) => images.map((i) => i.digest).sort();

  beforeEach(async () => {
    h = await startHarness();
    source = h.client(SOURCE);
    h.emulator.world.createRepository(ACCOUNT, SOURCE, REPO);
  });
  afterEach(() => h.close());

  it('lists the referrers of a subject, transitively per subject, in the SDK ImageReferrer shape', async () => {
    // Prepare
    const { image, signature, sbom, sbomSignature } = await pushSignedImage('ref/shape');

    // Act
    const ofImage = await list(source, { subjectId: { imageDigest: image.digest } });
    const ofSbom = await digestsOf(source, sbom.digest);
    const ofSignature = await digestsOf(source, signature.digest);
    const stored = h.emulator.world.getImage(ACCOUNT, SOURCE, REPO, sbom.digest);

    // Assess
    expect(ofImage.nextToken).toBeUndefined();
    expect(ofImage.referrers?.map((r) => r.digest).sort()).toEqual(sorted(signature, sbom));
    const sbomEntry = ofImage.referrers?.find((r) => r.digest === sbom.digest);
    expect(sbomEntry).toEqual({
      digest: sbom.digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: ARTIFACT_TYPES.spdxSbom,
      size: Buffer.byteLength(sbom.manifest),
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
      artifactStatus: 'ACTIVE',
    });
    expect(ofSbom).toEqual([sbomSignature.digest]);
    expect(ofSignature).toEqual([]);
    // Referrers are stored untagged: nothing but the subject's own tag exists.
    expect(stored?.tags).toEqual([]);
    expect([...(h.emulator.world.getRepository(ACCOUNT, SOURCE, REPO)?.tags.keys() ?? [])]).toEqual(['v1']);
  });

  it('lists the signature of a multi-architecture index under the index digest', async () => {
    // Prepare
    const index = buildOciIndex('ref/index');
    const signature = buildReferrer('ref/index/sig', index, ARTIFACT_TYPES.cosignSignature);
    await pushImage(source, REPO, index, { tag: 'multi' });
    await pushImage(source, REPO, signature);

    // Act
    const ofIndex = await digestsOf(source, index.digest);
    const ofChild = await digestsOf(source, index.children[0]?.digest ?? '');

    // Assess
    expect(ofIndex).toEqual([signature.digest]);
    expect(ofChild).toEqual([]);
  });

  it('answers an empty list for a subject the repository does not hold', async () => {
    // Act
    const result = await list(source, { subjectId: { imageDigest: `sha256:${'0'.repeat(64)}` } });

    // Assess
    expect(result.referrers).toEqual([]);
    expect(result.nextToken).toBeUndefined();
  });

  it('filters by artifactTypes, and by artifactStatus with ACTIVE as the default', async () => {
    // Prepare
    const { image, signature, sbom } = await pushSignedImage('ref/filter');
    const repository = h.emulator.world.requireRepository(ACCOUNT, SOURCE, REPO);
    const archived = repository.images.get(signature.digest);
    if (!archived) throw new Error('signature not stored');
    h.emulator.world.setImageStatus(repository, archived, 'ARCHIVED');

    // Act
    const byDefault = await digestsOf(source, image.digest);
    const onlySboms = await digestsOf(source, image.digest, { artifactTypes: [ARTIFACT_TYPES.spdxSbom] });
    const onlySignatures = await digestsOf(source, image.digest, {
      artifactTypes: [ARTIFACT_TYPES.notationSignature],
    });
    const archivedOnes = await list(source, {
      subjectId: { imageDigest: image.digest },
      filter: { artifactStatus: 'ARCHIVED' },
    });
    const any = await digestsOf(source, image.digest, { artifactStatus: 'ANY' });

    // Assess
    expect(byDefault).toEqual([sbom.digest]);
    expect(onlySboms).toEqual([sbom.digest]);
    expect(onlySignatures).toEqual([]);
    expect(archivedOnes.referrers?.map((r) => [r.digest, r.artifactStatus])).toEqual([
      [signature.digest, 'ARCHIVED'],
    ]);
    expect(any).toEqual(sorted(signature, sbom));
  });

  it('pages with maxResults 1 to 50 and nextToken, returns at most 50 without maxResults, and refuses bad input', async () => {
    // Prepare
    const image = buildDockerImage('ref/many');
    await pushImage(source, REPO, image, { tag: 'v1' });
    const referrers = Array.from({ length: 53 }, (_, i) =>
      buildReferrer(`ref/many/${i}`, image, ARTIFACT_TYPES.notationSignature),
    );
    for (const referrer of referrers) h.emulator.seedImage({ region: SOURCE, repository: REPO }, referrer);
    const subjectId = { imageDigest: image.digest };

    // Act
    const pages: string[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await list(source, { subjectId, maxResults: 20, ...(nextToken ? { nextToken } : {}) });
      pages.push((page.referrers ?? []).map((r) => r.digest ?? ''));
      nextToken = page.nextToken;
    } while (nextToken);
    const unbounded = await list(source, { subjectId });
    const firstPage = await list(source, { subjectId, maxResults: 1 });
    const tooMany = await errorOf(() => list(source, { subjectId, maxResults: 51 }));
    const tooFew = await errorOf(() => list(source, { subjectId, maxResults: 0 }));
    const badStatus = await errorOf(() =>
      list(source, { subjectId, filter: { artifactStatus: 'GONE' as 'ANY' } }),
    );
    const badDigest = await errorOf(() => list(source, { subjectId: { imageDigest: 'latest' } }));
    const foreignToken = await errorOf(() =>
      list(source, {
        subjectId,
        filter: { artifactTypes: [ARTIFACT_TYPES.spdxSbom] },
        ...(firstPage.nextToken ? { nextToken: firstPage.nextToken } : {}),
      }),
    );
    const missingRepository = await errorOf(() =>
      source.send(new ListImageReferrersCommand({ repositoryName: 'no/such', subjectId })),
    );

    // Assess
    expect(pages.map((p) => p.length)).toEqual([20, 20, 13]);
    expect(pages.flat()).toEqual(sorted(...referrers));
    expect(unbounded.referrers).toHaveLength(50);
    expect(unbounded.nextToken).toBeDefined();
    expect(firstPage.referrers).toHaveLength(1);
    for (const error of [tooMany, tooFew, badStatus, badDigest, foreignToken]) {
      expect(error.name).toBe('InvalidParameterException');
    }
    expect(badStatus.message).toContain('filter.artifactStatus');
    expect(missingRepository.name).toBe('RepositoryNotFoundException');
  });

  it('replicates a referrer when it is itself pushed, untagged at the same digest', async () => {
    // Prepare
    await configureReplication();
    const dest = h.client(DEST);

    // Act
    const { image, signature, sbom, sbomSignature } = await pushSignedImage('ref/replicated');
    await h.emulator.whenReplicationIdle();

    // Assess
    expect(await digestsOf(dest, image.digest)).toEqual(sorted(signature, sbom));
    expect(await digestsOf(dest, sbom.digest)).toEqual([sbomSignature.digest]);
    expect(h.emulator.world.getImage(ACCOUNT, DEST, REPO, signature.digest)?.tags).toEqual([]);
  });

  it('does not replicate older referrers when their subject is re-pushed under another tag (the conservative case)', async () => {
    // Prepare: pushed before replication is configured.
    const { image } = await pushSignedImage('ref/older');
    await configureReplication();
    const dest = h.client(DEST);

    // Act: the backfill trick, a re-push of the subject under a temp tag.
    await source.send(
      new PutImageCommand({ repositoryName: REPO, imageManifest: image.manifest, imageTag: 'temp-1' }),
    );
    await h.emulator.whenReplicationIdle();

    // Assess
    expect(h.emulator.world.resolveTag(ACCOUNT, DEST, REPO, 'temp-1')).toBe(image.digest);
    expect(await digestsOf(dest, image.digest)).toEqual([]);
  });

  it('leaves referrers out of a native replication backfill (the conservative case)', async () => {
    // Prepare
    const { image } = await pushSignedImage('ref/native');
    await configureReplication();
    const dest = h.client(DEST);

    // Act
    await source.send(
      new StartReplicationBackfillCommand({ destination: { region: DEST, registryId: ACCOUNT } }),
    );
    h.emulator.replication.flush();

    // Assess
    expect(h.emulator.world.resolveTag(ACCOUNT, DEST, REPO, 'v1')).toBe(image.digest);
    expect(await digestsOf(dest, image.digest)).toEqual([]);
  });

  it('authorizes a call into another account as ecr:BatchGetImage', async () => {
    // Prepare
    const { image, signature, sbom } = await pushSignedImage('ref/cross');
    const other = h.client(SOURCE, { account: OTHER });
    const call = () =>
      other.send(
        new ListImageReferrersCommand({
          registryId: ACCOUNT,
          repositoryName: REPO,
          subjectId: { imageDigest: image.digest },
        }),
      );

    // Act
    const denied = await errorOf(call);
    h.emulator.putRegistryPolicy(ACCOUNT, SOURCE, allowAccountsPolicy([OTHER], ['ecr:BatchGetImage']));
    const allowed = await call();

    // Assess
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toContain('ecr:BatchGetImage');
    expect(allowed.referrers?.map((r) => r.digest).sort()).toEqual(sorted(signature, sbom));
  });

  it('hands out a download URL for a layer an image references, which serves its bytes', async () => {
    // Prepare: one referrer pushed through the layer API, one seeded (it existed before the test).
    const { signature } = await pushSignedImage('ref/download');
    const image = buildDockerImage('ref/download-seeded');
    const seeded = buildReferrer('ref/download-seeded/sig', image, ARTIFACT_TYPES.notationSignature);
    h.emulator.seedImage({ region: SOURCE, repository: REPO }, image, { tags: ['seeded'] });
    h.emulator.seedImage({ region: SOURCE, repository: REPO }, seeded, { tags: [] });
    const unknown = `sha256:${'1'.repeat(64)}`;

    // Act
    const downloads = await Promise.all(
      [...signature.blobs, ...seeded.blobs].map(async (blob) => {
        const { downloadUrl, layerDigest } = await source.send(
          new GetDownloadUrlForLayerCommand({ repositoryName: REPO, layerDigest: blob.digest }),
        );
        const bytes = Buffer.from(await (await fetch(downloadUrl ?? '')).arrayBuffer());
        return {
          expected: blob.digest,
          layerDigest,
          actual: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
        };
      }),
    );
    const missing = await errorOf(() =>
      source.send(new GetDownloadUrlForLayerCommand({ repositoryName: REPO, layerDigest: unknown })),
    );

    // Assess
    expect(downloads.length).toBeGreaterThan(2);
    for (const download of downloads) {
      expect(download.layerDigest).toBe(download.expected);
      expect(download.actual).toBe(download.expected);
    }
    expect(missing.name).toBe('LayersNotFoundException');
  });
});
