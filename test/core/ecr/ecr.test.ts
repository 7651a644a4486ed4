import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImageReplicationStatusCommand,
  DescribeImagesCommand,
  ECRClient,
  ImageAlreadyExistsException,
  type ImageFailure,
  ImageNotFoundException,
  ImageTagAlreadyExistsException,
  LayersNotFoundException,
  PutImageCommand,
  RepositoryNotFoundException,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createEcrClientProvider,
  deleteTags,
  describeImageTags,
  describeReplicationStatus,
  getManifestByDigest,
  getManifestsByDigest,
  isTagImmutable,
  putManifest,
  resolveTags,
  SDK_MAX_ATTEMPTS,
} from '../../../core/ecr/ecr.ts';
import { ERROR_NAMES } from '../../../core/errors/error-names.ts';
import { ACCEPTED_MANIFEST_MEDIA_TYPES, OCI_MANIFEST } from '../../../core/ecr/media-types.ts';

const ecrMock = mockClient(ECRClient);
const client = new ECRClient({ region: 'ap-south-1' });
const REF = { registryId: '111111111111', repositoryName: 'app/api' };
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const notFound = (name: string): ImageFailure => ({
  imageId: { imageTag: name },
  failureCode: 'ImageNotFound',
  failureReason: 'x',
});

beforeEach(() => ecrMock.reset());
afterEach(() => ecrMock.reset());

describe('createEcrClientProvider', () => {
  it('creates one client per Region and role, with few SDK attempts', async () => {
    // Prepare
    const roles: string[] = [];
    const provider = createEcrClientProvider({
      credentialsForRole: (roleArn) => {
        roles.push(roleArn);
        return { accessKeyId: 'AKIA', secretAccessKey: 'secret' };
      },
    });

    // Act
    const a = provider({ region: 'ap-south-1' });
    const b = provider({ region: 'ap-south-1', registryId: '111111111111' });
    const c = provider({ region: 'us-west-2', roleArn: 'arn:aws:iam::222222222222:role/r' });
    const d = provider({ region: 'us-west-2', roleArn: 'arn:aws:iam::222222222222:role/r' });
    const e = provider({ region: 'us-west-2' });

    // Assess
    expect(a).toBe(b);
    expect(c).toBe(d);
    expect(e).not.toBe(c);
    expect(roles).toEqual(['arn:aws:iam::222222222222:role/r']);
    expect(await a.config.maxAttempts()).toBe(SDK_MAX_ATTEMPTS);
    expect(await c.config.region()).toBe('us-west-2');
  });
});

describe('getManifestsByDigest', () => {
  it('asks by digest with every manifest media type and returns the exact manifest string', async () => {
    // Prepare
    const manifest = '{\n   "schemaVersion": 2,\n   "layers": []\n}';
    ecrMock.on(BatchGetImageCommand).resolves({
      images: [
        {
          imageId: { imageDigest: digest(1) },
          imageManifest: manifest,
          imageManifestMediaType: OCI_MANIFEST,
        },
      ],
      failures: [],
    });

    // Act
    const found = await getManifestByDigest(client, REF, digest(1));

    // Assess
    expect(found).toEqual({ imageDigest: digest(1), manifest, mediaType: OCI_MANIFEST });
    expect(ecrMock).toHaveReceivedCommandWith(BatchGetImageCommand, {
      ...REF,
      imageIds: [{ imageDigest: digest(1) }],
      acceptedMediaTypes: [...ACCEPTED_MANIFEST_MEDIA_TYPES],
    });
    expect(ACCEPTED_MANIFEST_MEDIA_TYPES).toHaveLength(6);
  });

  it('splits more than 100 digests into calls of at most 100', async () => {
    // Prepare
    ecrMock.on(BatchGetImageCommand).resolves({ images: [], failures: [] });

    // Act
    await getManifestsByDigest(
      client,
      REF,
      Array.from({ length: 250 }, (_, i) => digest(i)),
    );

    // Assess
    const sizes = ecrMock
      .commandCalls(BatchGetImageCommand)
      .map((call) => call.args[0].input.imageIds?.length);
    expect(sizes).toEqual([100, 100, 50]);
  });

  it('treats a missing image or repository as absent', async () => {
    ecrMock.on(BatchGetImageCommand).resolvesOnce({ images: [], failures: [notFound('x')] });
    expect(await getManifestByDigest(client, REF, digest(1))).toBeUndefined();
    ecrMock
      .on(BatchGetImageCommand)
      .rejects(new RepositoryNotFoundException({ message: 'no', $metadata: {} }));
    expect(await getManifestByDigest(client, REF, digest(1))).toBeUndefined();
  });

  it('turns a failure it cannot interpret into a retryable Transient error', async () => {
    ecrMock.on(BatchGetImageCommand).resolves({
      images: [],
      failures: [{ imageId: { imageDigest: digest(1) }, failureCode: 'KmsError', failureReason: 'kms' }],
    });
    await expect(getManifestByDigest(client, REF, digest(1))).rejects.toMatchObject({
      name: ERROR_NAMES.Transient,
    });
  });
});

describe('resolveTags', () => {
  it('maps each tag to its digest, or undefined when absent', async () => {
    // Prepare
    ecrMock.on(BatchGetImageCommand).resolves({
      images: [{ imageId: { imageTag: 'v1', imageDigest: digest(1) }, imageManifest: '{}' }],
      failures: [notFound('v2')],
    });

    // Act
    const resolved = await resolveTags(client, REF, ['v1', 'v2', 'v1']);

    // Assess
    expect([...resolved]).toEqual([
      ['v1', digest(1)],
      ['v2', undefined],
    ]);
    expect(ecrMock).toHaveReceivedCommandWith(BatchGetImageCommand, {
      imageIds: [{ imageTag: 'v1' }, { imageTag: 'v2' }],
      acceptedMediaTypes: [...ACCEPTED_MANIFEST_MEDIA_TYPES],
    });
  });

  it('treats a missing repository as "no tag exists"', async () => {
    ecrMock
      .on(BatchGetImageCommand)
      .rejects(new RepositoryNotFoundException({ message: 'no', $metadata: {} }));
    expect([...(await resolveTags(client, REF, ['v1']))]).toEqual([['v1', undefined]]);
  });
});

