/**
 * ListObjectsV2 paging for s3rver 3.7 on current Node.
 *
 * s3rver encrypts its V2 continuation tokens with DES, which OpenSSL 3 (Node ≥ 17) no longer
 * provides: any truncated V2 listing, and any request carrying a continuation token, fails with
 * `InternalError`. This Koa middleware serves V2 listings through s3rver's own V1 listing (`marker`)
 * and issues its own opaque token instead, so paging behaves as S3 documents it:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
 * (s3rver does not verify SigV4 signatures, so rewriting the query string is safe.)
 */

/** The slice of a Koa context this middleware touches. */
interface ListContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  body: unknown;
}

type Next = () => Promise<void>;

interface V1Object {
  Key: string;
  Owner?: unknown;
  [field: string]: unknown;
}

interface V1Result {
  '@'?: unknown;
  Name: string;
  Prefix: string;
  Marker?: string;
  NextMarker?: string;
  MaxKeys: unknown;
  Delimiter?: string;
  IsTruncated: boolean;
  Contents: V1Object[];
  CommonPrefixes: { Prefix: string }[];
}

const TOKEN_PREFIX = 'ecr-backfill-local:';

export function encodeContinuationToken(lastKey: string): string {
  return Buffer.from(TOKEN_PREFIX + lastKey, 'utf8').toString('base64url');
}

export function decodeContinuationToken(token: string): string | undefined {
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  return decoded.startsWith(TOKEN_PREFIX) ? decoded.slice(TOKEN_PREFIX.length) : undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** True for `GET /<bucket>?list-type=2` (path-style; bucket-level, no key). */
function isListV2(ctx: ListContext): boolean {
  return ctx.method === 'GET' && single(ctx.query['list-type']) === '2' && /^\/[^/]+\/?$/.test(ctx.path);
}

export function listObjectsV2Middleware() {
  return async function listObjectsV2(ctx: ListContext, next: Next): Promise<void> {
    if (!isListV2(ctx)) return next();
    const original = { ...ctx.query };
    const token = single(original['continuation-token']);
    const startAfter = single(original['start-after']);
    let marker = startAfter;
    if (token !== undefined) {
      marker = decodeContinuationToken(token);
      if (marker === undefined) {
        ctx.body = undefined;
        throw Object.assign(new Error('The continuation token provided is incorrect'), {
          status: 400,
          expose: true,
        });
      }
    }
    const v1Query: Record<string, string> = {};
    for (const name of ['prefix', 'delimiter', 'max-keys', 'encoding-type']) {
      const value = single(original[name]);
      if (value !== undefined) v1Query[name] = value;
    }
    if (marker !== undefined) v1Query.marker = marker;
    ctx.query = v1Query;
    await next();
    const body = ctx.body as { ListBucketResult?: V1Result } | undefined;
    const result = body?.ListBucketResult;
    if (!result) return;
    const lastKey = [
      ...result.Contents.map((object) => object.Key),
      ...result.CommonPrefixes.map((prefix) => prefix.Prefix),
    ].sort()[result.Contents.length + result.CommonPrefixes.length - 1];
    const fetchOwner = single(original['fetch-owner']) === 'true';
    ctx.body = {
      ListBucketResult: {
        '@': result['@'],
        Name: result.Name,
        Prefix: result.Prefix,
        StartAfter: token === undefined ? startAfter : undefined,
        ContinuationToken: token,
        NextContinuationToken:
          result.IsTruncated && lastKey !== undefined ? encodeContinuationToken(lastKey) : undefined,
        KeyCount: result.Contents.length + result.CommonPrefixes.length,
        MaxKeys: result.MaxKeys,
        Delimiter: result.Delimiter,
        IsTruncated: result.IsTruncated,
        Contents: result.Contents.map(({ Owner, ...object }) => (fetchOwner ? { ...object, Owner } : object)),
        CommonPrefixes: result.CommonPrefixes,
      },
    };
  };
}
