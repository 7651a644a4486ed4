/**
 * CleanupTempTags: remove the run's temp tag in each destination the image reached (replication
 * carried it there, including destinations the item does not list; deletes are never replicated, so
 * each copy is cleaned where it is) and then in the source. The image's tags are re-read right before
 * each delete, because removing an image's last tag deletes the image (botocore ECR model):
 * - in the **source** the temp tag goes only where the image keeps another tag: a source image is
 *   never deleted (design §3.2 invariant 1);
 * - in a **destination** where the temp tag is the copy's only tag, the copy goes too — but only a
 *   copy the run itself brought (the digest was not there before) and that no tag needs (every tag
 *   there ended CONFLICT, MOVED or SOURCE_GONE). A copy that may have been there before is left.
 *
 * Left in place, on purpose:
 * - an untagged image's temp tag: it is the image's **marker tag** (design §3.2 invariant 7) in the
 *   source and in every destination, named `<tempTagPrefix><run hash>-<digest hex>` so users can find
 *   such images (see temp-tags.ts);
 * - a source temp tag that became the image's only tag (a third party moved every tag away);
 * - temp tags while a destination's replication is still pending (TIMEOUT): a late copy would bring
 *   the temp tag after the cleanup; FinishBatch's re-evaluation or a redrive cleans it up later.
 * Idempotent: an absent temp tag is done.
 */
import type { BatchState, DestinationResult, ItemResult, WorkItem } from '../shared/contracts.ts';
import {
  destinationTarget,
  digestWasPresent,
  indexesByRepository,
  isMarkerItem,
  isSourceGone,
  NOT_DELIVERED,
  replicationSettled,
  resultsOf,
} from '../shared/batch-results.ts';
import { deleteTags, describeImageTags, resolveTags } from '../shared/ecr.ts';
import { awsErrorName } from '../shared/errors.ts';
import { ItemErrors } from '../shared/item-errors.ts';
import { imageKeys } from '../shared/logger.ts';
import type { RegistryHandle, StepContext } from '../shared/step-context.ts';

export type CleanupAction = 'deleted' | 'deleted-copy' | 'absent' | 'kept-last-tag';

/**
 * Deletes the temp tag from the image in one registry, after re-reading the image's tags: when it is
 * the last tag, only if `mayRemoveCopy` (and the image goes with it).
 */
async function cleanupIn(
  ctx: StepContext,
  handle: RegistryHandle,
  item: WorkItem,
  result: ItemResult,
  where: string,
  mayRemoveCopy: boolean,
): Promise<CleanupAction> {
  const ref = handle.ref(item.repositoryName);
  const tags = await describeImageTags(handle.client, ref, item.imageDigest);
  if (!tags?.includes(result.tempTag)) return 'absent';
  const last = !tags.some((tag) => tag !== result.tempTag);
  if (last && !mayRemoveCopy) {
    ctx.logger.warn('temp tag is the image’s only tag; kept so the image is not deleted', {
      ...imageKeys(item.repositoryName, item.imageDigest),
      where,
      tempTag: result.tempTag,
    });
    return 'kept-last-tag';
  }
  const deleted = await deleteTags(handle.client, ref, [result.tempTag]);
  if (deleted.deleted.length === 0) return 'absent';
  return last ? 'deleted-copy' : 'deleted';
}

/** The copy in this destination is the run's own and serves no tag: it may go with its temp tag. */
const removableCopy = (item: WorkItem, j: number, destination: DestinationResult): boolean =>
  !digestWasPresent(item, j, destination) &&
  Object.values(destination.tags).every((outcome) => NOT_DELIVERED.has(outcome));

/** Per registry (`registryId/region`), where each candidate's temp tag points now: one read per registry. */
async function readTempTags(
  ctx: StepContext,
  repositoryName: string,
  candidates: readonly number[],
  state: BatchState,
  results: readonly ItemResult[],
): Promise<Map<string, Map<string, string | undefined>>> {
  const byRegistry = new Map<string, { handle: RegistryHandle; tempTags: string[]; extra: boolean }>();
  const add = (handle: RegistryHandle, tempTag: string, extra: boolean) => {
    const key = `${handle.registryId}/${handle.region}`;
    const entry = byRegistry.get(key) ?? { handle, tempTags: [], extra };
    entry.tempTags.push(tempTag);
    byRegistry.set(key, entry);
  };
  for (const i of candidates) {
    const result = results[i]!;
    add(ctx.source, result.tempTag, false);
    for (const [j, destination] of result.destinations.entries()) {
      if (!replicationSettled(destination)) continue;
      add(
        ctx.destination(destinationTarget(state.Items[i]!, j, destination)),
        result.tempTag,
        destination.extra === true,
      );
    }
  }
  const found = new Map<string, Map<string, string | undefined>>();
  for (const [key, { handle, tempTags, extra }] of byRegistry) {
    try {
      found.set(key, await resolveTags(handle.client, handle.ref(repositoryName), tempTags));
    } catch (error) {
      // A destination the run did not select may be another account it has no role for.
      if (!extra || awsErrorName(error) !== 'AccessDeniedException') throw error;
      ctx.logger.warn('cannot clean temp tags in a destination the run did not select (no access)', {
        repository: repositoryName,
        destination: key,
      });
    }
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
          const handle = ctx.destination(destinationTarget(item, j, destination));
          if (!replicationSettled(destination) || !carries(handle, item, result)) continue;
          const action = await cleanupIn(
            ctx,
            handle,
            item,
            result,
            destination.region,
            removableCopy(item, j, destination),
          );
          if (action.startsWith('deleted')) {
            ctx.logger.info('removed temp tag in destination', {
              ...keys,
              region: destination.region,
              action,
            });
          }
        }
        const stillReplicating = result.destinations.some(
          (d) => d.replication === 'PENDING' || d.replication === 'TIMEOUT',
        );
        if (stillReplicating || !carries(ctx.source, item, result)) continue;
        const action = await cleanupIn(ctx, ctx.source, item, result, 'source', false);
        if (action === 'deleted') ctx.logger.info('removed temp tag in source', keys);
      } catch (error) {
        errors.record(error, 'cleaning up temp tags', keys);
      }
    }
  }

  errors.throwIfAny();
  return { ...state, results };
}
