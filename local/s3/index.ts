/**
 * A real S3 emulator for the local world: s3rver, in-process, on 127.0.0.1 and a free port, backed by
 * a temporary directory that is removed on close. The workflow's steps and the local runner talk to it
 * with the real `@aws-sdk/client-s3`, exactly as they would to Amazon S3.
 *
 * It serves HTTPS, as S3 does, with a test certificate checked in under ./tls (for 127.0.0.1 and
 * localhost only; its key protects nothing): the clients it builds trust that certificate and no
 * other, through their own HTTPS agent, so TLS verification stays on everywhere. Every request is
 * authorized with IAM first (iam.ts), and the run bucket's policy denies a request made without TLS
 * (`aws:SecureTransport`), so a second, plain-HTTP listener (`insecureEndpoint`) exists to show that
 * denial.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { Agent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { makeObjectWritesAtomic } from './atomic-writes.ts';
import { conditionalWritesMiddleware } from './conditional-writes.ts';
import { iamMiddleware, LocalS3Iam } from './iam.ts';
import { listObjectsV2Middleware } from './list-objects-v2.ts';

export interface LocalS3Options {
  /** Buckets created before the server accepts requests. */
  buckets: string[];
  /** Region the client signs for (s3rver accepts any). Default `us-east-1`. */
  region?: string;
  /** The account the harness's own credentials act as (its root user). Default LOCAL_S3_DEFAULT_ACCOUNT. */
  account?: string;
}

export interface LocalS3 {
  /** `https://127.0.0.1:<port>`: pass it as `endpoint` with `forcePathStyle: true`, trusting LOCAL_S3_CERTIFICATE. */
  endpoint: string;
  /** `http://127.0.0.1:<port>`, the same S3 without TLS: what the bucket policy's TLS condition denies. */
  insecureEndpoint: string;
  /** A client for this emulator (path-style addressing, the harness's credentials: its account's root user). */
  client: S3Client;
  /** Builds another client for this emulator, e.g. for a different Region, or signed as a registered principal. */
  clientFor(region?: string, credentials?: S3Credentials): S3Client;
  /** Principals, bucket policies and the decisions made (iam.ts). */
  iam: LocalS3Iam;
  close(): Promise<void>;
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The harness's own key: not a registered principal, so it acts as the account's root user (iam.ts). */
const LOCAL_CREDENTIALS: S3Credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * The harness's key for an account's root user (iam.ts: an unregistered key ending in an account
 * acts as that account's root), to act as the owner of a bucket in another account than the
 * emulator's default, e.g. a runner's run bucket in a world shared by several accounts.
 */
export function rootCredentials(account: string): S3Credentials {
  return {
    accessKeyId: `${LOCAL_CREDENTIALS.accessKeyId}${account}`,
    secretAccessKey: LOCAL_CREDENTIALS.secretAccessKey,
  };
}

const TLS_DIRECTORY = new URL('./tls/', import.meta.url);
/** The local S3's certificate (self-signed, for 127.0.0.1 and localhost): what its clients trust. */
export const LOCAL_S3_CERTIFICATE = readFileSync(new URL('cert.pem', TLS_DIRECTORY));
const LOCAL_S3_KEY = readFileSync(new URL('key.pem', TLS_DIRECTORY));

export function localS3Client(
  endpoint: string,
  region = 'us-east-1',
  credentials: S3Credentials = LOCAL_CREDENTIALS,
): S3Client {
  return new S3Client({
    endpoint,
    region,
    credentials,
    // Trust the local S3's own certificate, in this client only (verification stays on).
    requestHandler: { httpsAgent: new Agent({ ca: LOCAL_S3_CERTIFICATE, keepAlive: true }) },
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
    key: LOCAL_S3_KEY,
    cert: LOCAL_S3_CERTIFICATE,
  });
  const iam = new LocalS3Iam(options.account);
  // IAM first, before any other middleware acts on the request (s3rver's router is the last one).
  server.middleware.splice(server.middleware.length - 1, 0, iamMiddleware(iam));
  // Just before s3rver's router, so the listing body is still an object (XML is encoded later).
  server.middleware.splice(server.middleware.length - 1, 0, listObjectsV2Middleware());
  // Create-only PutObject (If-None-Match: *) answered as S3 does: 412 when the key exists, 409 while
  // another one of the same key is in progress.
  server.middleware.splice(server.middleware.length - 1, 0, conditionalWritesMiddleware(server.store));
  makeObjectWritesAtomic(server.store, `${directory}-writes`);
  const address = await server.run();
  const endpoint = `https://127.0.0.1:${address.port}`;
  // The same application without TLS (aws:SecureTransport false), on a port of its own.
  const plain: Server = createServer(server.callback());
  await new Promise<void>((resolve, reject) => plain.listen(0, '127.0.0.1', resolve).once('error', reject));
  const insecureEndpoint = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  const clients: S3Client[] = [];
  const clientFor = (region?: string, credentials?: S3Credentials): S3Client => {
    const client = localS3Client(endpoint, region ?? options.region, credentials);
    clients.push(client);
    return client;
  };
  const client = clientFor();
  let closed = false;
  return {
    endpoint,
    insecureEndpoint,
    client,
    clientFor,
    iam,
    async close() {
      if (closed) return;
      closed = true;
      for (const c of clients) c.destroy();
      plain.closeAllConnections();
      await new Promise<void>((resolve) => plain.close(() => resolve()));
      // Keep-alive sockets would hold close() open until they time out.
      server.httpServer?.closeAllConnections();
      await server.close();
      await rm(directory, { recursive: true, force: true });
      await rm(`${directory}-writes`, { recursive: true, force: true });
    },
  };
}
