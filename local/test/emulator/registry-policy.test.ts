/**
 * Registry permissions policies and their enforcement (always on, as in AWS):
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-create-replication.html
 */
import {
  DeleteRegistryPolicyCommand,
  DescribeImagesCommand,
  DescribeImageReplicationStatusCommand,
  GetRegistryPolicyCommand,
  PutImageCommand,
  PutRegistryPolicyCommand,
  PutReplicationConfigurationCommand,
} from '@aws-sdk/client-ecr';
import { afterEach, describe, expect, it } from 'vitest';
import { allowAccountsPolicy, buildDockerImage } from '../../ecr-emulator/index.ts';
import { errorOf, startHarness, type Harness } from './helpers.ts';

const SOURCE = 'ap-south-1';
const DEST = 'eu-west-1';
const ACCOUNT = '111111111111';
const OTHER = '222222222222';

describe('registry permissions policies', () => {
  let h: Harness;
  afterEach(() => h.close());

  const pushUnderReplication = async () => {
    const source = h.client(SOURCE);
    await source.send(
      new PutReplicationConfigurationCommand({
        replicationConfiguration: { rules: [{ destinations: [{ region: DEST, registryId: OTHER }] }] },
      }),
    );
    const image = buildDockerImage('policy/app');
    h.emulator.seedImage({ region: SOURCE, repository: 'app' }, image, { tags: ['v1'] });
    await source.send(
      new PutImageCommand({ repositoryName: 'app', imageManifest: image.manifest, imageTag: 'v2' }),
    );
    await h.emulator.whenReplicationIdle();
    const status = await source.send(
      new DescribeImageReplicationStatusCommand({ repositoryName: 'app', imageId: { imageTag: 'v2' } }),
    );
    return { image, status: status.replicationStatuses?.[0] };
  };

  it('puts, gets and deletes the caller own registry policy, refusing a malformed one', async () => {
    // Prepare
    h = await startHarness();
    const other = h.client(DEST, { account: OTHER });
    const policyText = allowAccountsPolicy([ACCOUNT], ['ecr:ReplicateImage']);

    // Act
    const missing = await errorOf(() => other.send(new GetRegistryPolicyCommand({})));
    const put = await other.send(new PutRegistryPolicyCommand({ policyText }));
    const got = await other.send(new GetRegistryPolicyCommand({}));
    const bad = await errorOf(() =>
      other.send(new PutRegistryPolicyCommand({ policyText: '{"Statement":[{"Effect":"Maybe"}]}' })),
    );
    const deleted = await other.send(new DeleteRegistryPolicyCommand({}));
    const gone = await errorOf(() => other.send(new GetRegistryPolicyCommand({})));

    // Assess
    expect(missing.name).toBe('RegistryPolicyNotFoundException');
    expect(put).toMatchObject({ registryId: OTHER, policyText });
    expect(got.policyText).toBe(policyText);
    expect(bad.name).toBe('InvalidParameterException');
    expect(bad.message).toMatch(/Effect/);
    expect(deleted.registryId).toBe(OTHER);
    expect(gone.name).toBe('RegistryPolicyNotFoundException');
  });

  it('fails replication into another account without a registry policy: FAILED with a code, nothing there', async () => {
    // Prepare
    h = await startHarness();

    // Act
    const { status } = await pushUnderReplication();

    // Assess
    expect(status).toEqual({
      region: DEST,
      registryId: OTHER,
      status: 'FAILED',
      failureCode: 'ACCESS_DENIED',
    });
    expect(h.emulator.world.getRepository(OTHER, DEST, 'app')).toBeUndefined();
  });

  it('replicates with ReplicateImage alone into a repository that already exists there', async () => {
    // Prepare: "If the ecr:CreateRepository permission isn't provided, a repository with the same
    // name as the source repository must be created manually in your registry."
    h = await startHarness();
    h.emulator.allowReplication(ACCOUNT, { account: OTHER, region: DEST }, ['ecr:ReplicateImage']);
    h.emulator.world.createRepository(OTHER, DEST, 'app');

    // Act
    const { image, status } = await pushUnderReplication();

    // Assess
    expect(status?.status).toBe('COMPLETE');
    expect(h.emulator.world.resolveTag(OTHER, DEST, 'app', 'v2')).toBe(image.digest);
  });

  it('fails replication into another account whose policy does not allow ReplicateImage and CreateRepository', async () => {
    // Prepare: a policy that allows replication but not repository creation.
    h = await startHarness();
    h.emulator.allowReplication(ACCOUNT, { account: OTHER, region: DEST }, ['ecr:ReplicateImage']);

    // Act
    const { image, status } = await pushUnderReplication();

    // Assess
    expect(status).toMatchObject({
      region: DEST,
      registryId: OTHER,
      status: 'FAILED',
      failureCode: 'ACCESS_DENIED',
    });
    expect(h.emulator.world.getImage(OTHER, DEST, 'app', image.digest)).toBeUndefined();
  });

  it('replicates into another account once its policy allows both actions', async () => {
    // Prepare
    h = await startHarness();
    h.emulator.allowReplication(ACCOUNT, { account: OTHER, region: DEST });

    // Act
    const { image, status } = await pushUnderReplication();

    // Assess
    expect(status?.status).toBe('COMPLETE');
    expect(h.emulator.world.resolveTag(OTHER, DEST, 'app', 'v2')).toBe(image.digest);
  });

  it('denies a call into another account registry unless its policy allows the action or the caller is that account', async () => {
    // Prepare
    h = await startHarness();
    h.emulator.seedImage(
      { region: DEST, repository: 'app', account: OTHER },
      buildDockerImage('policy/other'),
      {
        tags: ['v1'],
      },
    );
    const asSource = h.client(DEST);
    const asRole = h.client(DEST, { account: OTHER }); // an assumed role's credentials are that account's
    const describe = (client: typeof asSource) =>
      client.send(new DescribeImagesCommand({ registryId: OTHER, repositoryName: 'app' }));

    // A role in a third account is no way into this registry.
    const asThirdAccountRole = h.client(DEST, { account: '333333333333' });

    // Act
    const denied = await errorOf(() => describe(asSource));
    const thirdAccountRole = await errorOf(() => describe(asThirdAccountRole));
    const viaRole = await describe(asRole);
    h.emulator.putRegistryPolicy(OTHER, DEST, allowAccountsPolicy([ACCOUNT], ['ecr:Describe*']));
    const allowed = await describe(asSource);
    const stillDenied = await errorOf(() =>
      asSource.send(
        new PutImageCommand({ registryId: OTHER, repositoryName: 'app', imageManifest: '{}', imageTag: 'x' }),
      ),
    );

    // Assess
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toMatch(/111111111111.*ecr:DescribeImages/);
    expect(thirdAccountRole.name).toBe('AccessDeniedException');
    expect(viaRole.imageDetails).toHaveLength(1);
    expect(allowed.imageDetails).toHaveLength(1);
    expect(stillDenied.name).toBe('AccessDeniedException');
  });
});
