import {
  BatchCheckLayerAvailabilityCommand,
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeRepositoriesCommand,
  InitiateLayerUploadCommand,
  InvalidLayerPartException,
  UploadLayerPartCommand,
  type ECRClient,
  EmptyUploadException,
  LayerPartTooSmallException,
} from '@aws-sdk/client-ecr';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDockerImage } from '../../ecr-emulator/index.ts';
import { errorOf, startHarness, type Harness } from './helpers.ts';

const REGION = 'us-west-2';
const ACCOUNT = '111111111111';
const digestOf = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('repositories', () => {
  let h: Harness;
  let ecr: ECRClient;
  beforeEach(async () => {
    h = await startHarness();
    ecr = h.client(REGION);
  });
  afterEach(() => h.close());

  it('creates a repository with its settings and refuses a duplicate', async () => {
    // Act
    const created = await ecr.send(
      new CreateRepositoryCommand({
        repositoryName: 'team/service',
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
        tags: [{ Key: 'owner', Value: 'team' }],
      }),
    );
    const duplicate = await errorOf(() =>
      ecr.send(new CreateRepositoryCommand({ repositoryName: 'team/service' })),
    );

    // Assess
    expect(created.repository).toMatchObject({
      repositoryName: 'team/service',
      registryId: ACCOUNT,
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
    });
    expect(created.repository?.createdAt).toBeInstanceOf(Date);
    expect(duplicate.name).toBe('RepositoryAlreadyExistsException');
  });

  it('refuses invalid repository names', async () => {
    // Act
    const names = ['A', 'Upper/Case', '-leading', 'trailing/', 'a', 'a___b', 'a-_b', 'a//b'];
    const errors = await Promise.all(
      names.map((repositoryName) => errorOf(() => ecr.send(new CreateRepositoryCommand({ repositoryName })))),
    );

    // Assess
    expect(errors.map((e) => e.name)).toEqual(names.map(() => 'InvalidParameterException'));
  });

  it('accepts the names AWS’s current pattern allows: __ and runs of - between components', async () => {
    // Act
    const names = ['a__b', 'a--b', 'a/b---c', 'team.x/api_v2'];
    for (const repositoryName of names) await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    const listed = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: names }));

    // Assess
    expect(listed.repositories?.map((r) => r.repositoryName).sort()).toEqual([...names].sort());
  });

  it('pages DescribeRepositories across more than 1,000 repositories', async () => {
    // Prepare
    for (let i = 0; i < 1_050; i += 1)
      h.emulator.world.createRepository(ACCOUNT, REGION, `repo-${String(i).padStart(4, '0')}`);

    // Act
    const names: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await ecr.send(new DescribeRepositoriesCommand({ maxResults: 1000, nextToken }));
      names.push(...(page.repositories ?? []).map((r) => r.repositoryName as string));
      nextToken = page.nextToken;
      pages += 1;
    } while (nextToken);

    // Assess
    expect(pages).toBe(2);
    expect(new Set(names).size).toBe(1_050);
  });

  it('names the missing repository in RepositoryNotFoundException and refuses paging with repositoryNames', async () => {
    // Prepare
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'present' }));

    // Act
    const missing = await errorOf(() =>
      ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['present', 'absent'] })),
    );
    const mixed = await errorOf(() =>
      ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['present'], maxResults: 10 })),
    );

    // Assess
    expect(missing.name).toBe('RepositoryNotFoundException');
    expect(missing.message).toContain('absent');
    expect(mixed.name).toBe('InvalidParameterException');
  });

  it('refuses to delete a repository with images unless forced', async () => {
    // Prepare
    h.emulator.seedImage({ region: REGION, repository: 'full' }, buildDockerImage('repos/full'), {
      tags: ['v1'],
    });

    // Act
    const refused = await errorOf(() => ecr.send(new DeleteRepositoryCommand({ repositoryName: 'full' })));
    const forced = await ecr.send(new DeleteRepositoryCommand({ repositoryName: 'full', force: true }));

    // Assess
    expect(refused.name).toBe('RepositoryNotEmptyException');
    expect(forced.repository?.repositoryName).toBe('full');
    expect(h.emulator.world.getRepository(ACCOUNT, REGION, 'full')).toBeUndefined();
  });
});

const MIB5 = 5 * 1024 * 1024;

