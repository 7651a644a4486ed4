import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../s3/index.ts';

describe('local S3 (s3rver) through the real SDK v3', () => {
  let s3: LocalS3;
  let client: S3Client;

  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: ['run-bucket', 'other-bucket'] });
    client = s3.client;
  });
  afterAll(async () => {
    await s3.close();
  });

  it('stores and returns an object byte for byte', async () => {
    // Prepare
    const body = '{"a":1}\n{"b":"ü"}\n';

    // Act
    await client.send(new PutObjectCommand({ Bucket: 'run-bucket', Key: 'runs/r1/items.jsonl', Body: body }));
    const got = await client.send(new GetObjectCommand({ Bucket: 'run-bucket', Key: 'runs/r1/items.jsonl' }));

    // Assess
    expect(await got.Body?.transformToString()).toBe(body);
  });

  it('pages ListObjectsV2 with continuation tokens and a prefix', async () => {
    // Prepare
    const keys = Array.from({ length: 7 }, (_, i) => `paged/k-${i}.json`);
    for (const Key of keys)
      await client.send(new PutObjectCommand({ Bucket: 'other-bucket', Key, Body: 'x' }));
    await client.send(new PutObjectCommand({ Bucket: 'other-bucket', Key: 'elsewhere.json', Body: 'x' }));

    // Act
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: 'other-bucket',
          Prefix: 'paged/',
          MaxKeys: 3,
          ContinuationToken: token,
        }),
      );
      pages += 1;
      seen.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);

    // Assess
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(keys.sort());
  });

  it('lists with a delimiter and StartAfter as ListObjectsV2 defines them', async () => {
    // Prepare
    for (const Key of ['tree/a.json', 'tree/b/1.json', 'tree/b/2.json', 'tree/c.json']) {
      await client.send(new PutObjectCommand({ Bucket: 'other-bucket', Key, Body: 'x' }));
    }

    // Act
    const grouped = await client.send(
      new ListObjectsV2Command({ Bucket: 'other-bucket', Prefix: 'tree/', Delimiter: '/' }),
    );
    const after = await client.send(
      new ListObjectsV2Command({ Bucket: 'other-bucket', Prefix: 'tree/', StartAfter: 'tree/b/1.json' }),
    );

    // Assess
    expect(grouped.Contents?.map((o) => o.Key)).toEqual(['tree/a.json', 'tree/c.json']);
    expect(grouped.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['tree/b/']);
    expect(grouped.KeyCount).toBe(3);
    expect(after.Contents?.map((o) => o.Key)).toEqual(['tree/b/2.json', 'tree/c.json']);
    expect(after.StartAfter).toBe('tree/b/1.json');
  });

  it('completes a multipart upload made part by part', async () => {
    // Prepare
    const part1 = Buffer.alloc(5 * 1024 * 1024, 'a');
    const part2 = Buffer.from('tail');
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: 'run-bucket', Key: 'big/object.bin' }),
    );

    // Act
    const p1 = await client.send(
      new UploadPartCommand({
        Bucket: 'run-bucket',
        Key: 'big/object.bin',
        UploadId,
        PartNumber: 1,
        Body: part1,
      }),
    );
    const p2 = await client.send(
      new UploadPartCommand({
        Bucket: 'run-bucket',
        Key: 'big/object.bin',
        UploadId,
        PartNumber: 2,
        Body: part2,
      }),
    );
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'run-bucket',
        Key: 'big/object.bin',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.ETag },
            { PartNumber: 2, ETag: p2.ETag },
          ],
        },
      }),
    );
    const got = await client.send(new GetObjectCommand({ Bucket: 'run-bucket', Key: 'big/object.bin' }));
    const bytes = await got.Body?.transformToByteArray();

    // Assess
    expect(bytes?.length).toBe(part1.length + part2.length);
    expect(
      Buffer.from(bytes ?? [])
        .subarray(-4)
        .toString(),
    ).toBe('tail');
  });

  it('uploads a streamed body with lib-storage', async () => {
    // Prepare
    const body = Buffer.alloc(6 * 1024 * 1024, 'z');

    // Act
    await new Upload({ client, params: { Bucket: 'run-bucket', Key: 'streamed.bin', Body: body } }).done();
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'run-bucket', Prefix: 'streamed' }));

    // Assess
    expect(listed.Contents?.[0]?.Size).toBe(body.length);
  });

  it('deletes several objects at once', async () => {
    // Prepare
    for (const Key of ['del/a', 'del/b']) {
      await client.send(new PutObjectCommand({ Bucket: 'run-bucket', Key, Body: 'x' }));
    }

    // Act
    await client.send(
      new DeleteObjectsCommand({
        Bucket: 'run-bucket',
        Delete: { Objects: [{ Key: 'del/a' }, { Key: 'del/b' }] },
      }),
    );
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'run-bucket', Prefix: 'del/' }));

    // Assess
    expect(listed.KeyCount ?? 0).toBe(0);
  });
});
