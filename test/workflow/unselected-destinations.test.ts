/**
 * Destinations a run does not select, but its pushes reach (issue 24). A push in the source
 * replicates to every destination of every rule covering the repository, so a retag-source run
 * selecting only Seoul still sends its temp tags (and re-put tags) to the rule's other-account
 * destination, Oregon; its steps must read there (RetagSourceTags' conflict check) and remove the
 * temp tags there (CleanupTempTags). Without a way in, AWS answers AccessDenied and the temp tags
 * stay: Plan refuses such a run up front, with nothing written; with a role of that account the run
 * reaches Oregon through it and leaves no temp tag anywhere.
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_NAMES } from '../../core/errors/error-names.ts';
import { buildImage, type Fixture } from '../../local/ecr-emulator/index.ts';
import { ALL_STRATEGIES_ALLOWED } from '../../local/runner/defaults.ts';
import { documentedDestinationRole } from '../../local/runner/iam.ts';
import { runBackfillLocally, type BackfillRunResult } from '../../local/runner/run-backfill.ts';
import { synthesizeBackfillStack } from '../../local/synth/synth.ts';
import type { CfnTemplate } from '../../local/synth/template-tokens.ts';
import { writesIn } from '../support/ecr-writes.ts';
import { startWorld, tagsOf, tempTagsAnywhere, type World } from './helpers.ts';

const ACCOUNT = '111111111111';
const OTHER_ACCOUNT = '222222222222';
const SOURCE = { account: ACCOUNT, region: 'us-east-1' };
const SEOUL = { account: ACCOUNT, region: 'ap-northeast-2' };
const OREGON = { account: OTHER_ACCOUNT, region: 'us-west-2' };
const ROLE_NAME = 'ecr-backfill-writer';
const ROLE = `arn:aws:iam::${OTHER_ACCOUNT}:role/${ROLE_NAME}`;
const API = { format: 'docker' as const, seed: 'unselected/api', layers: 1, layerSize: 64 };
const TOOLS = { format: 'docker' as const, seed: 'unselected/tools', layers: 1, layerSize: 64 };

/**
 * Every repository replicates to Seoul; team/ also to Oregon, in another account whose registry
 * policy lets the source replicate in. Oregon's account holds the README's documented role.
 */
function fixture(): Fixture {
  return {
    accounts: [
      {
        id: ACCOUNT,
        regions: [
          {
            region: SOURCE.region,
            replicationConfiguration: {
              rules: [
                { destinations: [{ region: SEOUL.region, registryId: ACCOUNT }] },
                {
                  repositoryFilters: [{ filter: 'team/', filterType: 'PREFIX_MATCH' }],
                  destinations: [{ region: OREGON.region, registryId: OTHER_ACCOUNT }],
                },
              ],
            },
            repositories: [
              { name: 'team/api', images: [{ build: API, tags: ['v1', 'latest'] }] },
              { name: 'tools/cli', images: [{ build: TOOLS, tags: ['v2'] }] },
            ],
          },
        ],
      },
      {
        id: OTHER_ACCOUNT,
        roles: [documentedDestinationRole(ROLE_NAME, ACCOUNT)],
        regions: [{ region: OREGON.region }],
      },
    ],
  };
}

/** retag-source, Seoul only. */
const SEOUL_ONLY = { strategy: 'retag-source', method: 'repush', destinations: [{ region: SEOUL.region }] };

const templates = new Map<string, CfnTemplate>();
/** retag-source allowed; Oregon's account reached neither directly nor through a role, or through ROLE. */
function template(withRole: boolean): CfnTemplate {
  const key = String(withRole);
  let found = templates.get(key);
  if (!found) {
    found = synthesizeBackfillStack({
      backfill: { ...ALL_STRATEGIES_ALLOWED, ...(withRole ? { destinationRoleArns: [ROLE] } : {}) },
    });
    templates.set(key, found);
  }
  return found;
}

const run = (world: World, input: unknown, withRole: boolean): Promise<BackfillRunResult> =>
  runBackfillLocally({
    ecrEndpoint: world.emulator.endpoint,
    s3: world.s3,
    sourceRegion: SOURCE.region,
    account: ACCOUNT,
    putImageRatePerSecond: 1000,
    template: template(withRole),
    input,
  });

