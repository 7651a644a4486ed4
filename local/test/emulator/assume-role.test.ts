/**
 * AssumeRole in the local world (ecr-emulator/iam/roles.ts): the caller's identity policy must allow
 * sts:AssumeRole on the role and the role's trust policy must allow the caller (both sides across
 * accounts); the session acts with the role's policies ∩ the session policy, named
 * `assumed-role/<role>/<session>` in a denial.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
 */
import { DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { afterEach, describe, expect, it } from 'vitest';
import { buildDockerImage, roleTrustingAccount, STS_ASSUME_ROLE_PATH } from '../../ecr-emulator/index.ts';
import { IAM_PRINCIPALS_PATH } from '../../ecr-emulator/iam/principals.ts';
import { accessKeyIdForRole } from '../../iam/template-principals.ts';
import { errorOf, FAST, startHarness, type Harness } from './helpers.ts';

const REGION = 'us-west-2';
const ACCOUNT = '111111111111';
const OTHER = '222222222222';
const CALLER_ROLE = `arn:aws:iam::${ACCOUNT}:role/PlanSliceRole`;
const CALLER_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/PlanSliceRole/PlanSliceRole-session`;
const WRITER = `arn:aws:iam::${OTHER}:role/Writer`;
const WRITER_SESSION = `arn:aws:sts::${OTHER}:assumed-role/Writer/ecr-backfill`;

const allow = (action: string[], resource: string) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: action, Resource: resource }],
});
const ALL_ECR = allow(['ecr:*'], `arn:aws:ecr:*:${OTHER}:repository/*`);
const READ_IMAGES_ONLY = allow(['ecr:DescribeImages'], `arn:aws:ecr:*:${OTHER}:repository/*`);

describe('AssumeRole in the local world', () => {
  let h: Harness;
  const clients: ECRClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await h.close();
  });

  /** A world with the Writer role in OTHER (trusting `trusted`), and the caller role registered in ACCOUNT. */
  const start = async (options: { trusted?: string; callerMayAssume?: boolean } = {}) => {
    h = await startHarness(FAST);
    h.emulator.seed({
      accounts: [
        {
          id: OTHER,
          roles: [roleTrustingAccount('Writer', options.trusted ?? ACCOUNT, { Ecr: ALL_ECR })],
          regions: [{ region: REGION }],
        },
      ],
    });
    h.emulator.seedImage({ region: REGION, repository: 'app', account: OTHER }, buildDockerImage('sts/app'), {
      tags: ['v1'],
    });
    const accessKeyId = accessKeyIdForRole(CALLER_ROLE, ACCOUNT);
    const registered = await fetch(new URL(IAM_PRINCIPALS_PATH, h.emulator.endpoint), {
      method: 'POST',
      body: JSON.stringify({
        principals: [
          {
            accessKeyId,
            arn: CALLER_SESSION,
            account: ACCOUNT,
            roleArn: CALLER_ROLE,
            identityPolicies:
              options.callerMayAssume === false
                ? []
                : [{ name: 'Assume', policy: allow(['sts:AssumeRole'], WRITER) }],
          },
        ],
      }),
    });
    expect(registered.status).toBe(200);
    return accessKeyId;
  };

  const assume = async (callerKey: string, body: Record<string, unknown>) => {
    const response = await fetch(new URL(STS_ASSUME_ROLE_PATH, h.emulator.endpoint), {
      method: 'POST',
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=${callerKey}/20260101/${REGION}/sts/aws4_request`,
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  };

  const clientOf = (credentials: Record<string, string>) => {
    const client = new ECRClient({
      endpoint: h.emulator.endpoint,
      region: REGION,
      maxAttempts: 1,
      credentials: {
        accessKeyId: credentials.accessKeyId ?? '',
        secretAccessKey: credentials.secretAccessKey ?? '',
        sessionToken: credentials.sessionToken ?? '',
      },
    });
    clients.push(client);
    return client;
  };

  it("the session acts with the role's policy narrowed by the session policy, and a denial names the session", async () => {
    // Prepare
    const callerKey = await start();

    // Act
    const assumed = await assume(callerKey, {
      roleArn: WRITER,
      roleSessionName: 'ecr-backfill',
      policy: JSON.stringify(READ_IMAGES_ONLY),
    });
    const session = clientOf(assumed.body);
    const images = await session.send(
      new DescribeImagesCommand({ registryId: OTHER, repositoryName: 'app' }),
    );
    const denied = await errorOf(() => session.send(new DescribeRepositoriesCommand({ registryId: OTHER })));

    // Assess
    expect(assumed.status).toBe(200);
    expect(assumed.body.arn).toBe(WRITER_SESSION);
    expect(images.imageDetails).toHaveLength(1);
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toBe(
      `User: ${WRITER_SESSION} is not authorized to perform: ecr:DescribeRepositories on resource: arn:aws:ecr:${REGION}:${OTHER}:repository/* because no session policy allows the ecr:DescribeRepositories action`,
    );
  });

  it('without a session policy the session has all of the role (and only the role) allows', async () => {
    // Prepare
    const callerKey = await start();

    // Act
    const assumed = await assume(callerKey, { roleArn: WRITER, roleSessionName: 'ecr-backfill' });
    const session = clientOf(assumed.body);
    const repositories = await session.send(new DescribeRepositoriesCommand({ registryId: OTHER }));
    const ownAccount = await errorOf(() =>
      session.send(new DescribeRepositoriesCommand({ registryId: ACCOUNT })),
    );

    // Assess
    expect(repositories.repositories?.map((r) => r.repositoryName)).toEqual(['app']);
    expect(ownAccount.message).toContain(
      `User: ${WRITER_SESSION} is not authorized to perform: ecr:DescribeRepositories`,
    );
  });

  it("is refused when the caller's identity policy does not allow sts:AssumeRole on the role", async () => {
    // Prepare
    const callerKey = await start({ callerMayAssume: false });

    // Act
    const refused = await assume(callerKey, { roleArn: WRITER, roleSessionName: 'ecr-backfill' });

    // Assess
    expect(refused.status).toBe(403);
    expect(refused.body.__type).toBe('AccessDenied');
    expect(refused.body.message).toBe(
      `User: ${CALLER_SESSION} is not authorized to perform: sts:AssumeRole on resource: ${WRITER} because no identity-based policy allows the sts:AssumeRole action`,
    );
  });

  it("is refused when the role's trust policy does not trust the caller's account", async () => {
    // Prepare
    const callerKey = await start({ trusted: '333333333333' });

    // Act
    const refused = await assume(callerKey, { roleArn: WRITER, roleSessionName: 'ecr-backfill' });

    // Assess
    expect(refused.status).toBe(403);
    expect(refused.body.__type).toBe('AccessDenied');
    expect(refused.body.message).toBe(
      `User: ${CALLER_SESSION} is not authorized to perform: sts:AssumeRole on resource: ${WRITER} because no resource-based policy allows the sts:AssumeRole action`,
    );
  });

  it('is refused for a role the world does not have, and for a malformed request, naming the problem', async () => {
    // Prepare
    const callerKey = await start();

    // Act
    const missing = await assume(callerKey, {
      roleArn: `arn:aws:iam::${OTHER}:role/Nobody`,
      roleSessionName: 'ecr-backfill',
    });
    const malformed = await assume(callerKey, { roleArn: 'Writer', roleSessionName: 'x' });
    const badPolicy = await assume(callerKey, {
      roleArn: WRITER,
      roleSessionName: 'ecr-backfill',
      policy: '[',
    });

    // Assess
    expect(missing.status).toBe(403);
    expect(missing.body.message).toContain(`sts:AssumeRole on resource: arn:aws:iam::${OTHER}:role/Nobody`);
    expect(malformed.status).toBe(400);
    expect(malformed.body.message).toContain('roleArn: must be a role ARN');
    expect(malformed.body.message).toContain('roleSessionName: must be 2-64');
    expect(badPolicy.status).toBe(400);
    expect(badPolicy.body.__type).toBe('MalformedPolicyDocument');
  });
});
