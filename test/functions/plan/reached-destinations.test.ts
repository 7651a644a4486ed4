/**
 * How Plan reaches the destinations a run does not select but its pushes replicate to
 * (functions/plan/reached-destinations.ts): directly in the source account and `directAccounts`,
 * else through a role of the destination's account (the input's, then the deployment's), else
 * refused when a selected repository's push would go there. The workflow test
 * (test/workflow/unselected-destinations.test.ts) runs it end to end.
 */
import { ECRClient, type ReplicationRule } from '@aws-sdk/client-ecr';
import { describe, expect, it } from 'vitest';
import type { RunConfig } from '../../../core/contracts/contracts.ts';
import { DEFAULT_RUN_POLICY } from '../../../core/contracts/run-policy.ts';
import type { EcrClientProvider } from '../../../core/deps.ts';
import { ERROR_NAMES } from '../../../core/errors/error-names.ts';
import { reachedDestinations } from '../../../functions/plan/reached-destinations.ts';

const SOURCE_ACCOUNT = '111111111111';
const OTHER = '222222222222';
const THIRD = '333333333333';
const SEOUL = { region: 'ap-northeast-2', registryId: SOURCE_ACCOUNT };
const OREGON = { region: 'us-west-2', registryId: OTHER };
const IRELAND = { region: 'eu-west-1', registryId: OTHER };
const TOKYO = { region: 'ap-northeast-1', registryId: THIRD };
const OTHER_ROLE = `arn:aws:iam::${OTHER}:role/writer`;
const THIRD_ROLE = `arn:aws:iam::${THIRD}:role/writer`;

const RULES: ReplicationRule[] = [
  { destinations: [SEOUL, { region: 'us-east-2', registryId: SOURCE_ACCOUNT }] },
  { destinations: [OREGON, IRELAND], repositoryFilters: [{ filter: 'team/', filterType: 'PREFIX_MATCH' }] },
  { destinations: [TOKYO], repositoryFilters: [{ filter: 'team/tokyo', filterType: 'PREFIX_MATCH' }] },
];

function config(overrides: Partial<RunConfig> = {}): RunConfig {
  return {
    sourceRegion: 'us-east-1',
    sourceRegistryId: SOURCE_ACCOUNT,
    destinations: [SEOUL],
    repositories: [],
    tags: [],
    excludeTags: [],
    includeUntagged: false,
    includeArchived: false,
    strategy: 'retag-source',
    method: 'repush',
    dryRun: false,
    maxConcurrency: 1,
    batchSize: 10,
    toleratedFailurePercentage: 0,
    replicationTimeoutMinutes: 30,
    replicationWaitSeconds: 0,
    tempTagPrefix: 'ecr-backfill-',
    overwriteConflicts: false,
    planSliceSize: 100,
    ...overrides,
  };
}

/** A source registry listing these repositories in one page (answered in the client); counts the listings. */
function registry(repositories: string[]): { ecr: EcrClientProvider; listings: () => number } {
  let listings = 0;
  const client = new ECRClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
  });
  client.middlewareStack.add(
    () => () => {
      listings += 1;
      return Promise.resolve({
        output: { $metadata: {}, repositories: repositories.map((repositoryName) => ({ repositoryName })) },
        response: {},
      });
    },
    { step: 'initialize' },
  );
  return { ecr: () => client, listings: () => listings };
}

describe('the destinations a run reaches without selecting them', () => {
  it('reaches the source account and directAccounts directly, another account through its role, without listing anything', async () => {
    // Prepare
    const source = registry(['team/tokyo-api']);

    // Act
    const reached = await reachedDestinations(source.ecr, config(), RULES, DEFAULT_RUN_POLICY, {
      directAccounts: [THIRD],
      destinationRoleArns: [`arn:aws:iam::${OTHER}:role/*`, OTHER_ROLE],
    });

    // Assess: the deployment's literal role of the account, never a pattern; no listing needed.
    expect(reached).toEqual([
      { region: 'us-east-2', registryId: SOURCE_ACCOUNT },
      { ...OREGON, roleArn: OTHER_ROLE },
      { ...IRELAND, roleArn: OTHER_ROLE },
      TOKYO,
    ]);
    expect(source.listings()).toBe(0);
  });

  it("prefers the role the input gave a selected destination of the same account over the deployment's", async () => {
    // Prepare
    const inputRole = `arn:aws:iam::${OTHER}:role/chosen`;
    const source = registry([]);

    // Act
    const reached = await reachedDestinations(
      source.ecr,
      config({ destinations: [SEOUL, { ...OREGON, roleArn: inputRole }] }),
      RULES,
      DEFAULT_RUN_POLICY,
      { directAccounts: [THIRD], destinationRoleArns: [OTHER_ROLE] },
    );

    // Assess
    expect(reached).toContainEqual({ ...IRELAND, roleArn: inputRole });
    expect(reached.some((d) => d.region === OREGON.region)).toBe(false);
  });

  it('refuses, naming the destination, a repository whose push reaches it and what to add, when no way in exists', async () => {
    // Prepare: Tokyo's account is reached neither directly nor through a role.
    const source = registry(['apps/web', 'team/tokyo-api']);

    // Act
    const refused = reachedDestinations(source.ecr, config(), RULES, DEFAULT_RUN_POLICY, {
      directAccounts: [],
      destinationRoleArns: [OTHER_ROLE],
    });

    // Assess
    await expect(refused).rejects.toMatchObject({ name: ERROR_NAMES.DestinationAccountNotGranted });
    const message = await refused.catch((error: Error) => error.message);
    expect(message).toContain(
      `ap-northeast-1 (${THIRD}) is not selected, but a push of team/tokyo-api replicates there`,
    );
    expect(message).toContain(`directAccounts=${THIRD}`);
    expect(message).toContain(`destinationRoleArns=<a role of account ${THIRD}>`);
    expect(message).not.toContain(OREGON.region);
  });

  it('runs when no selected repository replicates to the unreachable destination, and carries it nowhere', async () => {
    // Prepare: team/tokyo-api exists but the selection keeps apps/ only.
    const source = registry(['apps/web', 'team/tokyo-api']);

    // Act
    const reached = await reachedDestinations(
      source.ecr,
      config({ repositories: ['apps/'] }),
      RULES,
      DEFAULT_RUN_POLICY,
      { directAccounts: [], destinationRoleArns: [OTHER_ROLE, THIRD_ROLE.replace('writer', '*')] },
    );

    // Assess
    expect(source.listings()).toBe(1);
    expect(reached.map((d) => d.region)).toEqual(['us-east-2', OREGON.region, IRELAND.region]);
  });
});
