import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRServiceException,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowAccountsPolicy, buildDockerImage } from '../../ecr-emulator/index.ts';
import { errorOf, startHarness, type Harness } from './helpers.ts';

/** A second, independent client: hand-built awsJson1_1 requests over fetch. */
async function rawCall(
  endpoint: string,
  operation: string,
  body: unknown,
  options: { region?: string; target?: string; accessKey?: string } = {},
): Promise<{ status: number; contentType: string | null; json: Record<string, unknown> }> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': options.target ?? `AmazonEC2ContainerRegistry_V20150921.${operation}`,
  };
  if (options.region) {
    headers.authorization =
      `AWS4-HMAC-SHA256 Credential=${options.accessKey ?? 'AKIDEXAMPLE'}/20250101/${options.region}/ecr/aws4_request, ` +
      'SignedHeaders=content-type;host;x-amz-target, Signature=0000';
  }
  const response = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify(body) });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    json: (await response.json()) as Record<string, unknown>,
  };
}

describe('ECR wire protocol', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    const image = buildDockerImage('protocol/one');
    h.emulator.seedImage({ region: 'eu-west-1', repository: 'team/app' }, image, {
      tags: ['v1'],
      pushedAt: 1_700_000_000_000,
    });
  });
  afterAll(() => h.close());

  it('answers a raw awsJson1_1 DescribeRepositories in the Region named by the credential scope', async () => {
    // Act
    const inEu = await rawCall(h.emulator.endpoint, 'DescribeRepositories', {}, { region: 'eu-west-1' });
    const inUs = await rawCall(h.emulator.endpoint, 'DescribeRepositories', {}, { region: 'us-west-2' });

    // Assess
    expect(inEu.status).toBe(200);
    expect(inEu.contentType).toBe('application/x-amz-json-1.1');
    expect(inEu.json.repositories).toEqual([
      expect.objectContaining({
        repositoryName: 'team/app',
        registryId: '111111111111',
        repositoryArn: 'arn:aws:ecr:eu-west-1:111111111111:repository/team/app',
        repositoryUri: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/team/app',
        imageTagMutability: 'MUTABLE',
      }),
    ]);
    expect(inUs.json.repositories).toEqual([]);
  });

  it('serves raw ListImages and DescribeImages with epoch-second timestamps', async () => {
    // Act
    const list = await rawCall(
      h.emulator.endpoint,
      'ListImages',
      { repositoryName: 'team/app' },
      { region: 'eu-west-1' },
    );
    const describe = await rawCall(
      h.emulator.endpoint,
      'DescribeImages',
      { repositoryName: 'team/app' },
      { region: 'eu-west-1' },
    );

    // Assess
    expect(list.json.imageIds).toEqual([
      { imageDigest: buildDockerImage('protocol/one').digest, imageTag: 'v1' },
    ]);
    const details = describe.json.imageDetails as Record<string, unknown>[];
    expect(details[0]?.imagePushedAt).toBe(1_700_000_000);
  });

  it('defaults to us-east-1 when the request carries no credential scope', async () => {
    // Prepare
    h.emulator.world.ensureRepository('111111111111', 'us-east-1', 'default-region-repo');

    // Act
    const result = await rawCall(h.emulator.endpoint, 'DescribeRepositories', {});

    // Assess
    expect((result.json.repositories as { repositoryName: string }[]).map((r) => r.repositoryName)).toEqual([
      'default-region-repo',
    ]);
  });

  it('routes by registryId and by the 12-digit account in the access key', async () => {
    // Prepare
    const other = h.client('eu-west-1', { account: '222222222222' });
    await other.send(new CreateRepositoryCommand({ repositoryName: 'theirs' }));
    // A call naming another account's registry needs that registry to allow it (registry-policy.test.ts).
    h.emulator.putRegistryPolicy(
      '222222222222',
      'eu-west-1',
      allowAccountsPolicy(['111111111111'], ['ecr:DescribeRepositories']),
    );

    // Act
    const viaRegistryId = await h
      .client('eu-west-1')
      .send(new DescribeRepositoriesCommand({ registryId: '222222222222' }));
    const raw = await rawCall(
      h.emulator.endpoint,
      'DescribeRepositories',
      {},
      { region: 'eu-west-1', accessKey: 'AKIA222222222222' },
    );

    // Assess
    expect(viaRegistryId.repositories?.map((r) => r.repositoryName)).toEqual(['theirs']);
    expect((raw.json.repositories as { registryId: string }[])[0]?.registryId).toBe('222222222222');
  });

  it('answers an unknown operation with an error that names it', async () => {
    // Act
    const result = await rawCall(
      h.emulator.endpoint,
      'GetLifecyclePolicy',
      { repositoryName: 'team/app' },
      { region: 'eu-west-1' },
    );

    // Assess
    expect(result.status).toBe(400);
    expect(result.json.__type).toBe('UnknownOperationException');
    expect(result.json.message).toContain('GetLifecyclePolicy');
  });

  it('rejects a foreign X-Amz-Target and a body that is not JSON', async () => {
    // Act
    const foreign = await rawCall(h.emulator.endpoint, '', {}, { target: 'DynamoDB_20120810.ListTables' });
    const badBody = await fetch(h.emulator.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories' },
      body: '{not json',
    });

    // Assess
    expect(foreign.status).toBe(400);
    expect(foreign.json.__type).toBe('UnknownOperationException');
    expect(badBody.status).toBe(400);
    expect(((await badBody.json()) as { __type: string }).__type).toBe('SerializationException');
  });

  it('returns modeled errors as typed SDK exceptions with status 400', async () => {
    // Act
    const error = await errorOf(() =>
      h.client('eu-west-1').send(new DescribeRepositoriesCommand({ repositoryNames: ['missing/repo'] })),
    );

    // Assess
    expect(error.name).toBe('RepositoryNotFoundException');
    expect(error).toBeInstanceOf(ECRServiceException);
    expect(error.$metadata?.httpStatusCode).toBe(400);
  });

  it('rejects a registryId that is not 12 digits', async () => {
    // Act
    const error = await errorOf(() =>
      h.client('eu-west-1').send(new DescribeRepositoriesCommand({ registryId: 'abc' })),
    );

    // Assess
    expect(error.name).toBe('InvalidParameterException');
  });
});
