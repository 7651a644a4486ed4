/**
 * Run-bucket helpers: small JSON documents, JSON Lines streamed in both directions, listings with
 * pagination. Streaming matters: item files grow with the registry (100,000 repositories × their
 * images), a Lambda's memory does not.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { PassThrough, Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { z } from 'zod';
import { awsErrorName, toStepError } from './errors.ts';

const noop = (): void => undefined;

/** S3's minimum multipart part size; also the most one open writer buffers per in-flight part. */
const PART_SIZE_BYTES = 5 * 1024 * 1024;

export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** The object does not exist (GetObject/HeadObject). */
export function isNotFound(error: unknown): boolean {
  const name = awsErrorName(error);
  return name === 'NoSuchKey' || name === 'NotFound';
}

export async function putJson(s3: S3Client, bucket: string, key: string, value: unknown): Promise<void> {
  await putText(s3, bucket, key, JSON.stringify(value), 'application/json');
}

export async function putText(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): Promise<void> {
  try {
    // A Buffer, not the string: the SDK mistakes an empty string for a stream of unknown length.
    const bytes = Buffer.from(body, 'utf8');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: contentType }));
  } catch (error) {
    throw toStepError(error, `S3 PutObject ${s3Url(bucket, key)}`);
  }
}

/** The object's body as a Node stream. Throws the SDK's NoSuchKey (test with `isNotFound`). */
export async function openObject(s3: S3Client, bucket: string, key: string): Promise<Readable> {
  let body: unknown;
  try {
    body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body;
  } catch (error) {
    if (isNotFound(error)) throw error;
    throw toStepError(error, `S3 GetObject ${s3Url(bucket, key)}`);
  }
  if (body instanceof Readable) return body;
  if (body && typeof (body as { transformToString?: unknown }).transformToString === 'function') {
    // Non-Node runtimes hand back a web stream; tests with mocked clients may too.
    const text = await (body as { transformToString: () => Promise<string> }).transformToString();
    return Readable.from([text]);
  }
  return Readable.from([]);
}

export async function getText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const stream = await openObject(s3, bucket, key);
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString('utf8');
}

export async function getJson<T>(
  s3: S3Client,
  bucket: string,
  key: string,
  schema?: z.ZodType<T>,
): Promise<T> {
  const text = await getText(s3, bucket, key);
  const value: unknown = JSON.parse(text);
  return schema ? schema.parse(value) : (value as T);
}

/** Every line of a text object, streamed (a trailing newline does not yield an empty line). */
export async function* readLines(s3: S3Client, bucket: string, key: string): AsyncGenerator<string> {
  const stream = await openObject(s3, bucket, key);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.length > 0) yield line;
  }
}

export async function* readJsonLines<T>(
  s3: S3Client,
  bucket: string,
  key: string,
  schema?: z.ZodType<T>,
): AsyncGenerator<T> {
  for await (const line of readLines(s3, bucket, key)) {
    const value: unknown = JSON.parse(line);
    yield schema ? schema.parse(value) : (value as T);
  }
}

export interface ListedObject {
  key: string;
  size: number;
  lastModified?: Date;
  /** Changes whenever the object is rewritten (a reader re-reads only what changed). */
  etag?: string;
}

/** Every object under a prefix, page by page (ListObjectsV2 returns at most 1,000 per page). */
export async function* listObjects(
  s3: S3Client,
  bucket: string,
  prefix: string,
  pageSize = 1000,
): AsyncGenerator<ListedObject> {
  try {
    const pages = paginateListObjectsV2(
      { client: s3, pageSize },
      { Bucket: bucket, Prefix: prefix, MaxKeys: pageSize },
    );
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield {
          key: object.Key,
          size: object.Size ?? 0,
          ...(object.LastModified !== undefined && { lastModified: object.LastModified }),
          ...(object.ETag !== undefined && { etag: object.ETag }),
        };
      }
    }
  } catch (error) {
    throw toStepError(error, `S3 ListObjectsV2 ${s3Url(bucket, prefix)}`);
  }
}

