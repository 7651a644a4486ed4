/**
 * The run-store port's contract, proved on both implementations: S3RunStore against a real S3
 * emulator (s3rver, real SDK over HTTP) and MemoryRunStore. The steps rely on these semantics; the
 * in-memory store may stand in for S3 only because it passes the same cases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRunStore } from '../../../core/run-files/memory-run-store.ts';
import {
  getJson,
  getText,
  isNotFound,
  listObjects,
  putJson,
  readJsonLines,
  RunFileNotFound,
  withJsonLinesWriter,
  type RunStore,
} from '../../../core/run-files/run-store.ts';
import { S3RunStore } from '../../../core/run-files/s3-run-store.ts';
import { startLocalS3, type LocalS3 } from '../../../local/s3/index.ts';

const BUCKET = 'runs';
let localS3: LocalS3;

beforeAll(async () => {
  localS3 = await startLocalS3({ buckets: [BUCKET] });
});
afterAll(async () => {
  await localS3.close();
});

const stores: [string, () => RunStore][] = [
  ['S3RunStore on s3rver', () => new S3RunStore(localS3.client)],
  ['MemoryRunStore', () => new MemoryRunStore()],
];

async function keys(store: RunStore, prefix: string, pageSize?: number): Promise<string[]> {
  const found: string[] = [];
  for await (const file of listObjects(store, BUCKET, prefix, pageSize)) found.push(file.key);
  return found;
}

describe.each(stores)('%s', (name, createStore) => {
  const prefix = `contract/${name.split(' ')[0]}`;

  it('reads back the JSON last written under a key', async () => {
    const store = createStore();
    await putJson(store, BUCKET, `${prefix}/doc.json`, { a: 1 });
    await putJson(store, BUCKET, `${prefix}/doc.json`, { a: 2 });

    expect(await getJson(store, BUCKET, `${prefix}/doc.json`)).toEqual({ a: 2 });
  });

  it('rejects a missing file with RunFileNotFound naming its location', async () => {
    const store = createStore();
    const missing = getText(store, BUCKET, `${prefix}/missing.json`);

    await expect(missing).rejects.toBeInstanceOf(RunFileNotFound);
    await expect(missing).rejects.toThrow(`s3://${BUCKET}/${prefix}/missing.json does not exist`);
    expect(isNotFound(await missing.catch((error: unknown) => error))).toBe(true);
  });

  it('streams JSON Lines in and out, and counts them', async () => {
    const store = createStore();
    const written = await withJsonLinesWriter(store, BUCKET, `${prefix}/items.jsonl`, async (writer) => {
      for (let i = 0; i < 3; i += 1) await writer.write({ i });
    });
    const read: unknown[] = [];
    for await (const value of readJsonLines(store, BUCKET, `${prefix}/items.jsonl`)) read.push(value);

    expect(written.count).toBe(3);
    expect(read).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
  });

  it('leaves nothing under the key when a streamed file is aborted', async () => {
    const store = createStore();
    const failing = withJsonLinesWriter(store, BUCKET, `${prefix}/aborted.jsonl`, async (writer) => {
      await writer.write({ i: 0 });
      throw new Error('crash mid-file');
    });

    await expect(failing).rejects.toThrow('crash mid-file');
    expect(await keys(store, `${prefix}/aborted`)).toEqual([]);
  });

  it('lists every file under a prefix in key order across pages, and deletes', async () => {
    const store = createStore();
    for (const n of [3, 1, 2, 5, 4]) await putJson(store, BUCKET, `${prefix}/list/${n}.json`, n);
    await putJson(store, BUCKET, `${prefix}/other.json`, 0);

    expect(await keys(store, `${prefix}/list/`, 2)).toEqual(
      [1, 2, 3, 4, 5].map((n) => `${prefix}/list/${n}.json`),
    );
    await store.delete(BUCKET, `${prefix}/list/3.json`);
    await store.delete(BUCKET, `${prefix}/list/never-written.json`);
    expect(await keys(store, `${prefix}/list/`)).toHaveLength(4);
  });
});