describe('a destination the run does not select, in another account its pushes reach', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('without access there: Plan refuses (DestinationAccountNotGranted), naming what to add, with nothing written', async () => {
    // Prepare
    world = await startWorld(fixture(), { replicationLatencyMs: 20 });
    world.emulator.allowReplication(ACCOUNT, OREGON);

    // Act
    const result = await run(world, SEOUL_ONLY, false);

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe(ERROR_NAMES.DestinationAccountNotGranted);
    expect(result.cause).toContain(
      `${OREGON.region} (${OTHER_ACCOUNT}) is not selected, but a push of team/api replicates there`,
    );
    expect(result.cause).toContain(`destinationRoleArns=<a role of account ${OTHER_ACCOUNT}>`);
    expect(result.cause).toContain(`directAccounts=${OTHER_ACCOUNT}`);
    expect(result.cause).toContain('Nothing was written');
    expect(writesIn(world.emulator.callLog.entries())).toEqual([]);
    const listed = await world.s3.client.send(new ListObjectsV2Command({ Bucket: result.runBucket }));
    expect(listed.KeyCount ?? 0).toBe(0);
    expect(tempTagsAnywhere(world.emulator.snapshot())).toEqual([]);
    expect(tagsOf(world.emulator.snapshot(), SEOUL).size).toBe(0);
  });

  it('without access there, a selection whose pushes never reach it runs: the refusal follows the rules, not the account alone', async () => {
    // Prepare
    world = await startWorld(fixture(), { replicationLatencyMs: 20 });
    world.emulator.allowReplication(ACCOUNT, OREGON);

    // Act: tools/ is replicated to Seoul only.
    const result = await run(world, { ...SEOUL_ONLY, repositories: ['tools/'] }, false);

    // Assess
    expect(result.status, result.cause).toBe('SUCCEEDED');
    const snapshot = world.emulator.snapshot();
    expect(tagsOf(snapshot, SEOUL).get('tools/cli:v2')).toBe(buildImage(TOOLS).digest);
    expect(tempTagsAnywhere(snapshot)).toEqual([]);
    expect(world.emulator.callLog.entries().filter((call) => call.account === OTHER_ACCOUNT)).toEqual([]);
  });

  it('with a role of that account: succeeds, every call there through the role, no temp tag left in any destination, selected or not', async () => {
    // Prepare
    world = await startWorld(fixture(), { replicationLatencyMs: 20 });
    world.emulator.allowReplication(ACCOUNT, OREGON);

    // Act
    const result = await run(world, SEOUL_ONLY, true);

    // Assess
    expect(result.status, result.cause).toBe('SUCCEEDED');
    const snapshot = world.emulator.snapshot();
    const api = buildImage(API).digest;
    expect(Object.fromEntries(tagsOf(snapshot, SEOUL))).toEqual({
      'team/api:v1': api,
      'team/api:latest': api,
      'tools/cli:v2': buildImage(TOOLS).digest,
    });
    // The pushes replicated to Oregon too: its copy is there, and the run's temp tags are gone from it.
    expect(tagsOf(snapshot, OREGON).get('team/api:v1')).toBe(api);
    expect(tempTagsAnywhere(snapshot)).toEqual([]);
    // Every call was allowed, and every call into Oregon's registry was a session of the role.
    const decisions = world.emulator.iamDecisions.entries();
    expect(decisions.filter((d) => !d.allowed)).toEqual([]);
    const inOregon = decisions.filter((d) =>
      d.resource.startsWith(`arn:aws:ecr:${OREGON.region}:${OTHER_ACCOUNT}:`),
    );
    expect(inOregon.map((d) => d.action)).toEqual(
      expect.arrayContaining(['ecr:BatchGetImage', 'ecr:DescribeImages', 'ecr:BatchDeleteImage']),
    );
    expect(inOregon.filter((d) => d.roleArn !== ROLE)).toEqual([]);
    // The steps that meet Oregon without selecting it assumed the role for it.
    const assumedBy = decisions
      .filter((d) => d.action === 'sts:AssumeRole' && d.resource === ROLE)
      .map((d) => /Functions([A-Za-z]+)Role/.exec(d.principal)?.[1]);
    expect(assumedBy).toEqual(expect.arrayContaining(['PushTempTags', 'RetagSourceTags', 'CleanupTempTags']));
    expect(
      world.emulator.callLog.entries().filter((call) => call.outcome === 'AccessDeniedException'),
    ).toEqual([]);
  });
});