describe('layer upload', () => {
  let h: Harness;
  let ecr: ECRClient;
  beforeEach(async () => {
    h = await startHarness();
    ecr = h.client(REGION);
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'blobs' }));
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'elsewhere' }));
  });
  afterEach(() => h.close());

  const upload = async (bytes: Buffer, parts: [number, number][]) => {
    const { uploadId, partSize } = await ecr.send(
      new InitiateLayerUploadCommand({ repositoryName: 'blobs' }),
    );
    for (const [first, last] of parts) {
      await ecr.send(
        new UploadLayerPartCommand({
          repositoryName: 'blobs',
          uploadId,
          partFirstByte: first,
          partLastByte: last,
          layerPartBlob: bytes.subarray(first, last + 1),
        }),
      );
    }
    return { uploadId, partSize };
  };

  it('assembles consecutive parts and completes when the digest matches the bytes', async () => {
    // Prepare
    // Every part but the last is at least 5 MiB (LayerPartTooSmallException otherwise).
    const bytes = Buffer.alloc(
      2 * MIB5 + 1000,
      'a layer in three parts, uploaded the way docker push does it',
    );
    const digest = digestOf(bytes);

    // Act
    const { uploadId, partSize } = await upload(bytes, [
      [0, MIB5 - 1],
      [MIB5, 2 * MIB5 - 1],
      [2 * MIB5, bytes.length - 1],
    ]);
    const done = await ecr.send(
      new CompleteLayerUploadCommand({ repositoryName: 'blobs', uploadId, layerDigests: [digest] }),
    );
    const check = await ecr.send(
      new BatchCheckLayerAvailabilityCommand({
        repositoryName: 'blobs',
        layerDigests: [digest, `sha256:${'1'.repeat(64)}`],
      }),
    );
    const elsewhere = await ecr.send(
      new BatchCheckLayerAvailabilityCommand({ repositoryName: 'elsewhere', layerDigests: [digest] }),
    );

    // Assess
    expect(partSize).toBeGreaterThan(0);
    expect(done.layerDigest).toBe(digest);
    expect(check.layers).toEqual([
      { layerDigest: digest, layerAvailability: 'AVAILABLE', layerSize: bytes.length },
    ]);
    expect(check.failures).toEqual([
      {
        layerDigest: `sha256:${'1'.repeat(64)}`,
        failureCode: 'MissingLayerDigest',
        failureReason: 'Could not find layer',
      },
    ]);
    expect(elsewhere.layers).toEqual([]);
    expect(
      h.emulator.world.getRepository(ACCOUNT, REGION, 'blobs')?.blobs.get(digest)?.bytes?.equals(bytes),
    ).toBe(true);
  });

  it('refuses a part that leaves a gap, reporting the last valid byte', async () => {
    // Prepare
    const bytes = Buffer.alloc(100, 7);
    const { uploadId } = await upload(bytes, [[0, 49]]);

    // Act
    const error = await errorOf(() =>
      ecr.send(
        new UploadLayerPartCommand({
          repositoryName: 'blobs',
          uploadId,
          partFirstByte: 60,
          partLastByte: 99,
          layerPartBlob: bytes.subarray(60),
        }),
      ),
    );

    // Assess
    expect(error).toBeInstanceOf(InvalidLayerPartException);
    expect((error as InvalidLayerPartException).lastValidByteReceived).toBe(49);
  });

  it('refuses a part under 5 MiB that is not the last, and an upload with no parts, at completion', async () => {
    // Prepare: a 1 KiB first part, then the rest.
    const bytes = Buffer.alloc(2048, 3);
    const small = await upload(bytes, [
      [0, 1023],
      [1024, 2047],
    ]);
    const empty = await upload(Buffer.alloc(0), []);

    // Act
    const tooSmall = await errorOf(() =>
      ecr.send(
        new CompleteLayerUploadCommand({
          repositoryName: 'blobs',
          uploadId: small.uploadId,
          layerDigests: [digestOf(bytes)],
        }),
      ),
    );
    const none = await errorOf(() =>
      ecr.send(
        new CompleteLayerUploadCommand({
          repositoryName: 'blobs',
          uploadId: empty.uploadId,
          layerDigests: [digestOf(bytes)],
        }),
      ),
    );

    // Assess
    expect(tooSmall).toBeInstanceOf(LayerPartTooSmallException);
    expect((tooSmall as Error).message).toContain('Layer parts must be at least 5 MiB in size');
    expect(none).toBeInstanceOf(EmptyUploadException);
  });

  it('never reports a lastValidByteReceived under 0: a first part that does not start at 0', async () => {
    // Prepare
    const bytes = Buffer.alloc(100, 7);
    const { uploadId } = await upload(bytes, []);

    // Act
    const error = await errorOf(() =>
      ecr.send(
        new UploadLayerPartCommand({
          repositoryName: 'blobs',
          uploadId,
          partFirstByte: 10,
          partLastByte: 99,
          layerPartBlob: bytes.subarray(10),
        }),
      ),
    );

    // Assess
    expect(error).toBeInstanceOf(InvalidLayerPartException);
    expect((error as InvalidLayerPartException).lastValidByteReceived).toBe(0);
  });

  it('refuses a digest that does not match the uploaded bytes, and a layer already present', async () => {
    // Prepare
    const bytes = Buffer.from('layer bytes');
    const first = await upload(bytes, [[0, bytes.length - 1]]);
    await ecr.send(
      new CompleteLayerUploadCommand({
        repositoryName: 'blobs',
        uploadId: first.uploadId,
        layerDigests: [digestOf(bytes)],
      }),
    );
    const second = await upload(bytes, [[0, bytes.length - 1]]);
    const third = await upload(Buffer.from('other bytes'), [[0, 10]]);

    // Act
    const again = await errorOf(() =>
      ecr.send(
        new CompleteLayerUploadCommand({
          repositoryName: 'blobs',
          uploadId: second.uploadId,
          layerDigests: [digestOf(bytes)],
        }),
      ),
    );
    const wrong = await errorOf(() =>
      ecr.send(
        new CompleteLayerUploadCommand({
          repositoryName: 'blobs',
          uploadId: third.uploadId,
          layerDigests: [digestOf(bytes)],
        }),
      ),
    );
    const unknown = await errorOf(() =>
      ecr.send(
        new CompleteLayerUploadCommand({
          repositoryName: 'blobs',
          uploadId: 'nope',
          layerDigests: [digestOf(bytes)],
        }),
      ),
    );

    // Assess
    expect(again.name).toBe('LayerAlreadyExistsException');
    expect(wrong.name).toBe('InvalidLayerException');
    expect(unknown.name).toBe('UploadNotFoundException');
  });
});
