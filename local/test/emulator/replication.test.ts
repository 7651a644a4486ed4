import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImageReplicationStatusCommand,
  DescribeImagesCommand,
  DescribeRegistryCommand,
  PutImageCommand,
  PutReplicationConfigurationCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDockerImage, buildOciIndex, mediaTypes, pushImage } from '../../ecr-emulator/index.ts';
import { errorOf, sleep, startHarness, type Harness } from './helpers.ts';

const SOURCE = 'ap-south-1';
const DEST = 'ap-northeast-2';
const ACCOUNT = '111111111111';
const OTHER = '222222222222';

describe('replication', () => {
  let h: Harness;
  let source: ECRClient;
  let dest: ECRClient;

  const configure = (
    rules: {
      destinations: { region: string; registryId: string }[];
      repositoryFilters?: { filter: string; filterType: 'PREFIX_MATCH' }[];
    }[],
  ) => source.send(new PutReplicationConfigurationCommand({ replicationConfiguration: { rules } }));
  const destDigest = (repository: string, tag: string, account = ACCOUNT, region = DEST) =>
    h.emulator.world.resolveTag(account, region, repository, tag);
  const statusOf = async (repository: string, digest: string) =>
    (
      await source.send(
        new DescribeImageReplicationStatusCommand({
          repositoryName: repository,
          imageId: { imageDigest: digest },
        }),
      )
    ).replicationStatuses;

  beforeEach(async () => {
    h = await startHarness({ replicationLatencyMs: 40 });
    source = h.client(SOURCE);
    dest = h.client(DEST);
    await source.send(new CreateRepositoryCommand({ repositoryName: 'shop/api' }));
  });
  afterEach(() => h.close());

  it('copies an image pushed through the layer API to the destination after the latency, same digest, COMPLETE', async () => {
    // Prepare
    await configure([{ destinations: [{ region: DEST, registryId: ACCOUNT }] }]);
    const image = buildDockerImage('replicate/pushed', { layers: 3 });
    // Long enough that the checks right after the push cannot race the copy, even on a loaded machine.
    h.emulator.replication.latencyMs = 1_500;

    // Act
    const out = await pushImage(source, 'shop/api', image, { tag: 'v1' });
    const pushedAt = Date.now();
    const during = await statusOf('shop/api', image.digest);
    const presentDuring = destDigest('shop/api', 'v1');
    await h.emulator.whenReplicationIdle();
    const waited = Date.now() - pushedAt;
    const after = await statusOf('shop/api', image.digest);
    const described = await dest.send(
      new DescribeImagesCommand({ repositoryName: 'shop/api', imageIds: [{ imageTag: 'v1' }] }),
    );
    const fetched = await dest.send(
      new BatchGetImageCommand({
        repositoryName: 'shop/api',
        imageIds: [{ imageDigest: image.digest }],
        acceptedMediaTypes: [...mediaTypes.MANIFEST_MEDIA_TYPES],
      }),
    );

    // Assess
    expect(out.image?.imageId?.imageDigest).toBe(image.digest);
    expect(during).toEqual([{ region: DEST, registryId: ACCOUNT, status: 'IN_PROGRESS' }]);
    expect(presentDuring).toBeUndefined();
    expect(waited).toBeGreaterThanOrEqual(1_400);
    expect(after).toEqual([{ region: DEST, registryId: ACCOUNT, status: 'COMPLETE' }]);
    expect(described.imageDetails?.[0]?.imageDigest).toBe(image.digest);
    expect(fetched.images?.[0]?.imageManifest).toBe(image.manifest);
    expect(h.emulator.world.getRepository(ACCOUNT, DEST, 'shop/api')?.mutability).toBe('MUTABLE');
  });

  it('does not copy images that existed before replication, until a PutImage under a new tag (the temp-tag trick)', async () => {
    // Prepare
    const legacy = buildOciIndex('replicate/legacy');
    h.emulator.seedImage({ region: SOURCE, repository: 'shop/api' }, legacy, { tags: ['v0'] });
    await configure([{ destinations: [{ region: DEST, registryId: ACCOUNT }] }]);
    await sleep(80);
    const before = h.emulator.world.getRepository(ACCOUNT, DEST, 'shop/api');

    // Act
    const got = await source.send(
      new BatchGetImageCommand({
        repositoryName: 'shop/api',
        imageIds: [{ imageDigest: legacy.digest }],
        acceptedMediaTypes: [...mediaTypes.MANIFEST_MEDIA_TYPES],
      }),
    );
    await source.send(
      new PutImageCommand({
        repositoryName: 'shop/api',
        imageManifest: got.images?.[0]?.imageManifest,
        imageManifestMediaType: got.images?.[0]?.imageManifestMediaType,
        imageDigest: legacy.digest,
        imageTag: 'backfill-tmp',
      }),
    );
    await h.emulator.whenReplicationIdle();

    // Assess
    expect(before).toBeUndefined();
    expect(destDigest('shop/api', 'backfill-tmp')).toBe(legacy.digest);
    // Only the pushed tag travels; the index children travel with it.
    expect(destDigest('shop/api', 'v0')).toBeUndefined();
    for (const child of legacy.children) {
      expect(h.emulator.world.getImage(ACCOUNT, DEST, 'shop/api', child.digest)).toBeDefined();
    }
    expect(await statusOf('shop/api', legacy.digest)).toEqual([
      { region: DEST, registryId: ACCOUNT, status: 'COMPLETE' },
    ]);
  });

  it('follows PREFIX_MATCH filters and replicates to every destination, including another account', async () => {
    // Prepare
    await source.send(new CreateRepositoryCommand({ repositoryName: 'internal/tool' }));
    await configure([
      {
        destinations: [{ region: DEST, registryId: ACCOUNT }],
        repositoryFilters: [{ filter: 'shop', filterType: 'PREFIX_MATCH' }],
      },
      { destinations: [{ region: 'eu-west-1', registryId: OTHER }] },
    ]);
    // The other account lets this one replicate into it, as AWS requires (registry-policy.test.ts).
    h.emulator.allowReplication(ACCOUNT, { account: OTHER, region: 'eu-west-1' });
    const a = buildDockerImage('replicate/filter-a');
    const b = buildDockerImage('replicate/filter-b');

    // Act
    await pushImage(source, 'shop/api', a, { tag: 'v1' });
    await pushImage(source, 'internal/tool', b, { tag: 'v1' });
    await h.emulator.whenReplicationIdle();

    // Assess
    expect(destDigest('shop/api', 'v1')).toBe(a.digest);
    expect(destDigest('shop/api', 'v1', OTHER, 'eu-west-1')).toBe(a.digest);
    expect(h.emulator.world.getRepository(ACCOUNT, DEST, 'internal/tool')).toBeUndefined();
    expect(destDigest('internal/tool', 'v1', OTHER, 'eu-west-1')).toBe(b.digest);
  });

  it('replicates without the tag when an immutable destination already has it elsewhere', async () => {
    // Prepare
    await dest.send(
      new CreateRepositoryCommand({ repositoryName: 'shop/api', imageTagMutability: 'IMMUTABLE' }),
    );
    const existing = buildDockerImage('replicate/existing');
    h.emulator.seedImage({ region: DEST, repository: 'shop/api' }, existing, { tags: ['v1'] });
    await configure([{ destinations: [{ region: DEST, registryId: ACCOUNT }] }]);
    const image = buildDockerImage('replicate/new');

    // Act
    await pushImage(source, 'shop/api', image, { tag: 'v1' });
    await h.emulator.whenReplicationIdle();

    // Assess
    expect(destDigest('shop/api', 'v1')).toBe(existing.digest);
    expect(h.emulator.world.getImage(ACCOUNT, DEST, 'shop/api', image.digest)?.tags).toEqual([]);
    expect(await statusOf('shop/api', image.digest)).toEqual([
      { region: DEST, registryId: ACCOUNT, status: 'COMPLETE' },
    ]);
  });

  it('never replicates deletes', async () => {
    // Prepare
    await configure([{ destinations: [{ region: DEST, registryId: ACCOUNT }] }]);
    const image = buildDockerImage('replicate/delete');
    await pushImage(source, 'shop/api', image, { tag: 'v1' });
    await h.emulator.whenReplicationIdle();

    // Act
    await source.send(
      new BatchDeleteImageCommand({ repositoryName: 'shop/api', imageIds: [{ imageTag: 'v1' }] }),
    );
    await sleep(100);

    // Assess
    expect(h.emulator.world.getImage(ACCOUNT, SOURCE, 'shop/api', image.digest)).toBeUndefined();
    expect(destDigest('shop/api', 'v1')).toBe(image.digest);
  });

  it('reports injected failures per destination: FAILED with a code, stuck IN_PROGRESS, or a dropped tag', async () => {
    // Prepare
    await configure([
      {
        destinations: [
          { region: DEST, registryId: ACCOUNT },
          { region: 'eu-west-1', registryId: ACCOUNT },
        ],
      },
    ]);
    h.emulator.replication.fail({ destinationRegion: DEST, failureCode: 'ACCESS_DENIED', times: 1 });
    h.emulator.replication.fail({ destinationRegion: 'eu-west-1', mode: 'hang', times: 1 });
    const first = buildDockerImage('replicate/fail');
    const second = buildDockerImage('replicate/drop');

    // Act
    await pushImage(source, 'shop/api', first, { tag: 'v1' });
    await h.emulator.whenReplicationIdle();
    const drop = h.emulator.replication.fail({ repository: 'shop/api', mode: 'drop-tag' });
    await pushImage(source, 'shop/api', second, { tag: 'v2' });
    await h.emulator.whenReplicationIdle();

    // Assess
    const statuses = await statusOf('shop/api', first.digest);
    expect(statuses).toContainEqual({
      region: DEST,
      registryId: ACCOUNT,
      status: 'FAILED',
      failureCode: 'ACCESS_DENIED',
    });
    expect(statuses).toContainEqual({ region: 'eu-west-1', registryId: ACCOUNT, status: 'IN_PROGRESS' });
    expect(destDigest('shop/api', 'v1')).toBeUndefined();
    expect(h.emulator.world.getImage(ACCOUNT, DEST, 'shop/api', second.digest)?.tags).toEqual([]);
    expect(drop.hits).toBe(2);
    expect(await statusOf('shop/api', second.digest)).toEqual(
      expect.arrayContaining([expect.objectContaining({ region: DEST, status: 'COMPLETE' })]),
    );
  });

  it('answers DescribeImageReplicationStatus by tag, and ImageNotFound for an unknown image', async () => {
    // Prepare
    await configure([{ destinations: [{ region: DEST, registryId: ACCOUNT }] }]);
    const image = buildDockerImage('replicate/status');
    await pushImage(source, 'shop/api', image, { tag: 'v9' });
    await h.emulator.whenReplicationIdle();

    // Act
    const byTag = await source.send(
      new DescribeImageReplicationStatusCommand({ repositoryName: 'shop/api', imageId: { imageTag: 'v9' } }),
    );
    const missing = await errorOf(() =>
      source.send(
        new DescribeImageReplicationStatusCommand({
          repositoryName: 'shop/api',
          imageId: { imageTag: 'nope' },
        }),
      ),
    );

    // Assess
    expect(byTag.imageId).toEqual({ imageDigest: image.digest, imageTag: 'v9' });
    expect(byTag.replicationStatuses?.[0]?.status).toBe('COMPLETE');
    expect(missing.name).toBe('ImageNotFoundException');
  });

  it('creates destination repositories from the replication template when one is given', async () => {
    // Prepare
    const templated = await startHarness({
      replicationRepositoryTemplate: (destination, name) =>
        name.startsWith('shop/')
          ? { imageTagMutability: 'IMMUTABLE', tags: [{ Key: 'to', Value: destination.region }] }
          : undefined,
    });
    templated.emulator.world.setReplicationConfiguration(ACCOUNT, SOURCE, {
      rules: [{ destinations: [{ region: DEST, registryId: ACCOUNT }] }],
    });

    // Act
    templated.emulator.seedImage({ region: SOURCE, repository: 'shop/api' }, buildDockerImage('template/a'), {
      tags: ['v1'],
      replicate: true,
    });
    templated.emulator.seedImage({ region: SOURCE, repository: 'misc' }, buildDockerImage('template/b'), {
      tags: ['v1'],
      replicate: true,
    });
    await templated.emulator.whenReplicationIdle();
    const shop = templated.emulator.world.getRepository(ACCOUNT, DEST, 'shop/api');
    const misc = templated.emulator.world.getRepository(ACCOUNT, DEST, 'misc');
    await templated.close();

    // Assess
    expect(shop?.mutability).toBe('IMMUTABLE');
    expect(shop?.resourceTags).toEqual([{ Key: 'to', Value: DEST }]);
    expect(misc?.mutability).toBe('MUTABLE');
  });

  describe('PutReplicationConfiguration', () => {
    it('stores the rules and DescribeRegistry returns them', async () => {
      // Act
      await configure([
        {
          destinations: [{ region: DEST, registryId: ACCOUNT }],
          repositoryFilters: [{ filter: 'shop/', filterType: 'PREFIX_MATCH' }],
        },
      ]);
      const registry = await source.send(new DescribeRegistryCommand({}));

      // Assess
      expect(registry.registryId).toBe(ACCOUNT);
      expect(registry.replicationConfiguration?.rules).toEqual([
        {
          destinations: [{ region: DEST, registryId: ACCOUNT }],
          repositoryFilters: [{ filter: 'shop/', filterType: 'PREFIX_MATCH' }],
        },
      ]);
    });

    it("enforces ECR's limits and refuses the source registry as a destination", async () => {
      // Act
      const self = await errorOf(() =>
        configure([{ destinations: [{ region: SOURCE, registryId: ACCOUNT }] }]),
      );
      const tooManyRules = await errorOf(() =>
        configure(
          Array.from({ length: 11 }, () => ({ destinations: [{ region: DEST, registryId: ACCOUNT }] })),
        ),
      );
      const tooManyDestinations = await errorOf(() =>
        configure([
          {
            destinations: Array.from({ length: 26 }, (_, i) => ({
              region: DEST,
              registryId: String(100000000000 + i),
            })),
          },
        ]),
      );
      const tooManyFilters = await errorOf(() =>
        configure([
          {
            destinations: [{ region: DEST, registryId: ACCOUNT }],
            repositoryFilters: Array.from({ length: 101 }, (_, i) => ({
              filter: `p${i}`,
              filterType: 'PREFIX_MATCH' as const,
            })),
          },
        ]),
      );

      // Assess
      expect(self.name).toBe('InvalidParameterException');
      expect(tooManyRules.name).toBe('ValidationException');
      expect(tooManyDestinations.name).toBe('ValidationException');
      expect(tooManyFilters.name).toBe('ValidationException');
    });
  });
});
