/** The run-bucket helpers against s3rver: streamed JSON Lines both ways, aborts, listings. */
import { S3RunStore } from '../../../core/run-files/s3-run-store.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalS3, type LocalS3 } from '../../../local/s3/index.ts';
import {
  getText,
  JsonLinesWriter,
  listObjects,
  readJsonLines,
  withJsonLinesWriter,
} from '../../../core/run-files/run-store.ts';

const BUCKET = 'runs';
let s3: LocalS3;

beforeAll(async () => {
  s3 = await startLocalS3({ buckets: [BUCKET] });
});
afterAll(async () => {
  await s3.close();
});

async function keys(prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const object of listObjects(new S3RunStore(s3.client), BUCKET, prefix)) found.push(object.key);
  return found;
}

describe('JsonLinesWriter', () => {
  it('streams more than one 5 MiB part and reads back every line in order', async () => {
    const padding = 'x'.repeat(1_000);
    const lines = 6_000; // ~6 MB: a multipart upload

    const { count, bytes } = await withJsonLinesWriter(
      new S3RunStore(s3.client),
      BUCKET,
      'stream/big.jsonl',
      async (writer) => {
        for (let i = 0; i < lines; i++) await writer.write({ i, padding });
      },
    );

    expect(count).toBe(lines);
    expect(bytes).toBeGreaterThan(5 * 1024 * 1024);
    let expected = 0;
    for await (const line of readJsonLines<{ i: number }>(
      new S3RunStore(s3.client),
      BUCKET,
      'stream/big.jsonl',
    )) {
      expect(line.i).toBe(expected);
      expected += 1;
    }
    expect(expected).toBe(lines);
  });

  it('writes an empty object when nothing was written', async () => {
    const writer = new JsonLinesWriter(new S3RunStore(s3.client), BUCKET, 'stream/empty.jsonl');

    await writer.close();

    expect(await getText(new S3RunStore(s3.client), BUCKET, 'stream/empty.jsonl')).toBe('');
  });

  it('leaves nothing under the key when the filling fails', async () => {
    const failure = withJsonLinesWriter(
      new S3RunStore(s3.client),
      BUCKET,
      'stream/aborted.jsonl',
      async (writer) => {
        await writer.write({ a: 1 });
        throw new Error('boom');
      },
    );

    await expect(failure).rejects.toThrow('boom');
    expect(await keys('stream/aborted')).toEqual([]);
  });

  it('leaves nothing under the key when it fails after a multipart upload began', async () => {
    const padding = 'y'.repeat(1_000);
    const failure = withJsonLinesWriter(
      new S3RunStore(s3.client),
      BUCKET,
      'stream/aborted-big.jsonl',
      async (writer) => {
        for (let i = 0; i < 6_000; i++) await writer.write({ i, padding });
        throw new Error('late boom');
      },
    );

    await expect(failure).rejects.toThrow('late boom');
    expect(await keys('stream/aborted-big')).toEqual([]);
  });
});

describe('listObjects', () => {
  it('follows continuation tokens to the last page', async () => {
    const names = Array.from({ length: 23 }, (_, i) => `list/k-${String(i).padStart(4, '0')}`);
    await Promise.all(
      names.map((Key) => s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: '1' }))),
    );

    const client = s3.clientFor();
    let requests = 0;
    client.middlewareStack.add(
      (next) => (args) => {
        requests += 1;
        return next(args);
      },
      { step: 'initialize' },
    );

    const listed: string[] = [];
    for await (const object of listObjects(new S3RunStore(client), BUCKET, 'list/', 5))
      listed.push(object.key);

    expect(listed).toEqual(names);
    expect(requests).toBe(5);
  });
});
