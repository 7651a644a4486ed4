/**
 * The local S3 evaluates IAM as S3 does (local/s3/iam.ts): the caller's identity policies (the
 * template's roles, by their access keys), the template's bucket policy, and the request's context.
 * The construct's run bucket enforces SSL (a Deny on `aws:SecureTransport` false), so the local S3
 * serves HTTPS with a certificate its clients trust, and the same call over plain HTTP is denied with
 * S3's AccessDenied (403) naming the principal, the action and the resource.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html#transit
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SOURCE_ACCOUNT, DEMO_SOURCE_REGION } from '../../local/demo-registry.ts';
import { principalsFromTemplate, type TemplatePrincipal } from '../../local/iam/template-principals.ts';
import { registerWithLocalS3 } from '../../local/runner/iam.ts';
import { bucketsFromTemplate } from '../../local/runner/template.ts';
import { startLocalS3, type LocalS3 } from '../../local/s3/index.ts';
import { TokenResolver } from '../../local/synth/template-tokens.ts';
import { backfillTemplate } from './helpers.ts';

const KEY = 'runs/run-1/plan.json';

describe('the local S3 evaluates IAM: identity policies, the bucket policy and its TLS condition', () => {
  let s3: LocalS3;
  let bucket: string;
  let roles: Map<string, TemplatePrincipal>;
  const clients: S3Client[] = [];

  /** The role of a step's function (by the step's name in its logical id). */
  const roleOf = (step: string): TemplatePrincipal => {
    const principal = [...roles.values()].find((p) =>
      p.roleLogicalId.startsWith(`BackfillFunctions${step}Role`),
    );
    if (!principal) throw new Error(`no role for ${step}`);
    return principal;
  };
  const clientAs = (principal: TemplatePrincipal, endpoint?: string): S3Client => {
    const credentials = { accessKeyId: principal.accessKeyId, secretAccessKey: 'local-s3-secret-key' };
    const client = endpoint
      ? new S3Client({
          endpoint,
          region: DEMO_SOURCE_REGION,
          credentials,
          forcePathStyle: true,
          maxAttempts: 1,
        })
      : s3.clientFor(DEMO_SOURCE_REGION, credentials);
    clients.push(client);
    return client;
  };
  const failureOf = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      const e = error as Error & { $metadata?: { httpStatusCode?: number } };
      return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
    }
    throw new Error('the call was allowed');
  };

  beforeAll(async () => {
    const template = backfillTemplate();
    const resolver = new TokenResolver(template, {
      region: DEMO_SOURCE_REGION,
      account: DEMO_SOURCE_ACCOUNT,
    });
    bucket = Object.values(bucketsFromTemplate(template, resolver))[0] ?? '';
    s3 = await startLocalS3({ buckets: [bucket], region: DEMO_SOURCE_REGION, account: DEMO_SOURCE_ACCOUNT });
    roles = principalsFromTemplate(template, resolver, DEMO_SOURCE_ACCOUNT);
    registerWithLocalS3(s3, template, resolver, DEMO_SOURCE_ACCOUNT, [...roles.values()]);
    await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: '{"plan":1}' }));
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await s3.close();
  });

  it('serves a role its grant over HTTPS, and denies the same call over plain HTTP by the bucket policy', async () => {
    // Prepare
    const summarize = roleOf('Summarize');

    // Act
    const overTls = await clientAs(summarize).send(new GetObjectCommand({ Bucket: bucket, Key: KEY }));
    const body = await overTls.Body?.transformToString();
    const plain = await failureOf(
      clientAs(summarize, s3.insecureEndpoint).send(new GetObjectCommand({ Bucket: bucket, Key: KEY })),
    );

    // Assess
    expect(s3.endpoint).toMatch(/^https:\/\//);
    expect(body).toBe('{"plan":1}');
    expect(plain.status).toBe(403);
    expect(plain.name).toBe('AccessDenied');
    expect(plain.message).toBe(
      `User: ${summarize.arn} is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::${bucket}/${KEY} with an explicit deny in a resource-based policy`,
    );
  });

  it('denies an action no identity policy of the role allows, naming the role, the action and the object', async () => {
    // Prepare: CheckReplication writes its batch's progress record only.
    const checkReplication = roleOf('CheckReplication');
    const client = clientAs(checkReplication);

    // Act
    const read = await failureOf(client.send(new GetObjectCommand({ Bucket: bucket, Key: KEY })));
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'runs/run-1/progress/batch-1.json', Body: '{}' }),
    );

    // Assess
    expect(read.status).toBe(403);
    expect(read.name).toBe('AccessDenied');
    expect(read.message).toBe(
      `User: ${checkReplication.arn} is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::${bucket}/${KEY} because no identity-based policy allows the s3:GetObject action`,
    );
    const decisions = s3.iam.decisions.entries().filter((d) => d.principal === checkReplication.arn);
    expect(decisions.map((d) => [d.action, d.allowed])).toEqual(
      expect.arrayContaining([
        ['s3:GetObject', false],
        ['s3:PutObject', true],
      ]),
    );
  });

  it("holds a listing to the grant's s3:prefix condition", async () => {
    // Prepare: NativeStopBackfill, the one step that lists run data (ListBucket with s3:prefix runs/*).
    const client = clientAs(roleOf('NativeStopBackfill'));

    // Act
    const underRuns = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'runs/run-1/' }));
    const elsewhere = await failureOf(
      client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'other/' })),
    );

    // Assess
    expect(underRuns.Contents?.map((c) => c.Key)).toContain(KEY);
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.message).toContain(`s3:ListBucket on resource: arn:aws:s3:::${bucket} because`);
  });

  it("denies the harness's own (root) credentials over plain HTTP too: the bucket policy binds every principal", async () => {
    // Act
    const plain = new S3Client({
      endpoint: s3.insecureEndpoint,
      region: DEMO_SOURCE_REGION,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      forcePathStyle: true,
      maxAttempts: 1,
    });
    clients.push(plain);
    const failure = await failureOf(plain.send(new GetObjectCommand({ Bucket: bucket, Key: KEY })));

    // Assess
    expect(failure.status).toBe(403);
    expect(failure.message).toBe(
      `User: arn:aws:iam::${DEMO_SOURCE_ACCOUNT}:root is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::${bucket}/${KEY} with an explicit deny in a resource-based policy`,
    );
  });
});
