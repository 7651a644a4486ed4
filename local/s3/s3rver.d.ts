/** The part of s3rver 3.7's API the local S3 wrapper uses (the package ships no types). */
declare module 's3rver' {
  import type { Server } from 'node:http';
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
    /** With both, s3rver serves HTTPS (node:https createServer options). */
    key?: Buffer | string;
    cert?: Buffer | string;
  }

  export default class S3rver {
    constructor(options?: S3rverOptions);
    httpServer?: Server;
    /** The filesystem store (see atomic-writes.ts for the part of it the wrapper patches). */
    store: import('./atomic-writes.ts').S3rverStore & import('./conditional-writes.ts').ExistenceStore;
    /** Koa's middleware list (composed when the server starts listening). */
    middleware: unknown[];
    run(): Promise<AddressInfo>;
    /** Koa's request handler, for another listener of the same application. */
    callback(): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
    close(): Promise<void>;
  }
}

/** s3rver's filesystem store, constructed directly by the atomic-writes test. */
declare module 's3rver/lib/stores/filesystem.js' {
  import type { S3rverStore } from './atomic-writes.ts';

  export default class FilesystemStore implements S3rverStore {
    constructor(rootDirectory: string);
    getResourcePath(bucket: string, key: string, resource: string): string;
    putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
    putObject(object: import('./atomic-writes.ts').S3rverObject): Promise<{ size: number; md5: string }>;
    putBucket(name: string): Promise<void>;
  }
}
