/**
 * Read-after-write consistency for s3rver.
 *
 * s3rver 3.7's filesystem store answers a PUT before the object is on disk (it resolves once the
 * write stream is *ended*, not finished) and overwrites an object by truncating it in place. A GET
 * right after a PUT, or during an overwrite, can then read an empty or partial object — seen as
 * "Unexpected end of JSON input" in a run's JSON files under load. Real S3 never does that: it has
 * strong read-after-write consistency (https://aws.amazon.com/s3/consistency/), and the workflow's
 * steps rely on it. This replaces the store's `putObject`: the bytes go to a scratch file, which is
 * flushed, then renamed over the object, so a reader sees the old object or the new one, never a mix.
 */
import { randomUUID, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** The part of s3rver's FilesystemStore this patch uses. */
export interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
}

export interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: unknown;
}

/**
 * Makes `store.putObject` atomic. `scratchDirectory` must be on the store's filesystem (rename does
 * not cross filesystems) and outside its root (s3rver would list anything in the root as a bucket).
 */
export function makeObjectWritesAtomic(store: S3rverStore, scratchDirectory: string): void {
  store.putObject = async (object) => {
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    await Promise.all([
      mkdir(dirname(objectPath), { recursive: true }),
      mkdir(scratchDirectory, { recursive: true }),
    ]);
    const scratch = join(scratchDirectory, randomUUID());
    const md5 = createHash('md5');
    let size = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        md5.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    try {
      // pipeline resolves once the file stream has finished: the bytes are written.
      await pipeline(content, measure, createWriteStream(scratch));
      await rename(scratch, objectPath);
    } catch (error) {
      await rm(scratch, { force: true });
      throw error;
    }
    const digest = md5.digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  };
}
