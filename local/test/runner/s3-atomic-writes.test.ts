/**
 * The local S3 must keep S3's read-after-write consistency, which s3rver's own store does not: it
 * truncates an object in place while overwriting it. The overwrite here is held mid-write so the
 * test is deterministic rather than a race that only shows under load.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import FilesystemStore from 's3rver/lib/stores/filesystem.js';
import { makeObjectWritesAtomic } from '../../s3/atomic-writes.ts';

const directories: string[] = [];
afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

async function storeIn(atomic: boolean) {
  const root = await mkdtemp(join(tmpdir(), 'atomic-writes-'));
  directories.push(root, `${root}-writes`);
  const store = new FilesystemStore(root);
  await store.putBucket('runs');
  if (atomic) makeObjectWritesAtomic(store, `${root}-writes`);
  const read = () => readFile(store.getResourcePath('runs', 'run/plan.json', 'object'), 'utf8');
  return { store, read };
}

const object = (content: Buffer | PassThrough) => ({
  bucket: 'runs',
  key: 'run/plan.json',
  content,
  metadata: { 'content-type': 'application/json' },
});

/** Overwrites the object with a body that arrives in two parts, and reads it between them. */
async function readDuringOverwrite(atomic: boolean) {
  const { store, read } = await storeIn(atomic);
  await store.putObject(object(Buffer.from('{"version":1}')));
  const body = new PassThrough();
  const overwrite = store.putObject(object(body));
  body.write('{"version"');
  // Give the store time to start the overwrite (a loaded machine may need more than a tick): read
  // until the object changes, or for at most 2 s (the atomic store never shows a change mid-write).
  let during = await read();
  for (let waited = 0; during === '{"version":1}' && waited < 2000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    during = await read();
  }
  body.end(':2}');
  await overwrite;
  return { during, after: await read() };
}

describe('local S3 object writes', () => {
  it('show readers the old object or the new one during an overwrite, never a partial one', async () => {
    const { during, after } = await readDuringOverwrite(true);

    expect(during).toBe('{"version":1}');
    expect(after).toBe('{"version":2}');
  });

  it('are needed: s3rver alone exposes a truncated object mid-overwrite', async () => {
    const { during, after } = await readDuringOverwrite(false);

    expect(during).not.toBe('{"version":1}');
    expect(() => JSON.parse(during) as unknown).toThrow();
    expect(after).toBe('{"version":2}');
  });

  it('have the bytes on disk when the PUT is answered, with the size and MD5 S3 reports', async () => {
    const { store, read } = await storeIn(true);
    const content = Buffer.from(JSON.stringify({ items: Array.from({ length: 5000 }, (_, i) => i) }));

    const result = await store.putObject(object(content));

    expect(await read()).toBe(content.toString());
    expect(result.size).toBe(content.length);
    expect(result.md5).toMatch(/^[0-9a-f]{32}$/);
  });
});
