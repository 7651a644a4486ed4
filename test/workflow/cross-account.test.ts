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
import { buildImage, type Fixture } from '../../local/ecr-emulator/index.ts';
import { runBackfillLocally, type BackfillRunResult } from '../../local/runner/run-backfill.ts';
import { writesIn } from '../support/ecr-writes.ts';
import { backfillTemplate, startWorld, tagsOf, tempTagsAnywhere, type World } from './helpers.ts';

const ACCOUNT = '111111111111';
const OTHER_ACCOUNT = '222222222222';
const SOURCE = { account: ACCOUNT, region: 'ap-south-1' };
const OREGON = { account: OTHER_ACCOUNT, region: 'us-west-2' };
const ROLE = `arn:aws:iam::${OTHER_ACCOUNT}:role/ecr-backfill-writer`;
const SPEC = { format: 'docker' as const, seed: 'cross-account/api', layers: 1, layerSize: 64 };
const IMAGE = buildImage(SPEC);

function fixture(): Fixture {
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
      // Oregon's registry exists, with no permissions policy yet.
      { id: OTHER_ACCOUNT, regions: [{ region: OREGON.region }] },
    ],
  };
}

const THROUGH_ROLE = { destinations: [{ region: OREGON.region, roleArn: ROLE }] };

const run = (world: World, input: unknown = THROUGH_ROLE): Promise<BackfillRunResult> =>
  runBackfillLocally({
    ecrEndpoint: world.emulator.endpoint,
    s3: world.s3,
    sourceRegion: SOURCE.region,
    account: ACCOUNT,
    template: backfillTemplate(),
    input,
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
    const result = await run(world, { destinations: [{ region: OREGON.region, registryId: OTHER_ACCOUNT }] });

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
});
