/**
 * A destination in another account, reached through a role, end to end: the synthesized state
 * machine with the real handlers against an emulator that enforces registry permissions policies as
 * ECR does. Without the destination registry's replication grant Plan refuses the run
 * (ReplicationNotPermitted) before anything is written; with only that grant (no grant for direct
 * calls) the run succeeds, because every call into the destination is made with the role's
 * credentials.
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-create-replication.html
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_NAMES } from '../../core/errors/error-names.ts';
import {
  buildImage,
  roleTrustingAccount,
  type Fixture,
  type FixtureRole,
} from '../../local/ecr-emulator/index.ts';
import { LOCAL_DEPLOYMENT } from '../../local/runner/defaults.ts';
import { documentedDestinationRole } from '../../local/runner/iam.ts';
import type { ChildOutcome } from '../../local/runner/progress.ts';
import {
  runBackfillLocally,
  type BackfillRunResult,
  type RunBackfillOptions,
} from '../../local/runner/run-backfill.ts';
import { synthesizeBackfillStack } from '../../local/synth/synth.ts';
import type { CfnTemplate } from '../../local/synth/template-tokens.ts';
import { destinationRolePolicy } from '../../core/destination-role.ts';
import { writesIn } from '../support/ecr-writes.ts';
import { backfillTemplate, startWorld, tagsOf, tempTagsAnywhere, type World } from './helpers.ts';

const ACCOUNT = '111111111111';
const OTHER_ACCOUNT = '222222222222';
const SOURCE = { account: ACCOUNT, region: 'ap-south-1' };
const OREGON = { account: OTHER_ACCOUNT, region: 'us-west-2' };
const ROLE_NAME = 'ecr-backfill-writer';
const ROLE = `arn:aws:iam::${OTHER_ACCOUNT}:role/${ROLE_NAME}`;
/** The role's sessions, as the functions assume it (session name ecr-backfill). */
const ROLE_SESSION = `arn:aws:sts::${OTHER_ACCOUNT}:assumed-role/${ROLE_NAME}/ecr-backfill`;
const SPEC = { format: 'docker' as const, seed: 'cross-account/api', layers: 1, layerSize: 64 };
const IMAGE = buildImage(SPEC);

function fixture(role: FixtureRole = documentedDestinationRole(ROLE_NAME, ACCOUNT)): Fixture {
  return {
    accounts: [
      {
        id: ACCOUNT,
        regions: [
          {
            region: SOURCE.region,
            replicationConfiguration: {
              rules: [{ destinations: [{ region: OREGON.region, registryId: OTHER_ACCOUNT }] }],
            },
            repositories: [{ name: 'team/api', images: [{ build: SPEC, tags: ['v1', 'latest'] }] }],
          },
        ],
      },
      // Oregon's registry exists, with no permissions policy yet; the role is the README's documented one.
      { id: OTHER_ACCOUNT, roles: [role], regions: [{ region: OREGON.region }] },
    ],
  };
}

const THROUGH_ROLE = { destinations: [{ region: OREGON.region, roleArn: ROLE }] };

let template: CfnTemplate | undefined;
/** The local deployment allowed to assume the role (`destinationRoleArns`: sts:AssumeRole on it). */
function withRoleTemplate(): CfnTemplate {
  template ??= synthesizeBackfillStack({ backfill: { ...LOCAL_DEPLOYMENT, destinationRoleArns: [ROLE] } });
  return template;
}

const run = (
  world: World,
  input: unknown = THROUGH_ROLE,
  options: Partial<RunBackfillOptions> = {},
): Promise<BackfillRunResult> =>
  runBackfillLocally({
    ecrEndpoint: world.emulator.endpoint,
    s3: world.s3,
    sourceRegion: SOURCE.region,
    account: ACCOUNT,
    template: withRoleTemplate(),
    input,
    ...options,
  });

