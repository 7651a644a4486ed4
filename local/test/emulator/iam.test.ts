/**
 * IAM in the emulator: a registered role session is authorized by its identity-based policies and,
 * across accounts, by the target registry's permissions policy too, as AWS evaluates them
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html); a
 * denial is ECR's AccessDeniedException naming principal, action and resource.
 */
import {
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  PutRegistryPolicyCommand,
} from '@aws-sdk/client-ecr';
import { afterEach, describe, expect, it } from 'vitest';
import { allowAccountsPolicy, buildDockerImage } from '../../ecr-emulator/index.ts';
import { IAM_PRINCIPALS_PATH } from '../../ecr-emulator/iam/principals.ts';
import { accessKeyIdForRole } from '../../iam/template-principals.ts';
import { errorOf, FAST, startHarness, type Harness } from './helpers.ts';

const REGION = 'eu-west-1';
const ACCOUNT = '111111111111';
const OTHER = '222222222222';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/PlanSliceRole`;
const SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/PlanSliceRole/PlanSliceRole-session`;

const readImagesPolicy = (accounts: string[]) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['ecr:DescribeImages'],
      Resource: accounts.map((account) => `arn:aws:ecr:*:${account}:repository/*`),
    },
  ],
});

describe('IAM in the ECR emulator', () => {
  let h: Harness;
  const clients: ECRClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await h.close();
  });

  const start = async (identityAccounts: string[]) => {
    h = await startHarness(FAST);
    const image = buildDockerImage('iam/app');
    h.emulator.seedImage({ region: REGION, repository: 'app' }, image, { tags: ['v1'] });
    h.emulator.seedImage({ region: REGION, repository: 'app', account: OTHER }, image, { tags: ['v1'] });
    const accessKeyId = accessKeyIdForRole(ROLE_ARN, ACCOUNT);
    const response = await fetch(new URL(IAM_PRINCIPALS_PATH, h.emulator.endpoint), {
      method: 'POST',
      body: JSON.stringify({
        principals: [
          {
            accessKeyId,
            arn: SESSION_ARN,
            account: ACCOUNT,
            roleArn: ROLE_ARN,
            identityPolicies: [{ name: 'Default', policy: readImagesPolicy(identityAccounts) }],
          },
        ],
      }),
    });
    expect(response.status).toBe(200);
    const client = new ECRClient({
      endpoint: h.emulator.endpoint,
      region: REGION,
      maxAttempts: 1,
      credentials: { accessKeyId, secretAccessKey: 'x' },
    });
    clients.push(client);
    return client;
  };

  it('allows what the identity policy allows, and denies the rest naming principal, action and resource', async () => {
    // Prepare
    const role = await start([ACCOUNT]);

    // Act
    const images = await role.send(new DescribeImagesCommand({ repositoryName: 'app' }));
    const denied = await errorOf(() => role.send(new DescribeRepositoriesCommand({})));

    // Assess
    expect(images.imageDetails).toHaveLength(1);
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toBe(
      `User: ${SESSION_ARN} is not authorized to perform: ecr:DescribeRepositories on resource: arn:aws:ecr:${REGION}:${ACCOUNT}:repository/* because no identity-based policy allows the ecr:DescribeRepositories action`,
    );
  });

  it('across accounts needs both sides: the identity policy and the registry policy', async () => {
    // Prepare: the identity side covers the other account; its registry allows nobody yet.
    const role = await start([ACCOUNT, OTHER]);
    const other = h.client(REGION, { account: OTHER });
    const read = () => role.send(new DescribeImagesCommand({ registryId: OTHER, repositoryName: 'app' }));

    // Act
    const withoutResourceSide = await errorOf(read);
    await other.send(
      new PutRegistryPolicyCommand({
        policyText: allowAccountsPolicy([ACCOUNT], ['ecr:DescribeImages']),
      }),
    );
    const withBoth = await read();

    // Assess
    expect(withoutResourceSide.message).toBe(
      `User: ${SESSION_ARN} is not authorized to perform: ecr:DescribeImages on resource: arn:aws:ecr:${REGION}:${OTHER}:repository/app because no resource-based policy allows the ecr:DescribeImages action`,
    );
    expect(withBoth.imageDetails).toHaveLength(1);
  });

  it('denies across accounts when only the registry policy allows', async () => {
    // Prepare: the other registry allows the account, the role's own policy covers its account only.
    const role = await start([ACCOUNT]);
    const other = h.client(REGION, { account: OTHER });
    await other.send(
      new PutRegistryPolicyCommand({
        policyText: allowAccountsPolicy([ACCOUNT], ['ecr:DescribeImages']),
      }),
    );

    // Act
    const denied = await errorOf(() =>
      role.send(new DescribeImagesCommand({ registryId: OTHER, repositoryName: 'app' })),
    );

    // Assess
    expect(denied.message).toBe(
      `User: ${SESSION_ARN} is not authorized to perform: ecr:DescribeImages on resource: arn:aws:ecr:${REGION}:${OTHER}:repository/app because no identity-based policy allows the ecr:DescribeImages action`,
    );
  });

  it('refuses a malformed registration by name and registers nothing', async () => {
    // Prepare
    h = await startHarness(FAST);

    // Act
    const response = await fetch(new URL(IAM_PRINCIPALS_PATH, h.emulator.endpoint), {
      method: 'POST',
      body: JSON.stringify({
        principals: [{ accessKeyId: 'short', arn: 'nope', account: '1', identityPolicies: [] }],
      }),
    });

    // Assess
    expect(response.status).toBe(400);
    const body = (await response.json()) as { message: string };
    expect(body.message).toMatch(/principals\.0\.accessKeyId/);
    expect(body.message).toMatch(/principals\.0\.arn: must be an IAM or STS ARN/);
  });
});
