/**
 * Which IAM actions an S3 request is authorized as, and on which resources, as S3's service
 * authorization reference maps its API operations
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html):
 *
 * - GetObject, HeadObject: `s3:GetObject` on the object;
 * - PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload: `s3:PutObject`;
 * - AbortMultipartUpload: `s3:AbortMultipartUpload`; ListParts: `s3:ListMultipartUploadParts`;
 * - DeleteObject: `s3:DeleteObject`; DeleteObjects: `s3:DeleteObject` on each object it names;
 * - CopyObject: `s3:GetObject` on the source and `s3:PutObject` on the target;
 * - ListObjects(V2), HeadBucket: `s3:ListBucket` on the bucket (with the `s3:prefix` condition key);
 * - ListMultipartUploads: `s3:ListBucketMultipartUploads`; GetBucketLocation: `s3:GetBucketLocation`;
 * - CreateBucket: `s3:CreateBucket`; DeleteBucket: `s3:DeleteBucket`.
 *
 * A request none of these describes is not authorized at all here: the local S3 refuses it by name
 * (NotImplemented), so nothing the workflow calls can slip past IAM unnoticed.
 */

/** The slice of a Koa request this module reads (path-style addressing: `/<bucket>/<key>`). */
export interface S3Request {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
}

export interface S3Authorization {
  /** `s3:GetObject`, … */
  action: string;
  /** `arn:aws:s3:::<bucket>` or `arn:aws:s3:::<bucket>/<key>`. */
  resource: string;
  bucket: string;
  /** Condition keys of the request that belong to this action (e.g. `s3:prefix` of a listing). */
  context: Record<string, string>;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const has = (request: S3Request, name: string): boolean => name in request.query;

export const bucketArn = (bucket: string): string => `arn:aws:s3:::${bucket}`;
export const objectArn = (bucket: string, key: string): string => `arn:aws:s3:::${bucket}/${key}`;

/** The keys a DeleteObjects body names (`<Object><Key>…</Key></Object>`), XML entities decoded. */
export function keysOfDeleteObjects(body: string): string[] {
  const decode = (text: string) =>
    text
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&');
  return [...body.matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((match) => decode(match[1] ?? ''));
}

/**
 * The authorizations a request needs, all of which must be allowed; undefined for a request this
 * module does not know. `deleteKeys` are the keys of a DeleteObjects body (read by the caller).
 */
export function authorizationsOf(
  request: S3Request,
  deleteKeys?: readonly string[],
): S3Authorization[] | undefined {
  const [, rawBucket = '', ...rest] = request.path.split('/');
  const bucket = decodeURIComponent(rawBucket);
  const key = decodeURIComponent(rest.join('/'));
  if (bucket === '') return undefined; // ListBuckets: the local world never calls it
  const onBucket = (action: string, context: Record<string, string> = {}): S3Authorization[] => [
    { action, resource: bucketArn(bucket), bucket, context },
  ];
  const onObject = (action: string, objectKey = key): S3Authorization => ({
    action,
    resource: objectArn(bucket, objectKey),
    bucket,
    context: {},
  });
  const method = request.method.toUpperCase();
  if (key === '') {
    if (method === 'GET' && has(request, 'uploads')) return onBucket('s3:ListBucketMultipartUploads');
    if (method === 'GET' && has(request, 'location')) return onBucket('s3:GetBucketLocation');
    if ((method === 'GET' || method === 'HEAD') && !subresourceOf(request)) {
      const prefix = single(request.query.prefix);
      return onBucket('s3:ListBucket', { 's3:prefix': prefix ?? '' });
    }
    if (method === 'POST' && has(request, 'delete')) {
      return (deleteKeys ?? []).map((deleted) => onObject('s3:DeleteObject', deleted));
    }
    if (method === 'PUT' && !subresourceOf(request)) return onBucket('s3:CreateBucket');
    if (method === 'DELETE' && !subresourceOf(request)) return onBucket('s3:DeleteBucket');
    return undefined;
  }
  if (method === 'GET' && has(request, 'uploadId')) return [onObject('s3:ListMultipartUploadParts')];
  if ((method === 'GET' || method === 'HEAD') && !subresourceOf(request)) return [onObject('s3:GetObject')];
  if (method === 'DELETE' && has(request, 'uploadId')) return [onObject('s3:AbortMultipartUpload')];
  if (method === 'DELETE' && !subresourceOf(request)) return [onObject('s3:DeleteObject')];
  if (method === 'POST' && (has(request, 'uploads') || has(request, 'uploadId')))
    return [onObject('s3:PutObject')];
  if (method === 'PUT' && (has(request, 'partNumber') || !subresourceOf(request))) {
    const source = single(request.headers['x-amz-copy-source']);
    if (source === undefined) return [onObject('s3:PutObject')];
    const [sourceBucket = '', ...sourceKey] = decodeURIComponent(source.split('?')[0] ?? '')
      .replace(/^\//, '')
      .split('/');
    return [
      {
        action: 's3:GetObject',
        resource: objectArn(sourceBucket, sourceKey.join('/')),
        bucket: sourceBucket,
        context: {},
      },
      onObject('s3:PutObject'),
    ];
  }
  return undefined;
}

/** The query parameters that select a subresource of a bucket or object (acl, tagging, …) rather than the thing itself. */
const PLAIN_QUERY = new Set([
  'prefix',
  'delimiter',
  'max-keys',
  'marker',
  'list-type',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'x-id',
  'partNumber',
  'versionId',
  'response-content-type',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-cache-control',
  'response-expires',
]);

function subresourceOf(request: S3Request): string | undefined {
  return Object.keys(request.query).find((name) => !PLAIN_QUERY.has(name) && !name.startsWith('X-Amz-'));
}
