/**
 * What a child-workflow step's logic works with for one invocation: the batch's settings, a client
 * per registry (source, or a destination through its role), the PutImage limiter, clock and logger.
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { Logger } from '../../core/logger.ts';
import type { BatchInput, Destination, ItemResult, WorkItem } from '../../core/contracts/contracts.ts';
import type { Clock, StepDeps } from '../../core/deps.ts';
import { describeReplicationRules, type ReplicationRule, type RepositoryRef } from '../../core/ecr/ecr.ts';
import { ruleCoversRepository } from '../../core/contracts/patterns.ts';
import type { RunStore } from '../../core/run-files/run-store.ts';
import { putImageLimiter, type RateLimiter } from '../../core/ecr/rate-limit.ts';
import { UNLIMITED_BUDGET, type WorkBudget } from './work-budget.ts';

export interface RegistryHandle {
  client: ECRClient;
  region: string;
  registryId: string;
  /** PutImage pacing for this registry's Region. */
  limiter: RateLimiter;
  ref(repositoryName: string): RepositoryRef;
}

export interface StepContext {
  step: string;
  batch: BatchInput;
  clock: Clock;
  logger: Logger;
  runStore: RunStore;
  source: RegistryHandle;
  destination(destination: Pick<Destination, 'region' | 'registryId' | 'roleArn'>): RegistryHandle;
  /**
   * Every destination a push to this source repository replicates to, per the registry's current
   * replication rules (read once per invocation). This can be more than the item lists.
   */
  replicationDestinations(repositoryName: string): Promise<{ region: string; registryId: string }[]>;
  /**
   * Records the batch's progress part-way through a long step (throttled: batch-progress.ts); the
   * step handler records it anyway when the step ends. Absent outside a batch step handler.
   */
  progress?: (results: ItemResult[]) => Promise<void>;
  /** When a paced step must stop starting PutImage calls in this invocation (work-budget.ts). */
  budget: WorkBudget;
}

/**
 * The role for each destination registry (`registryId/region`) the batch may call. A push
 * replicates to every destination the rules name, so a step also meets destinations an item does
 * not list: one it was already complete in (another item of the batch lists it, with its role), or
 * one the run did not select, reached through the role Plan chose for it (BatchInput's
 * `reachedDestinations`, functions/plan/reached-destinations.ts). Plan refused the run if some
 * such destination could be reached neither directly nor through a role.
 */
export function rolesByRegistry(
  items: readonly WorkItem[],
  reached: readonly Destination[] = [],
): Map<string, string> {
  const roles = new Map<string, string>();
  for (const d of reached) if (d.roleArn) roles.set(`${d.registryId}/${d.region}`, d.roleArn);
  for (const item of items) {
    for (const d of item.destinations) if (d.roleArn) roles.set(`${d.registryId}/${d.region}`, d.roleArn);
  }
  return roles;
}

export function createStepContext(
  step: string,
  deps: StepDeps,
  batch: BatchInput,
  logger: Logger,
  knownRoles: ReadonlyMap<string, string> = new Map(),
  budget: WorkBudget = UNLIMITED_BUDGET,
): StepContext {
  const handles = new Map<string, RegistryHandle>();
  const handle = (region: string, registryId: string, roleArn?: string): RegistryHandle => {
    const key = `${registryId}/${region}/${roleArn ?? ''}`;
    let found = handles.get(key);
    if (!found) {
      found = {
        client: deps.ecr({ region, registryId, ...(roleArn ? { roleArn } : {}) }),
        region,
        registryId,
        limiter: putImageLimiter(region, deps.env.putImageRatePerSecond),
        ref: (repositoryName) => ({ registryId, repositoryName }),
      };
      handles.set(key, found);
    }
    return found;
  };
  let rules: Promise<ReplicationRule[]> | undefined;
  const replicationDestinations = async (repositoryName: string) => {
    rules ??= describeReplicationRules(handle(batch.sourceRegion, batch.sourceRegistryId).client);
    const found = new Map<string, { region: string; registryId: string }>();
    for (const rule of await rules.catch((error: unknown) => {
      rules = undefined;
      throw error;
    })) {
      if (!ruleCoversRepository(rule, repositoryName)) continue;
      for (const d of rule.destinations) found.set(`${d.registryId}/${d.region}`, d);
    }
    return [...found.values()];
  };
  return {
    replicationDestinations,
    step,
    batch,
    clock: deps.clock,
    logger,
    runStore: deps.runStore,
    budget,
    source: handle(batch.sourceRegion, batch.sourceRegistryId),
    destination: (d) =>
      handle(d.region, d.registryId, d.roleArn ?? knownRoles.get(`${d.registryId}/${d.region}`)),
  };
}
