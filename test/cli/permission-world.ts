/**
 * The local world both CLI-permission tests run commands in (test/cli/permissions.test.ts proves a
 * command's policy suffices and each action is needed; test/cli/permission-calls.test.ts that each
 * call is declared): IAM enforced by the ECR emulator, a replication rule to Seoul and to another
 * account's Oregon reached through the documented role, and an operator holding only a policy.
 */
import { tempTagFor } from '../../core/ecr/temp-tags.ts';
import {
  allowAccountsPolicy,
  CROSS_ACCOUNT_BACKFILL_ACTIONS,
  EcrEmulator,
} from '../../local/ecr-emulator/index.ts';
import { buildDockerImage, buildOciIndex } from '../../local/ecr-emulator/images.ts';
import { IAM_PRINCIPALS_PATH } from '../../local/ecr-emulator/iam/principals.ts';
import { documentedDestinationRole } from '../../local/runner/iam.ts';

export const SOURCE = 'ap-south-1';
export const SEOUL = 'ap-northeast-2';
export const OREGON = 'us-west-2';
export const ACCOUNT = '111111111111';
export const OTHER = '222222222222';
export const ROLE = `arn:aws:iam::${OTHER}:role/EcrBackfillWriter`;
export const OPERATOR = `arn:aws:sts::${ACCOUNT}:assumed-role/Operator/cli`;
export const RUN = 'run-0001';

/**
 * The emulator, listening: team/api (v1, latest), a multi-platform team/web (with untagged images
 * selected, plan reads its index), and a temp tag of RUN left in the source and in Seoul (what
 * cleanup removes).
 */
export async function startPermissionWorld(): Promise<EcrEmulator> {
  const world = await new EcrEmulator({
    account: ACCOUNT,
    quotaScale: Infinity,
    replicationLatencyMs: 0,
    fixture: {
      accounts: [
        {
          id: ACCOUNT,
          regions: [
            {
              region: SOURCE,
              replicationConfiguration: {
                rules: [
                  {
                    destinations: [
                      { region: SEOUL, registryId: ACCOUNT },
                      { region: OREGON, registryId: OTHER },
                    ],
                  },
                ],
              },
            },
          ],
        },
        {
          id: OTHER,
          roles: [documentedDestinationRole('EcrBackfillWriter', ACCOUNT)],
          regions: [
            {
              region: OREGON,
              registryPolicy: allowAccountsPolicy([ACCOUNT], CROSS_ACCOUNT_BACKFILL_ACTIONS),
            },
          ],
        },
      ],
    },
  }).listen(0);
  const pushed = buildDockerImage('pushed');
  world.seedImage({ region: SOURCE, repository: 'team/api' }, buildDockerImage('api-1'), {
    tags: ['v1', 'latest'],
  });
  world.seedImage({ region: SOURCE, repository: 'team/web' }, buildOciIndex('web-1'), { tags: ['v2'] });
  const temp = tempTagFor('ecr-backfill-', RUN, pushed.digest);
  world.seedImage({ region: SOURCE, repository: 'team/api' }, pushed, { tags: ['v2', temp] });
  world.seedImage({ region: SEOUL, repository: 'team/api' }, pushed, { tags: ['v2', temp] });
  return world;
}

let operators = 0;

/** Registers an operator of the source account holding exactly `policy`; returns its access key id. */
export async function registerOperator(world: EcrEmulator, policy: Record<string, unknown>): Promise<string> {
  operators += 1;
  const accessKeyId = `ASIAOPERATOR${String(operators).padStart(4, '0')}${ACCOUNT}`;
  const response = await fetch(new URL(IAM_PRINCIPALS_PATH, world.endpoint), {
    method: 'POST',
    body: JSON.stringify({
      principals: [
        { accessKeyId, arn: OPERATOR, account: ACCOUNT, identityPolicies: [{ name: 'Cli', policy }] },
      ],
    }),
  });
  if (response.status !== 200) throw new Error(`registering an operator failed: ${response.status}`);
  return accessKeyId;
}
