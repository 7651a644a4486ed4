/**
 * A batch's items paired with their results. A child step's state carries `Items` and `results` as
 * two arrays aligned by index (BatchState); the steps walk them together through these pairs, checked
 * once here, instead of matching `Items[i]` with `results[i]` themselves.
 */
import type { ItemResult, WorkItem } from '../contracts/contracts.ts';
import { BatchWiringError } from '../errors/errors.ts';

/** One item of the batch and the result that belongs to it. */
export interface ItemWithResult {
  readonly item: WorkItem;
  readonly result: ItemResult;
}

/** The pairs, or why `results` do not belong to `items` (another length, another image somewhere). */
function pairOrExplain(
  items: readonly WorkItem[],
  results: readonly ItemResult[],
): { pairs: ItemWithResult[] } | { problem: string } {
  if (items.length !== results.length)
    return { problem: `${items.length} item(s) but ${results.length} result(s)` };
  const pairs: ItemWithResult[] = [];
  for (const [i, item] of items.entries()) {
    const result = results[i];
    if (result?.repositoryName !== item.repositoryName || result.imageDigest !== item.imageDigest) {
      return {
        problem: `result ${i} is for ${result?.repositoryName}@${result?.imageDigest}, its item is ${item.repositoryName}@${item.imageDigest}`,
      };
    }
    pairs.push({ item, result });
  }
  return { pairs };
}

/** Whether `results` belong to `items`: one per item, for the same repository and digest, in order. */
export const resultsMatchItems = (items: readonly WorkItem[], results: readonly ItemResult[]): boolean =>
  'pairs' in pairOrExplain(items, results);

/**
 * Each item with its result. Results that do not belong to the items (another length, another image
 * at some place) are a wiring bug, not a state of the registry: BatchWiringError, never retried.
 */
export function pairItemsWithResults(
  items: readonly WorkItem[],
  results: readonly ItemResult[],
): ItemWithResult[] {
  const paired = pairOrExplain(items, results);
  if ('problem' in paired)
    throw new BatchWiringError(`results do not pair with the batch's items: ${paired.problem}`);
  return paired.pairs;
}

/** The pairs grouped by repository (in first-seen order, each group in batch order), so reads can be batched. */
export function pairsByRepository(pairs: readonly ItemWithResult[]): Map<string, ItemWithResult[]> {
  const groups = new Map<string, ItemWithResult[]>();
  for (const pair of pairs) {
    const group = groups.get(pair.item.repositoryName);
    if (group) group.push(pair);
    else groups.set(pair.item.repositoryName, [pair]);
  }
  return groups;
}
