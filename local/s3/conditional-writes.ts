/**
 * Conditional writes for s3rver, as Amazon S3 answers them. s3rver 3.7 ignores `If-None-Match`, so
 * a create-only PutObject (the run claim, core/run-files/s3-run-store.ts `create`) would silently
 * overwrite, and the race path of the claim could never be exercised locally.
 *
 * PutObject with `If-None-Match: *` "uploads the object only if the object key name does not already
 * exist in the bucket specified. Otherwise, Amazon S3 returns a 412 Precondition Failed error. If a
 * conflicting operation occurs during the upload S3 returns a 409 ConditionalRequestConflict
 * response. On a 409 failure you should retry the upload."
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 *
 * Modelled harshly, as AWS allows: a conditional PutObject that arrives while another conditional
 * PutObject of the same key is in progress gets 409; one whose key exists gets 412. Any other value
 * than `*` is refused (S3's If-None-Match on writes takes only `*`). If-Match is not modelled.
 */

/** The slice of a Koa context this middleware touches. */
interface WriteContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
}

type Next = () => Promise<void>;

/** The part of s3rver's FilesystemStore this middleware reads. */
export interface ExistenceStore {
  existsObject(bucket: string, key: string): Promise<boolean>;
}

function errorXml(code: string, message: string, resource: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${message}</Message><Condition>If-None-Match</Condition>` +
    `<Resource>${resource.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</Resource></Error>`
  );
}

export function conditionalWritesMiddleware(store: ExistenceStore) {
  const inProgress = new Set<string>();
  return async (ctx: WriteContext, next: Next): Promise<void> => {
    const condition = ctx.headers['if-none-match'];
    // PutObject only: a path-style `/bucket/key`, not a part upload or a copy.
    const [, bucket, ...rest] = ctx.path.split('/');
    const key = decodeURIComponent(rest.join('/'));
    if (ctx.method !== 'PUT' || condition === undefined || !bucket || !key || 'partNumber' in ctx.query) {
      return next();
    }
    const fail = (status: number, code: string, message: string) => {
      ctx.status = status;
      ctx.type = 'application/xml';
      ctx.body = errorXml(code, message, ctx.path);
    };
    if (condition !== '*') {
      return fail(
        501,
        'NotImplemented',
        'A header you provided implies functionality that is not implemented',
      );
    }
    const name = `${bucket}/${key}`;
    if (inProgress.has(name)) {
      return fail(
        409,
        'ConditionalRequestConflict',
        'A conflicting conditional operation is currently in progress against this resource. Please try again.',
      );
    }
    inProgress.add(name);
    try {
      if (await store.existsObject(bucket, key)) {
        return fail(
          412,
          'PreconditionFailed',
          'At least one of the pre-conditions you specified did not hold',
        );
      }
      await next();
    } finally {
      inProgress.delete(name);
    }
  };
}
