import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ListImagesCommand,
  PutImageCommand,
  PutImageTagMutabilityCommand,
  type ECRClient,
  ImageFailureCode,
} from '@aws-sdk/client-ecr';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildArtifact,
  buildDockerImage,
  buildOciImage,
  buildOciIndex,
  mediaTypes,
} from '../../ecr-emulator/index.ts';
import { errorOf, startHarness, type Harness } from './helpers.ts';

const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

const REGION = 'eu-west-1';
const ACCOUNT = '111111111111';
const ALL_TYPES = [...mediaTypes.MANIFEST_MEDIA_TYPES];

describe('images', () => {
  let h: Harness;
  let ecr: ECRClient;
  beforeEach(async () => {
    h = await startHarness();
    ecr = h.client(REGION);
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'app' }));
  });
  afterEach(() => h.close());

  const seedBlobs = (image: ReturnType<typeof buildDockerImage>, repository = 'app') => {
    const repo = h.emulator.world.requireRepository(ACCOUNT, REGION, repository);
    for (const blob of image.blobs) h.emulator.world.addBlob(repo, { digest: blob.digest, size: blob.size });
  };
  const tagsOf = (digest: string) => h.emulator.world.getImage(ACCOUNT, REGION, 'app', digest)?.tags;

  describe('PutImage', () => {
    it('stores the exact manifest bytes under sha256 of those bytes', async () => {
      // Prepare
      const image = buildDockerImage('put/exact');
      seedBlobs(image);
      const expected = `sha256:${createHash('sha256').update(image.manifest).digest('hex')}`;

      // Act
      const out = await ecr.send(
        new PutImageCommand({ repositoryName: 'app', imageManifest: image.manifest, imageTag: 'v1' }),
      );
      const got = await ecr.send(
        new BatchGetImageCommand({
          repositoryName: 'app',
          imageIds: [{ imageTag: 'v1' }],
          acceptedMediaTypes: ALL_TYPES,
        }),
      );

      // Assess
      expect(out.image?.imageId?.imageDigest).toBe(expected);
      expect(got.images?.[0]?.imageManifest).toBe(image.manifest);
      expect(got.images?.[0]?.imageManifestMediaType).toBe(mediaTypes.DOCKER_MANIFEST_V2);
    });

    it('refuses an imageDigest that differs from the manifest bytes', async () => {
      // Prepare
      const image = buildDockerImage('put/mismatch');
      seedBlobs(image);
      const reformatted = JSON.stringify(JSON.parse(image.manifest));

      // Act
      const error = await errorOf(() =>
        ecr.send(
          new PutImageCommand({
            repositoryName: 'app',
            imageManifest: reformatted,
            imageDigest: image.digest,
          }),
        ),
      );

      // Assess
      expect(error.name).toBe('ImageDigestDoesNotMatchException');
      expect(h.emulator.world.requireRepository(ACCOUNT, REGION, 'app').images.size).toBe(0);
    });

    it('refuses a manifest whose layers are not in this repository', async () => {
      // Prepare: the blobs exist, but in another repository.
      await ecr.send(new CreateRepositoryCommand({ repositoryName: 'other' }));
      const image = buildDockerImage('put/layers');
      seedBlobs(image, 'other');

      // Act
      const error = await errorOf(() =>
        ecr.send(
          new PutImageCommand({ repositoryName: 'app', imageManifest: image.manifest, imageTag: 'v1' }),
        ),
      );

      // Assess
      expect(error.name).toBe('LayersNotFoundException');
      expect(error.message).toContain(image.blobs[0]?.digest);
    });

    it('refuses an index whose children are not in the repository, and accepts it once they are', async () => {
      // Prepare
      const index = buildOciIndex('put/index');
      for (const child of index.children) seedBlobs(child);

      // Act
      const error = await errorOf(() =>
        ecr.send(
          new PutImageCommand({ repositoryName: 'app', imageManifest: index.manifest, imageTag: 'multi' }),
        ),
      );
      for (const child of index.children) {
        await ecr.send(new PutImageCommand({ repositoryName: 'app', imageManifest: child.manifest }));
      }
      const out = await ecr.send(
        new PutImageCommand({ repositoryName: 'app', imageManifest: index.manifest, imageTag: 'multi' }),
      );

      // Assess
      expect(error.name).toBe('ReferencedImagesNotFoundException');
      expect(out.image?.imageManifestMediaType).toBe(mediaTypes.OCI_INDEX);
      expect(index.children).toHaveLength(4); // two platforms + two attestation manifests
    });

    it('requires imageManifestMediaType for an OCI artifact without a top-level mediaType', async () => {
      // Prepare
      const artifact = buildArtifact('put/artifact');
      seedBlobs(artifact);
      expect(JSON.parse(artifact.manifest)).not.toHaveProperty('mediaType');

      // Act
      const error = await errorOf(() =>
        ecr.send(
          new PutImageCommand({ repositoryName: 'app', imageManifest: artifact.manifest, imageTag: 'sbom' }),
        ),
      );
      await ecr.send(
        new PutImageCommand({
          repositoryName: 'app',
          imageManifest: artifact.manifest,
          imageManifestMediaType: mediaTypes.OCI_MANIFEST,
          imageTag: 'sbom',
        }),
      );
      const described = await ecr.send(
        new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'sbom' }] }),
      );

      // Assess
      expect(error.name).toBe('InvalidParameterException');
      expect(described.imageDetails?.[0]).toMatchObject({
        imageDigest: artifact.digest,
        imageManifestMediaType: mediaTypes.OCI_MANIFEST,
        artifactMediaType: 'application/vnd.example.sbom.v1+json',
      });
    });

    it('answers ImageAlreadyExists for the same manifest and tag, and changes nothing', async () => {
      // Prepare
      const image = buildDockerImage('put/again');
      h.emulator.seedImage({ region: REGION, repository: 'app' }, image, { tags: ['v1'] });

      // Act
      const sameTag = await errorOf(() =>
        ecr.send(
          new PutImageCommand({ repositoryName: 'app', imageManifest: image.manifest, imageTag: 'v1' }),
        ),
      );
      const noTag = await errorOf(() =>
        ecr.send(new PutImageCommand({ repositoryName: 'app', imageManifest: image.manifest })),
      );

      // Assess
      expect(sameTag.name).toBe('ImageAlreadyExistsException');
      expect(noTag.name).toBe('ImageAlreadyExistsException');
      expect(tagsOf(image.digest)).toEqual(['v1']);
    });

    it('moves a tag in a mutable repository and keeps the old image untagged', async () => {
      // Prepare
      const old = buildDockerImage('put/old');
      const fresh = buildDockerImage('put/new');
      h.emulator.seedImage({ region: REGION, repository: 'app' }, old, { tags: ['latest'] });
      seedBlobs(fresh);

      // Act
      await ecr.send(
        new PutImageCommand({ repositoryName: 'app', imageManifest: fresh.manifest, imageTag: 'latest' }),
      );

      // Assess
      expect(h.emulator.world.resolveTag(ACCOUNT, REGION, 'app', 'latest')).toBe(fresh.digest);
      expect(tagsOf(old.digest)).toEqual([]);
      const untagged = await ecr.send(
        new ListImagesCommand({ repositoryName: 'app', filter: { tagStatus: 'UNTAGGED' } }),
      );
      expect(untagged.imageIds).toEqual([{ imageDigest: old.digest }]);
    });

    it('adds a second tag to an existing image (the temp-tag trick) without touching the first', async () => {
      // Prepare
      const image = buildDockerImage('put/second-tag');
      h.emulator.seedImage({ region: REGION, repository: 'app' }, image, { tags: ['v1'] });

      // Act
      await ecr.send(
        new PutImageCommand({
          repositoryName: 'app',
          imageManifest: image.manifest,
          imageDigest: image.digest,
          imageTag: 'tmp-1',
        }),
      );

      // Assess
      expect(tagsOf(image.digest)).toEqual(['v1', 'tmp-1']);
    });

    it('refuses to move or even re-put an existing tag in an IMMUTABLE repository', async () => {
      // Prepare
      await ecr.send(
        new CreateRepositoryCommand({ repositoryName: 'locked', imageTagMutability: 'IMMUTABLE' }),
      );
      const first = buildDockerImage('immutable/a');
      const second = buildDockerImage('immutable/b');
      h.emulator.seedImage({ region: REGION, repository: 'locked' }, first, { tags: ['v1'] });
      seedBlobs(second, 'locked');

      // Act
      const moved = await errorOf(() =>
        ecr.send(
          new PutImageCommand({ repositoryName: 'locked', imageManifest: second.manifest, imageTag: 'v1' }),
        ),
      );
      const same = await errorOf(() =>
        ecr.send(
          new PutImageCommand({ repositoryName: 'locked', imageManifest: first.manifest, imageTag: 'v1' }),
        ),
      );
      await ecr.send(
        new PutImageCommand({ repositoryName: 'locked', imageManifest: second.manifest, imageTag: 'v2' }),
      );

      // Assess
      expect(moved.name).toBe('ImageTagAlreadyExistsException');
      expect(same.name).toBe('ImageTagAlreadyExistsException');
      expect(h.emulator.world.resolveTag(ACCOUNT, REGION, 'locked', 'v1')).toBe(first.digest);
      expect(h.emulator.world.resolveTag(ACCOUNT, REGION, 'locked', 'v2')).toBe(second.digest);
    });

    it('honours exclusion filters: IMMUTABLE_WITH_EXCLUSION keeps matching tags mutable, MUTABLE_WITH_EXCLUSION locks them', async () => {
      // Prepare
      const a = buildDockerImage('exclusion/a');
      const b = buildDockerImage('exclusion/b');
      h.emulator.seedImage({ region: REGION, repository: 'app' }, a, { tags: ['latest', 'v1', 'release-1'] });
      seedBlobs(b);
      await ecr.send(
        new PutImageTagMutabilityCommand({
          repositoryName: 'app',
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'lat*' }],
        }),
      );

      // Act
      await ecr.send(
        new PutImageCommand({ repositoryName: 'app', imageManifest: b.manifest, imageTag: 'latest' }),
      );
      const v1 = await errorOf(() =>
        ecr.send(new PutImageCommand({ repositoryName: 'app', imageManifest: b.manifest, imageTag: 'v1' })),
      );
      await ecr.send(
        new PutImageTagMutabilityCommand({
          repositoryName: 'app',
          imageTagMutability: 'MUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'release-*' }],
        }),
      );
      const release = await errorOf(() =>
        ecr.send(
          new PutImageCommand({ repositoryName: 'app', imageManifest: b.manifest, imageTag: 'release-1' }),
        ),
      );
      await ecr.send(
        new PutImageCommand({ repositoryName: 'app', imageManifest: b.manifest, imageTag: 'v1' }),
      );

      // Assess
      expect(h.emulator.world.resolveTag(ACCOUNT, REGION, 'app', 'latest')).toBe(b.digest);
      expect(v1.name).toBe('ImageTagAlreadyExistsException');
      expect(release.name).toBe('ImageTagAlreadyExistsException');
      expect(h.emulator.world.resolveTag(ACCOUNT, REGION, 'app', 'v1')).toBe(b.digest);
      expect(h.emulator.world.resolveTag(ACCOUNT, REGION, 'app', 'release-1')).toBe(a.digest);
    });

    it('validates exclusion filters (pattern, count, and only with the *_WITH_EXCLUSION modes)', async () => {
      // Act
      const badPattern = await errorOf(() =>
        ecr.send(
          new PutImageTagMutabilityCommand({
            repositoryName: 'app',
            imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
            imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'bad/tag' }],
          }),
        ),
      );
      const tooMany = await errorOf(() =>
        ecr.send(
          new PutImageTagMutabilityCommand({
            repositoryName: 'app',
            imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
            imageTagMutabilityExclusionFilters: Array.from({ length: 6 }, (_, i) => ({
              filterType: 'WILDCARD' as const,
              filter: `f${i}*`,
            })),
          }),
        ),
      );
      const withPlainMode = await errorOf(() =>
        ecr.send(
          new PutImageTagMutabilityCommand({
            repositoryName: 'app',
            imageTagMutability: 'IMMUTABLE',
            imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'x*' }],
          }),
        ),
      );

      // Assess
      expect([badPattern.name, tooMany.name, withPlainMode.name]).toEqual([
        'InvalidParameterException',
        'InvalidParameterException',
        'InvalidParameterException',
      ]);
    });
  });

  describe('BatchGetImage', () => {
    it('returns failures with ECR codes for missing, malformed and mismatched ids', async () => {
      // Prepare
      const a = buildDockerImage('get/a');
      const b = buildDockerImage('get/b');
      h.emulator.seedImage({ region: REGION, repository: 'app' }, a, { tags: ['a'] });
      h.emulator.seedImage({ region: REGION, repository: 'app' }, b, { tags: ['b'] });

      // Act
      const out = await ecr.send(
        new BatchGetImageCommand({
          repositoryName: 'app',
          acceptedMediaTypes: ALL_TYPES,
          imageIds: [
            { imageTag: 'a' },
            { imageTag: 'nope' },
            { imageDigest: `sha256:${'0'.repeat(64)}` },
            {},
            { imageDigest: 'not-a-digest' },
            { imageTag: 'b', imageDigest: a.digest },
          ],
        }),
      );

      // Assess
      expect(out.images?.map((i) => i.imageId)).toEqual([{ imageDigest: a.digest, imageTag: 'a' }]);
      expect(out.failures?.map((f) => f.failureCode)).toEqual([
        'ImageNotFound',
        'ImageNotFound',
        'MissingDigestAndTag',
        'InvalidImageDigest',
        'ImageTagDoesNotMatchDigest',
      ]);
    });

    it('by tag converts an image to a media type the caller accepts, by digest returns it as stored', async () => {
      // Prepare
      const oci = buildOciImage('get/oci');
      const docker = buildDockerImage('get/docker');
      h.emulator.seedImage({ region: REGION, repository: 'app' }, oci, { tags: ['oci'] });
      h.emulator.seedImage({ region: REGION, repository: 'app' }, docker, { tags: ['docker'] });

      // Act: no acceptedMediaTypes (the Docker types), then OCI only.
      const ociAsDocker = await ecr.send(
        new BatchGetImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'oci' }] }),
      );
      const dockerAsOci = await ecr.send(
        new BatchGetImageCommand({
          repositoryName: 'app',
          imageIds: [{ imageTag: 'docker' }],
          acceptedMediaTypes: [mediaTypes.OCI_MANIFEST],
        }),
      );
      const byDigest = await ecr.send(
        new BatchGetImageCommand({ repositoryName: 'app', imageIds: [{ imageDigest: oci.digest }] }),
      );

      // Assess
      expect(ociAsDocker.failures).toEqual([]);
      const converted = ociAsDocker.images?.[0];
      expect(converted?.imageManifestMediaType).toBe(mediaTypes.DOCKER_MANIFEST_V2);
      const manifest = JSON.parse(converted?.imageManifest ?? '{}') as {
        mediaType: string;
        config: { mediaType: string; digest: string };
        layers: { mediaType: string; digest: string }[];
      };
      const stored = JSON.parse(oci.manifest) as typeof manifest;
      expect(manifest.mediaType).toBe(mediaTypes.DOCKER_MANIFEST_V2);
      expect(manifest.config).toEqual({ ...stored.config, mediaType: mediaTypes.DOCKER_CONFIG });
      expect(manifest.layers.map((l) => [l.digest, l.mediaType])).toEqual(
        stored.layers.map((l) => [l.digest, mediaTypes.DOCKER_LAYER]),
      );
      // The converted bytes are not the stored image's: their sha256 differs from its digest.
      expect(converted?.imageId?.imageDigest).toBe(oci.digest);
      expect(digestOf(converted?.imageManifest ?? '')).not.toBe(oci.digest);
      expect(dockerAsOci.images?.[0]?.imageManifestMediaType).toBe(mediaTypes.OCI_MANIFEST);
      expect(byDigest.images?.[0]?.imageManifest).toBe(oci.manifest);
    });

    it('by tag fails an index in a media type the caller did not accept with a modelled code, by digest returns it as stored', async () => {
      // Prepare
      const index = buildOciIndex('get/index');
      h.emulator.seedImage({ region: REGION, repository: 'app' }, index, { tags: ['multi'] });

      // Act
      const byTag = await ecr.send(
        new BatchGetImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'multi' }] }),
      );
      const byDigest = await ecr.send(
        new BatchGetImageCommand({ repositoryName: 'app', imageIds: [{ imageDigest: index.digest }] }),
      );
      const accepted = await ecr.send(
        new BatchGetImageCommand({
          repositoryName: 'app',
          imageIds: [{ imageTag: 'multi' }],
          acceptedMediaTypes: [mediaTypes.OCI_INDEX],
        }),
      );

      // Assess
      expect(byTag.images).toEqual([]);
      expect(byTag.failures?.[0]?.failureCode).toBe('ImageNotFound');
      expect(Object.values(ImageFailureCode)).toContain(byTag.failures?.[0]?.failureCode);
      expect(byDigest.images?.[0]?.imageManifest).toBe(index.manifest);
      expect(accepted.images?.[0]?.imageManifest).toBe(index.manifest);
    });

    it('refuses more than 100 image ids per call', async () => {
      // Act
      const error = await errorOf(() =>
        ecr.send(
          new BatchGetImageCommand({
            repositoryName: 'app',
            imageIds: Array.from({ length: 101 }, (_, i) => ({ imageTag: `t${i}` })),
          }),
        ),
      );

      // Assess
      expect(error.name).toBe('InvalidParameterException');
    });
  });

  describe('BatchDeleteImage', () => {
    it('removing a tag keeps the image while it has another tag; removing the last tag deletes it', async () => {
      // Prepare
      const image = buildDockerImage('delete/tags');
      h.emulator.seedImage({ region: REGION, repository: 'app' }, image, { tags: ['v1', 'tmp'] });

      // Act
      const first = await ecr.send(
        new BatchDeleteImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'tmp' }] }),
      );
      const stillThere = h.emulator.world.getImage(ACCOUNT, REGION, 'app', image.digest)?.tags;
      await ecr.send(new BatchDeleteImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'v1' }] }));

      // Assess
      expect(first.imageIds).toEqual([{ imageDigest: image.digest, imageTag: 'tmp' }]);
      expect(stillThere).toEqual(['v1']);
      expect(h.emulator.world.getImage(ACCOUNT, REGION, 'app', image.digest)).toBeUndefined();
      const error = await errorOf(() =>
        ecr.send(
          new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageDigest: image.digest }] }),
        ),
      );
      expect(error.name).toBe('ImageNotFoundException');
    });

    it('deletes by digest with every tag, but not an image an index references', async () => {
      // Prepare
      const image = buildDockerImage('delete/digest');
      const index = buildOciIndex('delete/index');
      h.emulator.seedImage({ region: REGION, repository: 'app' }, image, { tags: ['a', 'b'] });
      h.emulator.seedImage({ region: REGION, repository: 'app' }, index, { tags: ['multi'] });
      const child = index.children[0]?.digest as string;

      // Act
      const out = await ecr.send(
        new BatchDeleteImageCommand({
          repositoryName: 'app',
          imageIds: [{ imageDigest: image.digest }, { imageDigest: child }, { imageTag: 'gone' }],
        }),
      );

      // Assess
      expect(out.imageIds).toEqual([
        { imageDigest: image.digest, imageTag: 'a' },
        { imageDigest: image.digest, imageTag: 'b' },
      ]);
      expect(out.failures?.map((f) => f.failureCode)).toEqual([
        'ImageReferencedByManifestList',
        'ImageNotFound',
      ]);
      expect(h.emulator.world.getImage(ACCOUNT, REGION, 'app', child)).toBeDefined();
    });
  });

  describe('ListImages and DescribeImages', () => {
    it('page through more than 1,000 images without gaps or repeats', async () => {
      // Prepare: 1,234 images, one with two tags, seeded directly to stay fast.
      for (let i = 0; i < 1234; i += 1) {
        h.emulator.seedImage(
          { region: REGION, repository: 'app' },
          buildDockerImage(`page/${i}`, { layers: 1, layerSize: 16, indent: 0 }),
          {
            tags: i === 7 ? ['t7', 'alias7'] : [`t${i}`],
          },
        );
      }

      // Act
      const listed: string[] = [];
      let listPages = 0;
      let token: string | undefined;
      do {
        const page = await ecr.send(
          new ListImagesCommand({ repositoryName: 'app', maxResults: 1000, nextToken: token }),
        );
        listed.push(...(page.imageIds ?? []).map((id) => `${id.imageDigest} ${id.imageTag}`));
        token = page.nextToken;
        listPages += 1;
      } while (token);
      const described: string[] = [];
      let describePages = 0;
      do {
        const page = await ecr.send(
          new DescribeImagesCommand({ repositoryName: 'app', maxResults: 500, nextToken: token }),
        );
        described.push(...(page.imageDetails ?? []).map((d) => d.imageDigest as string));
        token = page.nextToken;
        describePages += 1;
      } while (token);
      const firstPage = await ecr.send(new DescribeImagesCommand({ repositoryName: 'app' }));

      // Assess
      expect(listPages).toBe(2);
      expect(listed).toHaveLength(1235);
      expect(new Set(listed).size).toBe(1235);
      expect(describePages).toBe(3);
      expect(new Set(described).size).toBe(1234);
      expect(firstPage.imageDetails).toHaveLength(100); // default page size
    });

    it('validate maxResults and nextToken', async () => {
      // Act
      const zero = await errorOf(() =>
        ecr.send(new ListImagesCommand({ repositoryName: 'app', maxResults: 0 })),
      );
      const big = await errorOf(() =>
        ecr.send(new DescribeImagesCommand({ repositoryName: 'app', maxResults: 1001 })),
      );
      const token = await errorOf(() =>
        ecr.send(new ListImagesCommand({ repositoryName: 'app', nextToken: 'garbage' })),
      );

      // Assess
      expect([zero.name, big.name, token.name]).toEqual([
        'InvalidParameterException',
        'InvalidParameterException',
        'InvalidParameterException',
      ]);
    });

    it('filter by tag status and report size, push time and media types', async () => {
      // Prepare
      const tagged = buildOciImage('describe/tagged', { layers: 2, layerSize: 100 });
      const untagged = buildDockerImage('describe/untagged');
      h.emulator.seedImage({ region: REGION, repository: 'app' }, tagged, {
        tags: ['v1'],
        pushedAt: 1_600_000_000_000,
      });
      h.emulator.seedImage({ region: REGION, repository: 'app' }, untagged);

      // Act
      const onlyTagged = await ecr.send(
        new DescribeImagesCommand({ repositoryName: 'app', filter: { tagStatus: 'TAGGED' } }),
      );
      const onlyUntagged = await ecr.send(
        new ListImagesCommand({ repositoryName: 'app', filter: { tagStatus: 'UNTAGGED' } }),
      );

      // Assess
      expect(onlyTagged.imageDetails).toHaveLength(1);
      expect(onlyTagged.imageDetails?.[0]).toMatchObject({
        imageDigest: tagged.digest,
        imageTags: ['v1'],
        imageSizeInBytes: tagged.sizeInBytes,
        imageManifestMediaType: mediaTypes.OCI_MANIFEST,
        artifactMediaType: mediaTypes.OCI_CONFIG,
        imageStatus: 'ACTIVE',
      });
      expect(onlyTagged.imageDetails?.[0]?.imagePushedAt).toEqual(new Date(1_600_000_000_000));
      expect(onlyUntagged.imageIds).toEqual([{ imageDigest: untagged.digest }]);
    });

    it('hide archived images unless asked, and a re-push restores them to ACTIVE', async () => {
      // Prepare
      const archived = buildDockerImage('archive/old');
      h.emulator.seedImage({ region: REGION, repository: 'app' }, archived, {
        tags: ['old'],
        status: 'ARCHIVED',
      });

      // Act
      const byDefault = await ecr.send(new ListImagesCommand({ repositoryName: 'app' }));
      const asked = await ecr.send(
        new DescribeImagesCommand({ repositoryName: 'app', filter: { imageStatus: 'ARCHIVED' } }),
      );
      await ecr.send(
        new PutImageCommand({ repositoryName: 'app', imageManifest: archived.manifest, imageTag: 'old' }),
      );
      const after = await ecr.send(new ListImagesCommand({ repositoryName: 'app' }));

      // Assess
      expect(byDefault.imageIds).toEqual([]);
      expect(asked.imageDetails?.[0]).toMatchObject({
        imageDigest: archived.digest,
        imageStatus: 'ARCHIVED',
      });
      expect(after.imageIds).toEqual([{ imageDigest: archived.digest, imageTag: 'old' }]);
      expect(h.emulator.world.getImage(ACCOUNT, REGION, 'app', archived.digest)?.status).toBe('ACTIVE');
    });
  });
});