describe('a destination in another account, reached through its role', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('without the registry policy: Plan refuses (ReplicationNotPermitted), no ECR write, an empty run bucket', async () => {
    // Prepare
    world = await startWorld(fixture(), { replicationLatencyMs: 20 });

    // Act
    const result = await run(world);

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe(ERROR_NAMES.ReplicationNotPermitted);
    expect(result.cause).toContain(`account ${OTHER_ACCOUNT} in ${OREGON.region}`);
    expect(writesIn(world.emulator.callLog.entries())).toEqual([]);
    const listed = await world.s3.client.send(new ListObjectsV2Command({ Bucket: result.runBucket }));
    expect(listed.KeyCount ?? 0).toBe(0);
    expect(tagsOf(world.emulator.snapshot(), OREGON).size).toBe(0);
  });

  it('with only the replication grant: backfills through the role and leaves no temp tag', async () => {
    // Prepare: what the destination's owner creates; direct calls from the source account stay refused.
    world = await startWorld(fixture(), { replicationLatencyMs: 20 });
    world.emulator.allowReplication(ACCOUNT, OREGON);

    // Act
    const result = await run(world);

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const snapshot = world.emulator.snapshot();
    expect(Object.fromEntries(tagsOf(snapshot, OREGON))).toEqual({
      'team/api:v1': IMAGE.digest,
      'team/api:latest': IMAGE.digest,
    });
    expect(tempTagsAnywhere(snapshot)).toEqual([]);
    expect(
      world.emulator.callLog.entries().filter((call) => call.outcome === 'AccessDeniedException'),
    ).toEqual([]);
  });

  it('without a role, the replication grant alone does not open the registry: the first read there is AccessDenied', async () => {
    // Prepare
    world = await startWorld(fixture(), { replicationLatencyMs: 20 });
    world.emulator.allowReplication(ACCOUNT, OREGON);

    // Act: the source account's own credentials act on Oregon's registry.
    const result = await run(
      world,
      { destinations: [{ region: OREGON.region, registryId: OTHER_ACCOUNT }] },
      { template: backfillTemplate() },
    );

    // Assess
    expect(result.status).toBe('FAILED');
    // PlanSlice's read in Oregon is refused; its Map run fails on the failed child.
    expect(result.error).toBe('States.ExceedToleratedFailureThreshold');
    const denied = world.emulator.callLog
      .entries()
      .filter((call) => call.outcome === 'AccessDeniedException');
    expect(denied.length).toBeGreaterThan(0);
    expect(denied.every((call) => call.account === OTHER_ACCOUNT)).toBe(true);
    expect(writesIn(world.emulator.callLog.entries())).toEqual([]);
    expect(tagsOf(world.emulator.snapshot(), OREGON).size).toBe(0);
  });

  it("a destination role lacking an action a step calls through it: that step fails with AccessDeniedException naming the role's session and the action", async () => {
    // Prepare: the documented role without ecr:DescribeImages, which PlanSlice calls through it.
    const policy = destinationRolePolicy() as { Statement: { Action: string[] }[] };
    for (const statement of policy.Statement)
      statement.Action = statement.Action.filter((action) => action !== 'ecr:DescribeImages');
    world = await startWorld(fixture(roleTrustingAccount(ROLE_NAME, ACCOUNT, { Narrowed: policy })), {
      replicationLatencyMs: 20,
    });
    world.emulator.allowReplication(ACCOUNT, OREGON);
    const failed: ChildOutcome[] = [];

    // Act
    const result = await run(world, THROUGH_ROLE, {
      onProgress: (_snapshot, event) => {
        if (event.type === 'map-run-progress' && event.child.status === 'FAILED') failed.push(event.child);
      },
    });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(failed[0]?.failedState).toBe('PlanSlice');
    expect(failed[0]?.error).toBe(ERROR_NAMES.AccessDenied);
    expect(failed[0]?.cause).toContain(
      `User: ${ROLE_SESSION} is not authorized to perform: ecr:DescribeImages on resource: arn:aws:ecr:${OREGON.region}:${OTHER_ACCOUNT}:repository/team/api because no identity-based policy allows the ecr:DescribeImages action`,
    );
    expect(writesIn(world.emulator.callLog.entries())).toEqual([]);
  });

  it('a deployment not allowed to assume the role (no destinationRoleArns): Plan fails with AccessDenied from STS, nothing written', async () => {
    // Prepare
    world = await startWorld(fixture(), { replicationLatencyMs: 20 });
    world.emulator.allowReplication(ACCOUNT, OREGON);

    // Act
    const result = await run(world, THROUGH_ROLE, { template: backfillTemplate() });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe(ERROR_NAMES.AccessDenied);
    expect(result.cause).toMatch(
      new RegExp(
        `assumed-role/[^ ]*PlanRole[^ ]* is not authorized to perform: sts:AssumeRole on resource: ${ROLE} because no identity-based policy allows the sts:AssumeRole action`,
      ),
    );
    expect(writesIn(world.emulator.callLog.entries())).toEqual([]);
  });

  it("a role whose trust policy does not trust the source account: AssumeRole is refused by the role's side", async () => {
    // Prepare
    const untrusting = roleTrustingAccount(ROLE_NAME, '333333333333', {
      Documented: destinationRolePolicy(),
    });
    world = await startWorld(fixture(untrusting), { replicationLatencyMs: 20 });
    world.emulator.allowReplication(ACCOUNT, OREGON);

    // Act
    const result = await run(world);

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe(ERROR_NAMES.AccessDenied);
    expect(result.cause).toContain(
      `sts:AssumeRole on resource: ${ROLE} because no resource-based policy allows the sts:AssumeRole action`,
    );
    expect(writesIn(world.emulator.callLog.entries())).toEqual([]);
  });
});
