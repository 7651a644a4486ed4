/**
 * A real S3 emulator for the local world: s3rver, in-process, on 127.0.0.1 and a free port, backed by
 * a temporary directory that is removed on close. The workflow's steps and the local runner talk to it
 * with the real `@aws-sdk/client-s3`, exactly as they would to Amazon S3.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { makeObjectWritesAtomic } from './atomic-writes.ts';
import { conditionalWritesMiddleware } from './conditional-writes.ts';
import { listObjectsV2Middleware } from './list-objects-v2.ts';

export interface LocalS3Options {
  /** Buckets created before the server accepts requests. */
  buckets: string[];
  /** Region the client signs for (s3rver accepts any). Default `us-east-1`. */
  region?: string;
}

export interface LocalS3 {
  /** `http://127.0.0.1:<port>`: pass it as `endpoint` with `forcePathStyle: true`. */
  endpoint: string;
  /** A client for this emulator (path-style addressing, static credentials). */
  client: S3Client;
  /** Builds another client for this emulator, e.g. for a different Region. */
  clientFor(region?: string): S3Client;
  close(): Promise<void>;
}

/** s3rver accepts any well-formed signature with these (they are not secrets). */
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export function localS3Client(endpoint: string, region = 'us-east-1'): S3Client {
  return new S3Client({
    endpoint,
    region,
    credentials: LOCAL_CREDENTIALS,
    // s3rver only serves path-style URLs on 127.0.0.1 (virtual hosts need DNS names).
    forcePathStyle: true,
    // SDK v3 (since 3.729) adds CRC32 checksums and aws-chunked trailers by default; s3rver 3.7
    // predates flexible checksums, so only send/validate them where the operation requires it.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
}

export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), 'ecr-backfill-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  // Just before s3rver's router, so the listing body is still an object (XML is encoded later).
  server.middleware.splice(server.middleware.length - 1, 0, listObjectsV2Middleware());
  // Create-only PutObject (If-None-Match: *) answered as S3 does: 412 when the key exists, 409 while
  // another one of the same key is in progress.
  server.middleware.splice(server.middleware.length - 1, 0, conditionalWritesMiddleware(server.store));
  makeObjectWritesAtomic(server.store, `${directory}-writes`);
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const clients: S3Client[] = [];
  const clientFor = (region?: string): S3Client => {
    const client = localS3Client(endpoint, region ?? options.region);
    clients.push(client);
    return client;
  };
  const client = clientFor();
  let closed = false;
  return {
    endpoint,
    client,
    clientFor,
    async close() {
      if (closed) return;
      closed = true;
      for (const c of clients) c.destroy();
      // Keep-alive sockets would hold close() open until they time out.
      server.httpServer?.closeAllConnections();
      await server.close();
      await rm(directory, { recursive: true, force: true });
      await rm(`${directory}-writes`, { recursive: true, force: true });
    },
  };
}
