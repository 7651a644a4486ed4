/**
 * A batch's work, grouped per destination registry and repository: the unit the batched reads of
 * PromoteTags and VerifyDigests share (one BatchGetImage takes up to 100 image ids of one repository).
 */
import type {
  BatchState,
  DestinationResult,
  ItemResult,
  TagOutcome,
  WorkItem,
} from '../../core/contracts/contracts.ts';
import {
  destinationTarget,
  isSourceGone,
  replicationSettled,
  tagsWithOutcome,
} from '../../core/batch/batch-results.ts';
import { pairItemsWithResults } from '../../core/batch/item-pairs.ts';
import type { RegistryHandle, StepContext } from './step-context.ts';

/** One item's tags with the wanted outcomes, in one destination. */
export interface DestinationTags {
  item: WorkItem;
  destination: DestinationResult;
  tags: string[];
}

/** Everything of the batch that one destination registry's repository is concerned by, in batch order. */
export interface DestinationRepositoryGroup {
  handle: RegistryHandle;
  repositoryName: string;
  entries: DestinationTags[];
}

/**
 * The tags with one of `outcomes`, of every item still in the source, in every destination its image
 * reached (replication settled), grouped per destination registry and repository.
 */
export function groupByDestinationRepository(
  ctx: StepContext,
  state: BatchState,
  results: readonly ItemResult[],
  outcomes: ReadonlySet<TagOutcome>,
): DestinationRepositoryGroup[] {
  const groups = new Map<string, DestinationRepositoryGroup>();
  for (const { item, result } of pairItemsWithResults(state.Items, results)) {
    if (isSourceGone(result)) continue;
    for (const [j, destination] of result.destinations.entries()) {
      if (!replicationSettled(destination)) continue;
      const tags = tagsWithOutcome(destination, outcomes);
      if (tags.length === 0) continue;
      const handle = ctx.destination(destinationTarget(item, j, destination));
      const key = `${handle.registryId}/${handle.region}/${item.repositoryName}`;
      const group = groups.get(key) ?? { handle, repositoryName: item.repositoryName, entries: [] };
      group.entries.push({ item, destination, tags });
      groups.set(key, group);
    }
  }
  return [...groups.values()];
}
