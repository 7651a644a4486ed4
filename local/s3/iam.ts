/**
 * IAM for the local S3: every request is authorized before s3rver acts on it, as S3 does, with the
 * local world's IAM evaluator (local/iam/evaluate.ts, AWS's policy evaluation logic:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
 *
 * - the caller's identity-based policies (a role of the synthesized template, registered with its
 *   access key; an unregistered key is its account's root user: the harness, acting as the owner);
 * - the bucket policy (the template's `AWS::S3::BucketPolicy`), a resource-based policy, so an
 *   explicit Deny there wins over any Allow;
 * - the request's context: `aws:SecureTransport` (true only over HTTPS, which is why the local S3
 *   serves HTTPS: the construct's bucket denies every request made without it, `enforceSSL`,
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html#transit),
 *   `s3:TlsVersion`, and `s3:prefix` for a listing.
 *
 * A denial is S3's `AccessDenied` (HTTP 403, https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html),
 * its message naming the principal, the action and the resource, as S3's access denied messages do
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html).
 * Decisions are remembered by the evaluator (one simulation costs milliseconds; a run repeats its
 * requests), and each is logged for the least-privilege test.
 */
import type { TLSSocket } from 'node:tls';
import { Readable } from 'node:stream';
import { authorize, rootPrincipal, type PolicyDocument, type Principal } from '../iam/evaluate.ts';
import { authorizationsOf, keysOfDeleteObjects, type S3Request } from './s3-actions.ts';
import { AggregatedDecisionLog } from '../iam/decision-log.ts';

/** The account the harness's own key (not a registered principal) acts as, unless told otherwise. */
export const LOCAL_S3_DEFAULT_ACCOUNT = '111111111111';

export interface S3Decision {
  /** The caller as AWS names it. */
  principal: string;
  roleArn?: string;
  action: string;
  /** The first resource of its folder it was decided on. */
  resource: string;
  allowed: boolean;
}

export interface S3DecisionEntry extends S3Decision {
  count: number;
}

/**
 * The decisions, aggregated per principal, action, outcome and folder (an object's key without its
 * last segment), so a long run keeps a bounded log while each grant's resource pattern can still be
 * matched against a logged resource.
 */
export class S3DecisionLog extends AggregatedDecisionLog<S3Decision> {
  constructor() {
    super((decision) => {
      const folder = decision.resource.replace(/\/[^/]*$/, '/');
      return `${decision.principal} ${decision.action} ${folder} ${decision.allowed}`;
    });
  }
}

/** A principal the local S3 knows by its access key. */
export interface S3PrincipalRegistration extends Principal {
  readonly accessKeyId: string;
}

/** What decides: who is who, each bucket's owner and policy, and the log of decisions. */
export class LocalS3Iam {
  readonly decisions = new S3DecisionLog();
  private readonly principals = new Map<string, Principal>();
  private readonly buckets = new Map<string, { account: string; policy?: PolicyDocument }>();

  constructor(private readonly defaultAccount: string = LOCAL_S3_DEFAULT_ACCOUNT) {}

  registerPrincipals(principals: readonly S3PrincipalRegistration[]): void {
    for (const { accessKeyId, ...principal } of principals) this.principals.set(accessKeyId, principal);
  }

  /** The bucket's owner account and its bucket policy (none: identity policies alone decide). */
  setBucket(bucket: string, owner: { account: string; policy?: PolicyDocument }): void {
    this.buckets.set(bucket, owner);
  }

  /** The principal of an access key: registered, else the root user of the account it ends in, else of the default account. */
  principalOf(accessKeyId: string | undefined): Principal {
    const registered = accessKeyId === undefined ? undefined : this.principals.get(accessKeyId);
    if (registered) return registered;
    const account = /(\d{12})$/.exec(accessKeyId ?? '')?.[1] ?? this.defaultAccount;
    return rootPrincipal(account);
  }

