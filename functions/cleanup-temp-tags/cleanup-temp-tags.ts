/**
 * CleanupTempTags: remove the run's temp tag in each destination the image reached (replication
 * carried it there; deletes are never replicated, so each copy is cleaned where it is) and then in the
 * source — but only where the image keeps another tag: removing an image's last tag deletes the image
 * (botocore ECR model), so the image's tags are re-read right before each delete.
 *
 * Left in place, on purpose:
 * - an untagged image's temp tag: it is the image's **marker tag** (design §3.2 invariant 7) in the
 *   source and in every destination, named `<tempTagPrefix><run hash>-<digest hex>` so users can find
 *   such images (see temp-tags.ts);
 * - a temp tag that is an image's only tag anywhere (e.g. every original tag was a CONFLICT there);
 * - temp tags while a destination's replication is still pending (TIMEOUT): a late copy would bring
 *   the temp tag after the cleanup; FinishBatch's re-evaluation or a redrive cleans it up later.
 * Idempotent: an absent temp tag is done.
 */
import type { BatchState, ItemResult, WorkItem } from '../shared/contracts.ts';
import {
  indexesByRepository,
  isMarkerItem,
  isSourceGone,
  replicationSettled,
  resultsOf,
} from '../shared/batch-results.ts';
import { deleteTags, describeImageTags, resolveTags } from '../shared/ecr.ts';
import { ItemErrors } from '../shared/item-errors.ts';
import { imageKeys } from '../shared/logger.ts';
import type { RegistryHandle, StepContext } from '../shared/step-context.ts';

export type CleanupAction = 'deleted' | 'absent' | 'kept-last-tag';

/** Deletes the temp tag from the image in one registry if (re-checked now) it has another tag. */
async function cleanupIn(
  ctx: StepContext,
  handle: RegistryHandle,
  item: WorkItem,
  result: ItemResult,
  where: string,
): Promise<CleanupAction> {
  const ref = handle.ref(item.repositoryName);
  const tags = await describeImageTags(handle.client, ref, item.imageDigest);
  if (!tags?.includes(result.tempTag)) return 'absent';
  if (!tags.some((tag) => tag !== result.tempTag)) {
    ctx.logger.warn('temp tag is the image’s only tag; kept so the image is not deleted', {
      ...imageKeys(item.repositoryName, item.imageDigest),
      where,
      tempTag: result.tempTag,
    });
    return 'kept-last-tag';
  }
  const deleted = await deleteTags(handle.client, ref, [result.tempTag]);
  return deleted.deleted.length > 0 ? 'deleted' : 'absent';
}

/** Per registry (`registryId/region`), where each candidate's temp tag points now: one read per registry. */
async function readTempTags(
  ctx: StepContext,
  repositoryName: string,
  candidates: readonly number[],
  state: BatchState,
  results: readonly ItemResult[],
): Promise<Map<string, Map<string, string | undefined>>> {
  const byRegistry = new Map<string, { handle: RegistryHandle; tempTags: string[] }>();
  const add = (handle: RegistryHandle, tempTag: string) => {
    const key = `${handle.registryId}/${handle.region}`;
    const entry = byRegistry.get(key) ?? { handle, tempTags: [] };
    entry.tempTags.push(tempTag);
    byRegistry.set(key, entry);
  };
  for (const i of candidates) {
    const result = results[i]!;
    add(ctx.source, result.tempTag);
    for (const [j, destination] of result.destinations.entries()) {
      if (replicationSettled(destination))
        add(ctx.destination(state.Items[i]!.destinations[j]!), result.tempTag);
    }
  }
  const found = new Map<string, Map<string, string | undefined>>();
  for (const [key, { handle, tempTags }] of byRegistry) {
    found.set(key, await resolveTags(handle.client, handle.ref(repositoryName), tempTags));
  }
  return found;
}

export async function cleanupTempTags(ctx: StepContext, state: BatchState): Promise<BatchState> {
  const results = resultsOf(state);
  const errors = new ItemErrors(ctx.logger, ctx.step);

  for (const [repositoryName, indexes] of indexesByRepository(state.Items)) {
    const candidates = indexes.filter((i) => !isSourceGone(results[i]!) && !isMarkerItem(state.Items[i]!));
    if (candidates.length === 0) continue;
    let present: Map<string, Map<string, string | undefined>>;
    try {
      present = await readTempTags(ctx, repositoryName, candidates, state, results);
    } catch (error) {
      errors.record(error, 'reading temp tags', { repository: repositoryName });
      continue;
    }
    const carries = (handle: RegistryHandle, item: WorkItem, result: ItemResult) =>
      present.get(`${handle.registryId}/${handle.region}`)?.get(result.tempTag) === item.imageDigest;

    for (const i of candidates) {
      const item = state.Items[i]!;
      const result = results[i]!;
      const keys = imageKeys(item.repositoryName, item.imageDigest);
      try {
        for (const [j, destination] of result.destinations.entries()) {
          const handle = ctx.destination(item.destinations[j]!);
          if (!replicationSettled(destination) || !carries(handle, item, result)) continue;
          const action = await cleanupIn(ctx, handle, item, result, destination.region);
          if (action === 'deleted')
            ctx.logger.info('removed temp tag in destination', { ...keys, region: destination.region });
        }
        const stillReplicating = result.destinations.some(
          (d) => d.replication === 'PENDING' || d.replication === 'TIMEOUT',
        );
        if (stillReplicating || !carries(ctx.source, item, result)) continue;
        const action = await cleanupIn(ctx, ctx.source, item, result, 'source');
        if (action === 'deleted') ctx.logger.info('removed temp tag in source', keys);
      } catch (error) {
        errors.record(error, 'cleaning up temp tags', keys);
      }
    }
  }

  errors.throwIfAny();
  return { ...state, results };
}