describe('putManifest', () => {
  const input = { manifest: '{"a":1}', mediaType: OCI_MANIFEST, imageDigest: digest(7), tag: 'v1' };

  it('sends the exact manifest with its media type and digest', async () => {
    // Prepare
    ecrMock.on(PutImageCommand).resolves({});
    let paced = 0;

    // Act
    const limiter = {
      ratePerSecond: 1,
      take: () => Promise.resolve(void (paced += 1)),
      reserve: () => Promise.reject(new Error('putManifest takes one token')),
    };
    const result = await putManifest(client, REF, input, limiter);

    // Assess
    expect(result).toBe('created');
    expect(paced).toBe(1);
    expect(ecrMock).toHaveReceivedCommandWith(PutImageCommand, {
      ...REF,
      imageManifest: '{"a":1}',
      imageManifestMediaType: OCI_MANIFEST,
      imageDigest: digest(7),
      imageTag: 'v1',
    });
  });

  it('reports ImageAlreadyExists as already done and ImageTagAlreadyExists as a tag to look at', async () => {
    ecrMock.on(PutImageCommand).rejects(new ImageAlreadyExistsException({ message: 'x', $metadata: {} }));
    expect(await putManifest(client, REF, input)).toBe('already');
    ecrMock.reset();
    ecrMock.on(PutImageCommand).rejects(new ImageTagAlreadyExistsException({ message: 'x', $metadata: {} }));
    expect(await putManifest(client, REF, input)).toBe('tag-exists');
  });

  it('lets any other error through', async () => {
    ecrMock.on(PutImageCommand).rejects(new LayersNotFoundException({ message: 'layers', $metadata: {} }));
    await expect(putManifest(client, REF, input)).rejects.toBeInstanceOf(LayersNotFoundException);
  });
});

describe('deleteTags', () => {
  it('deletes by tag only, never by digest, and counts missing tags as already deleted', async () => {
    // Prepare
    ecrMock.on(BatchDeleteImageCommand).resolves({
      imageIds: [{ imageTag: 'tmp-1', imageDigest: digest(1) }],
      failures: [notFound('tmp-2')],
    });

    // Act
    const result = await deleteTags(client, REF, ['tmp-1', 'tmp-2']);

    // Assess
    expect(result).toEqual({ deleted: ['tmp-1'], absent: ['tmp-2'] });
    const sent = ecrMock.commandCalls(BatchDeleteImageCommand)[0]!.args[0].input;
    expect(sent.imageIds).toEqual([{ imageTag: 'tmp-1' }, { imageTag: 'tmp-2' }]);
  });
});

describe('describeImageTags and describeReplicationStatus', () => {
  it('read an image’s tags and replication statuses, undefined when the image is gone', async () => {
    ecrMock
      .on(DescribeImagesCommand)
      .resolves({ imageDetails: [{ imageDigest: digest(1), imageTags: ['a', 'b'] }] });
    expect(await describeImageTags(client, REF, digest(1))).toEqual(['a', 'b']);
    ecrMock.on(DescribeImagesCommand).rejects(new ImageNotFoundException({ message: 'gone', $metadata: {} }));
    expect(await describeImageTags(client, REF, digest(1))).toBeUndefined();

    ecrMock.on(DescribeImageReplicationStatusCommand).resolves({
      replicationStatuses: [
        { region: 'us-west-2', registryId: '222222222222', status: 'FAILED', failureCode: 'X' },
      ],
    });
    expect(await describeReplicationStatus(client, REF, digest(1))).toEqual([
      { region: 'us-west-2', registryId: '222222222222', status: 'FAILED', failureCode: 'X' },
    ]);
    ecrMock
      .on(DescribeImageReplicationStatusCommand)
      .rejects(new ImageNotFoundException({ message: 'gone', $metadata: {} }));
    expect(await describeReplicationStatus(client, REF, digest(1))).toBeUndefined();
  });
});

describe('isTagImmutable', () => {
  it('follows the repository setting and inverts it for tags matching an exclusion filter', () => {
    expect(isTagImmutable(undefined, 'v1')).toBe(false);
    expect(isTagImmutable({ mutability: 'MUTABLE', exclusionFilters: [] }, 'v1')).toBe(false);
    expect(isTagImmutable({ mutability: 'IMMUTABLE', exclusionFilters: [] }, 'v1')).toBe(true);
    const immutableExcept = {
      mutability: 'IMMUTABLE_WITH_EXCLUSION' as const,
      exclusionFilters: ['ecr-backfill-*', 'latest'],
    };
    expect(isTagImmutable(immutableExcept, 'v1')).toBe(true);
    expect(isTagImmutable(immutableExcept, 'latest')).toBe(false);
    expect(isTagImmutable(immutableExcept, 'ecr-backfill-0123-abcd')).toBe(false);
    const mutableExcept = { mutability: 'MUTABLE_WITH_EXCLUSION' as const, exclusionFilters: ['release-*'] };
    expect(isTagImmutable(mutableExcept, 'release-1.0')).toBe(true);
    expect(isTagImmutable(mutableExcept, 'dev')).toBe(false);
  });
});
