/**
 * Run files kept in memory, with the semantics the steps rely on from S3: a streamed file appears
 * whole at `close()` (never half-written), an aborted one never; a read sees the last write;
 * listings are in key order (as ListObjectsV2 returns them: "Objects are returned sorted in an
 * ascending order of the respective key names",
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html). For the AWS-mode `plan`
 * command (planning writes intermediate files it then throws away) and for tests where S3 itself is
 * not under test.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { RunFileNotFound, s3Url, type RunFileSink, type RunStore, type StoredFile } from './run-store.ts';

interface MemoryFile {
  body: Buffer;
  contentType: string;
  lastModified: Date;
}

export class MemoryRunStore implements RunStore {
  private readonly files = new Map<string, MemoryFile>();

  constructor(private readonly clock: { now(): number } = { now: () => Date.now() }) {}

  put(bucket: string, key: string, body: Uint8Array, contentType: string): Promise<void> {
    this.files.set(s3Url(bucket, key), {
      body: Buffer.from(body),
      contentType,
      lastModified: new Date(this.clock.now()),
    });
    return Promise.resolve();
  }

  async create(bucket: string, key: string, body: Uint8Array, contentType: string): Promise<boolean> {
    if (this.files.has(s3Url(bucket, key))) return false;
    await this.put(bucket, key, body, contentType);
    return true;
  }

  open(bucket: string, key: string): Promise<Readable> {
    const file = this.files.get(s3Url(bucket, key));
    if (!file) return Promise.reject(new RunFileNotFound(s3Url(bucket, key)));
    return Promise.resolve(Readable.from([file.body]));
  }

  createWriter(bucket: string, key: string, contentType: string): RunFileSink {
    const chunks: Buffer[] = [];
    let state: 'open' | 'closed' | 'aborted' = 'open';
    return {
      write: (chunk) => {
        if (state !== 'open') return Promise.reject(new Error(`write after close: ${s3Url(bucket, key)}`));
        chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
        return Promise.resolve();
      },
      close: async () => {
        if (state !== 'open') return;
        state = 'closed';
        await this.put(bucket, key, Buffer.concat(chunks), contentType);
      },
      abort: () => {
        if (state === 'open') state = 'aborted';
        return Promise.resolve();
      },
    };
  }

  async *list(bucket: string, prefix: string): AsyncGenerator<StoredFile> {
    const bucketPrefix = s3Url(bucket, '');
    const keys = [...this.files.keys()]
      .filter((url) => url.startsWith(bucketPrefix))
      .map((url) => url.slice(bucketPrefix.length))
      .filter((key) => key.startsWith(prefix))
      .sort();
    for (const key of keys) {
      const file = this.files.get(s3Url(bucket, key));
      if (file) {
        // S3's ETag of a single-part object is the MD5 of its bytes: the same content, the same tag.
        const etag = `"${createHash('md5').update(file.body).digest('hex')}"`;
        yield { key, size: file.body.byteLength, lastModified: file.lastModified, etag };
      }
    }
    await Promise.resolve();
  }

  delete(bucket: string, key: string): Promise<void> {
    this.files.delete(s3Url(bucket, key));
    return Promise.resolve();
  }

  /** The content type a file was stored with (what S3 would answer in Content-Type). */
  contentTypeOf(bucket: string, key: string): string | undefined {
    return this.files.get(s3Url(bucket, key))?.contentType;
  }
}
