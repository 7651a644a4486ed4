/**
 * The destinations a run reaches without selecting them. A push in the source replicates to every
 * destination of every replication rule that covers the repository, whatever the execution
 * selected: "each rule's destinations receive the images of the repositories its filters match"
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html). So the run's temp tag
 * lands in an unselected destination too, and the batch steps must read it there (PushTempTags,
 * RetagSourceTags' conflict check) and remove it (CleanupTempTags) — calls AWS only allows when
 * the deployment reaches that registry.
 *
 * The design: Plan decides, before anything is written, how each such destination is reached —
 * directly (the source account, or an account of the construct's `directAccounts`), or through a
 * role of its account (a roleArn the input gave a selected destination of that account, else one
 * of the deployment's `destinationRoleArns`). The run carries the answer in its BatchInput
 * (`reachedDestinations`), so the steps call each one as the deployment may. A destination reached
 * neither way is refused (DestinationAccountNotGranted) when a selected repository's push would
 * reach it: the run's temp tags would stay there, since no step could remove them.
 */
import { paginateDescribeRepositories, type ReplicationRule } from '@aws-sdk/client-ecr';
import type { Destination, RunConfig } from '../../core/contracts/contracts.ts';
import { configuredDestinations } from '../../core/contracts/destinations.ts';
import { describeDestination, ROLE_ARN_PATTERN } from '../../core/contracts/input-schema.ts';
import { repositoryCoveredFor } from '../../core/contracts/patterns.ts';
import { scopedRepositoryMatcher, type RunPolicy } from '../../core/contracts/run-policy.ts';
import type { EcrClientProvider } from '../../core/deps.ts';
import { DestinationAccountNotGrantedError, toStepError } from '../../core/errors/errors.ts';
import { directAccessGrant } from './destination-policies.ts';

/** DescribeRepositories page size: ECR's maximum. */
const PAGE_SIZE = 1000;

/** How the deployment may reach other accounts: directly, or through the roles it may assume. */
export interface DeploymentReach {
  directAccounts: readonly string[];
  destinationRoleArns: readonly string[];
}

const keyOf = (d: { region: string; registryId: string }) => `${d.registryId}/${d.region}`;
const accountOfRole = (roleArn: string) => roleArn.split(':')[4];

/**
 * The role through which an unselected destination is called, `undefined` for directly: the
 * source account and `directAccounts` directly; otherwise the roleArn the input gave a selected
 * destination of the same account (IAM is global: a role of an account reaches its registries in
 * every Region), else the first literal one of the deployment's roles in that account. `null`:
 * not reachable.
 */
function reachOf(
  destination: Destination,
  config: RunConfig,
  reach: DeploymentReach,
): string | undefined | null {
  if (destination.registryId === config.sourceRegistryId) return undefined;
  if (reach.directAccounts.includes(destination.registryId)) return undefined;
  const fromInput = config.destinations.find(
    (d) => d.registryId === destination.registryId && d.roleArn !== undefined,
  )?.roleArn;
  if (fromInput !== undefined) return fromInput;
  // Only a literal role ARN of that account: a pattern or an unresolved token names no role to assume.
  return (
    reach.destinationRoleArns.find(
      (arn) => ROLE_ARN_PATTERN.test(arn) && accountOfRole(arn) === destination.registryId,
    ) ?? null
  );
}

/**
 * The run's reached destinations: every configured destination it does not select, with the role
 * each is reached through. Throws DestinationAccountNotGranted, naming what to add, when a push of
 * a selected repository would reach one the deployment cannot reach; lists the source's
 * repositories for that only when some destination is unreachable (reads only: nothing is written).
 */
export async function reachedDestinations(
  ecr: EcrClientProvider,
  config: RunConfig,
  rules: readonly ReplicationRule[],
  policy: RunPolicy,
  reach: DeploymentReach,
): Promise<Destination[]> {
  const selected = new Set(config.destinations.map(keyOf));
  const reached: Destination[] = [];
  const unreachable: Destination[] = [];
  for (const destination of configuredDestinations(rules)) {
    if (selected.has(keyOf(destination))) continue;
    const roleArn = reachOf(destination, config, reach);
    if (roleArn === null) unreachable.push(destination);
    else reached.push({ ...destination, ...(roleArn !== undefined && { roleArn }) });
  }
  if (unreachable.length === 0) return reached;

  const examples = await pushesReaching(ecr, config, rules, policy, unreachable);
  if (examples.size === 0) return reached; // No selected repository replicates there: never reached.
  const refusals = [...examples].map(([key, repository]) => {
    const d = unreachable.find((u) => keyOf(u) === key)!;
    return (
      `${describeDestination(d)} is not selected, but a push of ${repository} replicates there (its replication rule covers it), ` +
      `and this deployment cannot reach account ${d.registryId} to remove the run's temp tag: ` +
      `deploy with -c destinationRoleArns=<a role of account ${d.registryId}> (or give a selected destination of that account its roleArn), ` +
      `or deploy with -c directAccounts=${d.registryId} and add to that account's registry policy in ${d.region}: ` +
      directAccessGrant(config.sourceRegistryId, d.registryId)
    );
  });
  throw new DestinationAccountNotGrantedError(
    `${refusals.join('; ')}. Nothing was written; start a new execution once it is granted.`,
  );
}

/**
 * For each unreachable destination some push would reach, one selected repository whose push goes
 * there: a repository the selection and the deployment's scope keep, that a rule replicates to a
 * selected destination (so the run may push it), and that a rule also replicates to that destination.
 */
async function pushesReaching(
  ecr: EcrClientProvider,
  config: RunConfig,
  rules: readonly ReplicationRule[],
  policy: RunPolicy,
  unreachable: readonly Destination[],
): Promise<Map<string, string>> {
  const selects = scopedRepositoryMatcher(config.repositories, policy);
  const examples = new Map<string, string>();
  const client = ecr({ region: config.sourceRegion });
  try {
    const pages = paginateDescribeRepositories(
      { client, pageSize: PAGE_SIZE },
      { registryId: config.sourceRegistryId, maxResults: PAGE_SIZE },
    );
    for await (const page of pages) {
      for (const { repositoryName: name } of page.repositories ?? []) {
        if (name === undefined || !selects(name)) continue;
        if (!config.destinations.some((d) => repositoryCoveredFor(rules, name, d))) continue;
        for (const d of unreachable) {
          if (examples.has(keyOf(d))) continue;
          if (repositoryCoveredFor(rules, name, d)) examples.set(keyOf(d), name);
        }
        if (examples.size === unreachable.length) return examples;
      }
    }
  } catch (error) {
    throw toStepError(error, `ECR DescribeRepositories in ${config.sourceRegion}`);
  }
  return examples;
}
