/**
 * The run files (plans, item files, results, reports under `runs/<runId>/`) as the steps see them:
 * a small port, `RunStore`, and the formats on top of it (JSON documents, JSON Lines streamed in
 * both directions, listings). Production stores them in the run bucket (s3-run-store.ts); the
 * AWS-mode `plan` command and tests where S3 itself is not under test keep them in memory
 * (memory-run-store.ts). Streaming matters: item files grow with the registry (100,000
 * repositories × their images), a Lambda's memory does not.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import { awsErrorName } from '../errors/errors.ts';

export interface StoredFile {
  key: string;
  size: number;
  lastModified?: Date;
  /** Changes whenever the file is rewritten (a reader re-reads only what changed). */
  etag?: string;
}

/** A file being written as a stream. Nothing is visible under its key until `close()` succeeds. */
export interface RunFileSink {
  write(chunk: string | Uint8Array): Promise<void>;
  close(): Promise<void>;
  /** Gives up the file: nothing is written under the key. Safe to call more than once. */
  abort(): Promise<void>;
}

/** Where run files live. Keys are grouped by bucket, as the state machine's ItemReader/ResultWriter name them. */
export interface RunStore {
  /** Writes a whole file, replacing any file under the key. */
  put(bucket: string, key: string, body: Uint8Array, contentType: string): Promise<void>;
  /**
   * Writes a whole file only if no file exists under the key; resolves false, writing nothing, when
   * one does. Two concurrent creates of one key: exactly one resolves true (S3 conditional writes).
   */
  create(bucket: string, key: string, body: Uint8Array, contentType: string): Promise<boolean>;
  /** The file's bytes as a stream; rejects with RunFileNotFound when there is none (see isNotFound). */
  open(bucket: string, key: string): Promise<Readable>;
  /** Streams a file in (see RunFileSink). */
  createWriter(bucket: string, key: string, contentType: string): RunFileSink;
  /** Every file under a prefix, in key order, page by page (`pageSize` files per page). */
  list(bucket: string, prefix: string, pageSize?: number): AsyncIterable<StoredFile>;
  /** Deletes a file; deleting a missing file is not an error (as in S3). */
  delete(bucket: string, key: string): Promise<void>;
}

export class RunFileNotFound extends Error {
  override readonly name = 'RunFileNotFound';
  constructor(readonly location: string) {
    super(`${location} does not exist`);
  }
}

export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** The file does not exist (RunFileNotFound, or S3's own NoSuchKey/NotFound). */
export function isNotFound(error: unknown): boolean {
  if (error instanceof RunFileNotFound) return true;
  const name = awsErrorName(error);
  return name === 'NoSuchKey' || name === 'NotFound';
}

export async function putJson(store: RunStore, bucket: string, key: string, value: unknown): Promise<void> {
  await putText(store, bucket, key, JSON.stringify(value), 'application/json');
}

export async function putText(
  store: RunStore,
  bucket: string,
  key: string,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): Promise<void> {
  await store.put(bucket, key, Buffer.from(body, 'utf8'), contentType);
}

/** The file's body as a Node stream. Throws RunFileNotFound (test with `isNotFound`). */
export function openObject(store: RunStore, bucket: string, key: string): Promise<Readable> {
  return store.open(bucket, key);
}

export async function getText(store: RunStore, bucket: string, key: string): Promise<string> {
  const stream = await store.open(bucket, key);
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString('utf8');
}

export async function getJson<T>(
  store: RunStore,
  bucket: string,
  key: string,
  schema?: z.ZodType<T>,
): Promise<T> {
  const text = await getText(store, bucket, key);
  const value: unknown = JSON.parse(text);
  return schema ? schema.parse(value) : (value as T);
}

/** Every line of a text file, streamed (a trailing newline does not yield an empty line). */
export async function* readLines(store: RunStore, bucket: string, key: string): AsyncGenerator<string> {
  const stream = await store.open(bucket, key);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.length > 0) yield line;
  }
}

export async function* readJsonLines<T>(
  store: RunStore,
  bucket: string,
  key: string,
  schema?: z.ZodType<T>,
): AsyncGenerator<T> {
  for await (const line of readLines(store, bucket, key)) {
    const value: unknown = JSON.parse(line);
    yield schema ? schema.parse(value) : (value as T);
  }
}

/** Every file under a prefix (the store pages through them). */
export function listObjects(
  store: RunStore,
  bucket: string,
  prefix: string,
  pageSize?: number,
): AsyncIterable<StoredFile> {
  return store.list(bucket, prefix, pageSize);
}

/** A text file written as a stream, counting its bytes. Nothing is visible under the key until `close()`. */
export class StreamingTextWriter {
  private readonly sink: RunFileSink;
  bytes = 0;

  constructor(
    store: RunStore,
    readonly bucket: string,
    readonly key: string,
    contentType = 'application/x-ndjson',
  ) {
    this.sink = store.createWriter(bucket, key, contentType);
  }

  async write(chunk: string | Uint8Array): Promise<void> {
    this.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    await this.sink.write(chunk);
  }

  close(): Promise<void> {
    return this.sink.close();
  }

  abort(): Promise<void> {
    return this.sink.abort();
  }
}

/** JSON Lines on top of the streaming writer: one value per line, counted. */
export class JsonLinesWriter {
  private readonly writer: StreamingTextWriter;
  count = 0;

  constructor(store: RunStore, bucket: string, key: string) {
    this.writer = new StreamingTextWriter(store, bucket, key, 'application/x-ndjson');
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
 * Runs `fill` with a fresh writer and closes it; on any error the file is aborted (nothing is
 * written under the key) and the error rethrown.
 */
export async function withJsonLinesWriter<T>(
  store: RunStore,
  bucket: string,
  key: string,
  fill: (writer: JsonLinesWriter) => Promise<T>,
): Promise<{ result: T; count: number; bytes: number }> {
  const writer = new JsonLinesWriter(store, bucket, key);
  try {
    const result = await fill(writer);
    await writer.close();
    return { result, count: writer.count, bytes: writer.bytes };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
