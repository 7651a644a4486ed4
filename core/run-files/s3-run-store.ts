/**
 * The run store of a deployed workflow: the run bucket in S3. Listings page through ListObjectsV2
 * (at most 1,000 keys per page); streamed files are one PutObject while they stay under 5 MiB and a
 * multipart upload otherwise (lib-storage), so memory stays bounded by one part. S3 is strongly
 * read-after-write consistent, which the steps rely on when a rerun reads what an attempt wrote.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html (5 MiB minimum part size)
 */
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { awsErrorName, toStepError, TransientError } from '../errors/errors.ts';
import {
  isNotFound,
  RunFileNotFound,
  s3Url,
  type RunFileSink,
  type RunStore,
  type StoredFile,
} from './run-store.ts';

const noop = (): void => undefined;

/** A create-only write that meets 409 ConditionalRequestConflict is retried this many times in all. */
const CONFLICT_ATTEMPTS = 8;
/** Exponential from 50 ms, at most 1 s a wait (about 3.5 s in all): a small PutObject takes tens of ms. */
const CONFLICT_BACKOFF_MS = 50;
const CONFLICT_BACKOFF_MAX_MS = 1000;

/** S3's minimum multipart part size; also the most one open writer buffers per in-flight part. */
const PART_SIZE_BYTES = 5 * 1024 * 1024;
const MAX_KEYS_PER_PAGE = 1000;

export class S3RunStore implements RunStore {
  constructor(readonly client: S3Client) {}

  async put(bucket: string, key: string, body: Uint8Array, contentType: string): Promise<void> {
    try {
      // Bytes, not a string: the SDK mistakes an empty string for a stream of unknown length.
      await this.client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }),
      );
    } catch (error) {
      throw toStepError(error, `S3 PutObject ${s3Url(bucket, key)}`);
    }
  }

  async create(bucket: string, key: string, body: Uint8Array, contentType: string): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        // If-None-Match: * makes S3 create the object only if the key is free, and answer 412
        // PreconditionFailed otherwise; a conflicting operation in progress on the key gets 409
        // ConditionalRequestConflict, "on a 409 failure you should retry the upload":
        // https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
        // https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
        await this.client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: contentType,
            IfNoneMatch: '*',
          }),
        );
        return true;
      } catch (error) {
        const name = awsErrorName(error);
        if (name === 'PreconditionFailed') return false;
        if (name !== 'ConditionalRequestConflict')
          throw toStepError(error, `S3 PutObject ${s3Url(bucket, key)}`);
        if (attempt >= CONFLICT_ATTEMPTS) {
          throw new TransientError(
            `S3 PutObject ${s3Url(bucket, key)}: ${CONFLICT_ATTEMPTS} attempts met ConditionalRequestConflict (another conditional write of the key in progress)`,
          );
        }
        // Exponential and jittered, so racing writers do not collide again in step.
        const wait = Math.min(CONFLICT_BACKOFF_MAX_MS, CONFLICT_BACKOFF_MS * 2 ** (attempt - 1));
        await new Promise((resolve) => setTimeout(resolve, wait * (0.5 + Math.random() / 2)));
      }
    }
  }

  async open(bucket: string, key: string): Promise<Readable> {
    let body: unknown;
    try {
      body = (await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body;
    } catch (error) {
      if (isNotFound(error)) throw new RunFileNotFound(s3Url(bucket, key));
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

  createWriter(bucket: string, key: string, contentType: string): RunFileSink {
    return new S3StreamingUpload(this, bucket, key, contentType);
  }

  async *list(bucket: string, prefix: string, pageSize = MAX_KEYS_PER_PAGE): AsyncGenerator<StoredFile> {
    try {
      const pages = paginateListObjectsV2(
        { client: this.client, pageSize },
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

  async delete(bucket: string, key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      throw toStepError(error, `S3 DeleteObject ${s3Url(bucket, key)}`);
    }
  }
}

/** A file streamed to S3; the upload starts with the first byte, an empty file is a PutObject at close. */
class S3StreamingUpload implements RunFileSink {
  private upload: { body: PassThrough; upload: Upload; done: Promise<unknown> } | undefined;
  private failure: unknown;
  private closed = false;

  constructor(
    private readonly store: S3RunStore,
    private readonly bucket: string,
    private readonly key: string,
    private readonly contentType: string,
  ) {}

  private started() {
    if (this.upload) return this.upload;
    const body = new PassThrough();
    const upload = new Upload({
      client: this.store.client,
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
      await this.store.put(this.bucket, this.key, new Uint8Array(0), this.contentType);
      return;
    }
    this.upload.body.end();
    try {
      await this.upload.done;
    } catch (error) {
      throw toStepError(error, `S3 upload ${s3Url(this.bucket, this.key)}`);
    }
  }

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
