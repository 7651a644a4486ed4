/**
 * Plan refuses a cross-account destination whose registry permissions policy would refuse
 * replication, before anything is written (functions/plan/destination-policies.ts). The emulator
 * enforces registry policies (always, as ECR does), so the world is one where replication into
 * Oregon really fails without the grant.
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-create-replication.html
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ReplicationRule } from '@aws-sdk/client-ecr';
import { buildDockerImage } from '../../../local/ecr-emulator/images.ts';
import {
  DestinationAccountNotGrantedError,
  ReplicationNotPermittedError,
} from '../../../core/errors/errors.ts';
import { ERROR_NAMES } from '../../../core/errors/error-names.ts';
import { replicationPermission } from '../../../core/ecr/registry-policy.ts';
import { plan } from '../../../functions/plan/plan.ts';
import {
  OREGON,
  OTHER_ACCOUNT,
  OTHER_ROLE,
  type PlanningWorld,
  planningWorldPerTest,
  runPlanning,
  SOURCE_ACCOUNT,
  SOURCE_REGION,
} from '../plan-support/world.ts';

const OREGON_DEST = { region: OREGON, registryId: OTHER_ACCOUNT };
const RULES: ReplicationRule[] = [
  { destinations: [OREGON_DEST], repositoryFilters: [{ filter: 'team/', filterType: 'PREFIX_MATCH' }] },
];
const THROUGH_ROLE = { destinations: [{ region: OREGON, roleArn: OTHER_ROLE }] };

const freshWorld = planningWorldPerTest();
let world: PlanningWorld;

const policyReads = () => world.emulator.callLog.entries({ operation: 'GetRegistryPolicy', region: OREGON });

beforeEach(async () => {
  world = await freshWorld();
  world.emulator.seedImage({ region: SOURCE_REGION, repository: 'team/api' }, buildDockerImage('a'), {
    tags: ['v1'],
  });
  await world.replicate(RULES);
});

describe('a cross-account destination reached through its role', () => {
  it('without a registry policy: ReplicationNotPermitted naming the account, Region and grant; nothing written', async () => {
    const error = await runPlanning(world, THROUGH_ROLE, 'no-policy').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ReplicationNotPermittedError);
    expect((error as Error).name).toBe(ERROR_NAMES.ReplicationNotPermitted);
    const message = (error as Error).message;
    expect(message).toContain(`account ${OTHER_ACCOUNT} in ${OREGON}`);
    expect(message).toContain('has no registry permissions policy');
    expect(message).toContain('"Action":["ecr:CreateRepository","ecr:ReplicateImage"]');
    expect(message).toContain(`"Principal":{"AWS":"arn:aws:iam::${SOURCE_ACCOUNT}:root"}`);
    expect(await world.keys()).toEqual([]);
    expect(world.writeCalls()).toBe(0);
    // Read in the destination, as the destination account (its role).
    expect(policyReads().map((call) => call.account)).toEqual([OTHER_ACCOUNT]);
  });

  it('with a policy that denies the source account: refused too (Deny wins over Allow)', async () => {
    world.emulator.putRegistryPolicy(
      OTHER_ACCOUNT,
      OREGON,
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${SOURCE_ACCOUNT}:root` },
            Action: ['ecr:ReplicateImage', 'ecr:CreateRepository'],
            Resource: '*',
          },
          { Effect: 'Deny', Principal: '*', Action: 'ecr:Replicate*', Resource: '*' },
        ],
      }),
    );

    const error = await runPlanning(world, THROUGH_ROLE, 'denied').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ReplicationNotPermittedError);
    expect((error as Error).message).toContain(`does not allow account ${SOURCE_ACCOUNT} ecr:ReplicateImage`);
    expect(await world.keys()).toEqual([]);
    expect(world.writeCalls()).toBe(0);
  });

  it('with the replication grant: plans as usual', async () => {
    world.emulator.allowReplication(SOURCE_ACCOUNT, { account: OTHER_ACCOUNT, region: OREGON });

    const run = await runPlanning(world, THROUGH_ROLE, 'granted');

    expect(run.items.map((i) => i.repositoryName)).toEqual(['team/api']);
    expect(policyReads()).toHaveLength(1);
    expect(world.writeCalls()).toBe(0);
  });
});

describe('a cross-account destination without a role', () => {
  it('is refused (DestinationAccountNotGranted) when the deployment does not reach its account directly, nothing written', async () => {
    // A deployment without directAccounts: every call there would be AccessDenied in AWS.
    const deps = { ...world.deps, env: { ...world.deps.env, directAccounts: [] } };

    const error = await plan(
      { input: { destinations: [{ region: OREGON }] }, executionName: 'not-granted' },
      deps,
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DestinationAccountNotGrantedError);
    expect((error as Error).name).toBe(ERROR_NAMES.DestinationAccountNotGranted);
    expect((error as Error).message).toContain(`${OREGON} (${OTHER_ACCOUNT})`);
    expect((error as Error).message).toContain(`-c directAccounts=${OTHER_ACCOUNT}`);
    expect((error as Error).message).toContain('roleArn');
    expect(policyReads()).toHaveLength(0);
    expect((await world.keys()).filter((key) => key.includes('not-granted'))).toEqual([]);
    expect(world.writeCalls()).toBe(0);
  });

  it('reached directly (directAccounts) is not refused: Plan cannot read its policy, so it goes on (logged as unchecked)', async () => {
    // Plan alone: without a role or a policy, PlanSlice's reads in Oregon would be refused too.
    const context = await plan(
      { input: { destinations: [{ region: OREGON }] }, executionName: 'no-role' },
      world.deps,
    );

    expect(context.config.destinations).toEqual([OREGON_DEST]);
    expect(context.slices.count).toBe(1);
    expect(policyReads()).toHaveLength(0);
  });
});

describe('replicationPermission', () => {
  const dest = { registryId: OTHER_ACCOUNT, region: OREGON };
  const grant = (statement: Record<string, unknown>) =>
    JSON.stringify({ Version: '2012-10-17', Statement: [statement] });

  it('needs ecr:ReplicateImage for the source account on every repository', () => {
    expect(replicationPermission(undefined, SOURCE_ACCOUNT, dest)).toEqual({
      replicate: false,
      createRepository: false,
    });
    const other = grant({
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::333333333333:root' },
      Action: 'ecr:ReplicateImage',
      Resource: '*',
    });
    expect(replicationPermission(other, SOURCE_ACCOUNT, dest).replicate).toBe(false);
    const onlyReplicate = grant({
      Effect: 'Allow',
      Principal: { AWS: SOURCE_ACCOUNT },
      Action: 'ecr:ReplicateImage',
      Resource: `arn:aws:ecr:${OREGON}:${OTHER_ACCOUNT}:repository/*`,
    });
    expect(replicationPermission(onlyReplicate, SOURCE_ACCOUNT, dest)).toEqual({
      replicate: true,
      createRepository: false,
    });
  });

  it('never counts a conditional Allow, and names an unreadable policy', () => {
    const conditional = grant({
      Effect: 'Allow',
      Principal: '*',
      Action: 'ecr:*',
      Resource: '*',
      Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-1' } },
    });
    expect(replicationPermission(conditional, SOURCE_ACCOUNT, dest).replicate).toBe(false);
    expect(replicationPermission('not json', SOURCE_ACCOUNT, dest).problem).toBe('not a JSON document');
  });
});