/**
 * A text object written as a stream: a single PutObject when it stays under 5 MiB, a multipart
 * upload otherwise (lib-storage). Memory stays bounded by one part. Nothing is visible under the key
 * until `close()` succeeds, so a crash never leaves a half-written file behind a good key.
 */
export class StreamingTextWriter {
  private upload: { body: PassThrough; upload: Upload; done: Promise<unknown> } | undefined;
  private failure: unknown;
  private closed = false;
  bytes = 0;

  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    readonly key: string,
    private readonly contentType = 'application/x-ndjson',
  ) {}

  /** The upload starts with the first byte; an empty object is a plain PutObject at close. */
  private started() {
    if (this.upload) return this.upload;
    const body = new PassThrough();
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: this.key, Body: body, ContentType: this.contentType },
      partSize: PART_SIZE_BYTES,
      queueSize: 1,
      leavePartsOnError: false,
    });
    const done = upload.done();
    // Keep the rejection observed until close()/write() surfaces it.
    done.catch((error: unknown) => {
      this.failure = error;
      body.destroy();
    });
    this.upload = { body, upload, done };
    return this.upload;
  }

  async write(chunk: string | Uint8Array): Promise<void> {
    if (this.closed) throw new Error(`write after close: ${s3Url(this.bucket, this.key)}`);
    this.throwIfFailed();
    const { body, done } = this.started();
    this.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    if (!body.write(chunk)) {
      // A failed upload stops draining: wake up on either, then surface the failure if any.
      await Promise.race([once(body, 'drain'), done.then(noop, noop)]);
      this.throwIfFailed();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.upload) {
      await putText(this.s3, this.bucket, this.key, '', this.contentType);
      return;
    }
    this.upload.body.end();
    try {
      await this.upload.done;
    } catch (error) {
      throw toStepError(error, `S3 upload ${s3Url(this.bucket, this.key)}`);
    }
  }

  /** Gives up the upload (nothing is written under the key). Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.upload) return;
    try {
      await this.upload.upload.abort();
    } catch {
      // Aborting is best effort; an incomplete multipart upload is removed by the bucket lifecycle.
    }
    this.upload.body.destroy();
    await this.upload.done.catch(noop);
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) {
      throw toStepError(this.failure, `S3 upload ${s3Url(this.bucket, this.key)}`);
    }
  }
}

/** JSON Lines on top of the streaming writer: one value per line, counted. */
export class JsonLinesWriter {
  private readonly writer: StreamingTextWriter;
  count = 0;

  constructor(s3: S3Client, bucket: string, key: string) {
    this.writer = new StreamingTextWriter(s3, bucket, key, 'application/x-ndjson');
  }

  get key(): string {
    return this.writer.key;
  }

  get bytes(): number {
    return this.writer.bytes;
  }

  async write(value: unknown): Promise<void> {
    await this.writer.write(`${JSON.stringify(value)}\n`);
    this.count += 1;
  }

  /** Appends already-serialized JSON Lines (e.g. a chunk of a slice file); `lines` it completes. */
  async writeRaw(chunk: string | Uint8Array, lines: number): Promise<void> {
    await this.writer.write(chunk);
    this.count += lines;
  }

  close(): Promise<void> {
    return this.writer.close();
  }

  abort(): Promise<void> {
    return this.writer.abort();
  }
}

/**
 * Runs `fill` with a fresh writer and closes it; on any error the upload is aborted (nothing is
 * written under the key) and the error rethrown.
 */
export async function withJsonLinesWriter<T>(
  s3: S3Client,
  bucket: string,
  key: string,
  fill: (writer: JsonLinesWriter) => Promise<T>,
): Promise<{ result: T; count: number; bytes: number }> {
  const writer = new JsonLinesWriter(s3, bucket, key);
  try {
    const result = await fill(writer);
    await writer.close();
    return { result, count: writer.count, bytes: writer.bytes };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