  /** The first denial among the request's authorizations, or undefined when every one is allowed. */
  async denial(
    principal: Principal,
    authorizations: ReturnType<typeof authorizationsOf> & object,
    transport: { secure: boolean; tlsVersion?: string },
  ): Promise<string | undefined> {
    for (const { action, resource, bucket, context } of authorizations) {
      const owner = this.buckets.get(bucket) ?? { account: this.defaultAccount };
      const decision = await authorize({
        principal,
        action,
        resource,
        resourceAccount: owner.account,
        ...(owner.policy ? { resourcePolicy: owner.policy } : {}),
        context: {
          ...context,
          'aws:SecureTransport': String(transport.secure),
          ...(transport.tlsVersion ? { 's3:TlsVersion': transport.tlsVersion } : {}),
        },
      });
      this.decisions.record({
        principal: principal.arn,
        ...(principal.roleArn !== undefined ? { roleArn: principal.roleArn } : {}),
        action,
        resource,
        allowed: decision.allowed,
      });
      if (!decision.allowed) return decision.message;
    }
    return undefined;
  }
}

/** The slice of a Koa context the middleware touches. */
interface IamContext extends S3Request {
  req: Readable & { socket?: { encrypted?: boolean } };
  request: { req: { socket: Partial<TLSSocket> } };
  status: number;
  type: string;
  body: unknown;
}

type Next = () => Promise<void>;

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function errorXml(code: string, message: string, resource: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>` +
    `<Resource>${xmlEscape(resource)}</Resource></Error>`
  );
}

/** The access key id of a SigV4 request (header or pre-signed query). */
export function accessKeyIdOf(request: S3Request): string | undefined {
  const header = request.headers.authorization;
  const authorization = Array.isArray(header) ? header[0] : header;
  const fromHeader = /Credential=([^/,\s]+)\//.exec(authorization ?? '')?.[1];
  if (fromHeader) return fromHeader;
  const credential = request.query['X-Amz-Credential'];
  const text = Array.isArray(credential) ? credential[0] : credential;
  return text?.split('/')[0];
}

async function readBody(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

export function iamMiddleware(iam: LocalS3Iam) {
  return async (ctx: IamContext, next: Next): Promise<void> => {
    let deleteKeys: string[] | undefined;
    if (ctx.method === 'POST' && 'delete' in ctx.query) {
      // DeleteObjects is authorized per key: read its body, then hand s3rver the same bytes.
      const body = await readBody(ctx.req);
      deleteKeys = keysOfDeleteObjects(body.toString('utf8'));
      ctx.req = Object.assign(Readable.from([body]), { socket: ctx.req.socket });
    }
    const authorizations = authorizationsOf(ctx, deleteKeys);
    const fail = (status: number, code: string, message: string) => {
      ctx.status = status;
      ctx.type = 'application/xml';
      ctx.body = errorXml(code, message, ctx.path);
    };
    if (!authorizations) {
      return fail(
        501,
        'NotImplemented',
        `The local S3 does not know which IAM action authorizes ${ctx.method} ${ctx.path}?${Object.keys(ctx.query).join('&')}, so it refuses it`,
      );
    }
    const socket: Partial<TLSSocket> = ctx.request.req.socket;
    const secure = socket.encrypted === true;
    const protocol = secure ? socket.getProtocol?.() : undefined;
    const tlsVersion = protocol ? /^TLSv(\d(?:\.\d)?)$/.exec(protocol)?.[1] : undefined;
    const message = await iam.denial(iam.principalOf(accessKeyIdOf(ctx)), authorizations, {
      secure,
      ...(tlsVersion ? { tlsVersion: tlsVersion.includes('.') ? tlsVersion : `${tlsVersion}.0` } : {}),
    });
    if (message !== undefined) return fail(403, 'AccessDenied', message);
    // IAM has decided; s3rver knows one access key of its own (and verifies no SigV4 signature).
    const authorization = ctx.headers.authorization;
    if (typeof authorization === 'string')
      ctx.headers.authorization = authorization.replace(/Credential=[^/,\s]+\//, 'Credential=S3RVER/');
    if (typeof ctx.query['X-Amz-Credential'] === 'string')
      ctx.query['X-Amz-Credential'] = ctx.query['X-Amz-Credential'].replace(/^[^/]+\//, 'S3RVER/');
    return next();
  };
}
