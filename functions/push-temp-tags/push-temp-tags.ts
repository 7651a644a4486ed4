/**
 * PushTempTags: re-push each image's exact manifest under the run's temp tag, so ECR counts a push
 * and replicates the image to every destination (design §3.1 step 3.1). One temp tag per digest.
 *
 * Idempotent without any state of its own: the temp tag is deterministic, so a retry, a crash-rerun
 * or a redrive first reads it (one BatchGetImage per repository for the whole batch) and skips every
 * image that already carries it — no second PutImage for work already done.
 */
import type { BatchState, ItemResult, WorkItem } from '../shared/contracts.ts';
import {
  indexesByRepository,
  isMarkerItem,
  isSourceGone,
  markSourceGone,
  resultsOf,
  setTagOutcomes,
} from '../shared/batch-results.ts';
import { getManifestByDigest, putManifest, resolveTag, resolveTags } from '../shared/ecr.ts';
import { ItemErrors } from '../shared/item-errors.ts';
import { imageKeys } from '../shared/logger.ts';
import type { StepContext } from '../shared/step-context.ts';

/** The temp tag points to another digest: it is never moved, and the image cannot be backfilled. */
export const TEMP_TAG_CONFLICT = 'TEMP_TAG_CONFLICT';

/**
 * Whether anything must travel by replication: a digest missing in some destination, tags that
 * retag-source will carry, or an untagged image's marker tag.
 */
export function needsPush(item: WorkItem, strategy: BatchState['BatchInput']['strategy']): boolean {
  if (isMarkerItem(item)) return item.destinations.length > 0;
  if (item.destinations.some((d) => !d.digestPresent)) return true;
  return strategy === 'retag-source' && item.destinations.some((d) => d.tags.length > 0);
}

function markTempTagConflict(result: ItemResult): void {
  for (const destination of result.destinations) {
    destination.replication = 'FAILED';
    destination.failureCode = TEMP_TAG_CONFLICT;
    setTagOutcomes(destination, new Set(['PENDING', 'BACKFILLED']), 'REPLICATION_FAILED');
  }
}

/** Marks the untagged image's marker tag as carried by the push (CheckReplication confirms it arrives). */
function markMarkerCarried(item: WorkItem, result: ItemResult): void {
  if (!isMarkerItem(item)) return;
  for (const destination of result.destinations)
    setTagOutcomes(destination, new Set(['PENDING']), 'BACKFILLED');
}

/**
 * Adds the destinations this push replicates to that the item does not list (see
 * DestinationResult.extra): the temp tag lands there too, so it must be waited for and cleaned up.
 * Whether the digest was already there decides whether cleanup may remove a copy whose only tag is
 * the temp tag; after an earlier attempt pushed, a copy there may be ours, so it stays "unknown".
 */
async function addExtraDestinations(
  ctx: StepContext,
  item: WorkItem,
  result: ItemResult,
  pushedBefore: boolean,
): Promise<void> {
  for (const d of await ctx.replicationDestinations(item.repositoryName)) {
    if (result.destinations.some((r) => r.region === d.region && r.registryId === d.registryId)) continue;
    let digestPresent: boolean | undefined;
    try {
      const handle = ctx.destination(d);
      const there = await getManifestByDigest(
        handle.client,
        handle.ref(item.repositoryName),
        item.imageDigest,
      );
      digestPresent = there === undefined ? false : pushedBefore ? undefined : true;
    } catch (error) {
      // Unreadable (another account, no role known): unknown, so cleanup never removes a copy there.
      ctx.logger.warn('cannot read an extra replication destination', {
        ...imageKeys(item.repositoryName, item.imageDigest),
        region: d.region,
        registryId: d.registryId,
        error: String(error),
      });
    }
    result.destinations.push({
      region: d.region,
      registryId: d.registryId,
      replication: 'PENDING',
      tags: {},
      extra: true,
      ...(digestPresent !== undefined ? { digestPresent } : {}),
    });
  }
}

export async function pushTempTags(ctx: StepContext, state: BatchState): Promise<BatchState> {
  const results = resultsOf(state);
  const errors = new ItemErrors(ctx.logger, ctx.step);
  const { source } = ctx;

  for (const [repositoryName, indexes] of indexesByRepository(state.Items)) {
    const ref = source.ref(repositoryName);
    const toPush: number[] = [];
    for (const i of indexes) {
      const result = results[i]!;
      if (isSourceGone(result) || result.pushedAt !== undefined) continue;
      if (needsPush(state.Items[i]!, ctx.batch.strategy)) {
        toPush.push(i);
      } else {
        // Every destination already holds the digest: only tags are missing, PromoteTags puts them.
        for (const destination of result.destinations) destination.replication = 'NOT_NEEDED';
        result.pushedAt = ctx.clock.now();
      }
    }
    if (toPush.length === 0) continue;

    let current: Map<string, string | undefined>;
    try {
      current = await resolveTags(
        source.client,
        ref,
        toPush.map((i) => results[i]!.tempTag),
      );
    } catch (error) {
      errors.record(error, 'reading temp tags', { repository: repositoryName });
      continue;
    }

    for (const i of toPush) {
      const item = state.Items[i]!;
      const result = results[i]!;
      const keys = imageKeys(repositoryName, item.imageDigest);
      try {
        const existing = current.get(result.tempTag);
        if (existing === item.imageDigest) {
          ctx.logger.info('temp tag already in place (earlier attempt)', {
            ...keys,
            tempTag: result.tempTag,
          });
          await addExtraDestinations(ctx, item, result, true);
        } else if (existing !== undefined) {
          ctx.logger.error('temp tag points to another digest; not moving it', {
            ...keys,
            tempTag: result.tempTag,
            existing,
          });
          markTempTagConflict(result);
          continue;
        } else {
          const stored = await getManifestByDigest(source.client, ref, item.imageDigest);
          if (!stored) {
            ctx.logger.warn('source image no longer exists', keys);
            markSourceGone(result);
            continue;
          }
          await addExtraDestinations(ctx, item, result, false);
          const outcome = await putManifest(
            source.client,
            ref,
            {
              manifest: stored.manifest,
              mediaType: stored.mediaType ?? item.imageManifestMediaType,
              imageDigest: item.imageDigest,
              tag: result.tempTag,
            },
            source.limiter,
          );
          // An immutable source refuses an existing tag even on the same digest: look where it points.
          if (
            outcome === 'tag-exists' &&
            (await resolveTag(source.client, ref, result.tempTag)) !== item.imageDigest
          ) {
            ctx.logger.error('temp tag taken by another digest; not moving it', {
              ...keys,
              tempTag: result.tempTag,
            });
            markTempTagConflict(result);
            continue;
          }
          ctx.logger.info('pushed temp tag', { ...keys, tempTag: result.tempTag, outcome });
        }
        for (const destination of result.destinations) destination.replication = 'PENDING';
        markMarkerCarried(item, result);
        result.pushedAt = ctx.clock.now();
      } catch (error) {
        errors.record(error, 'pushing temp tag', keys);
      }
    }
  }

  errors.throwIfAny();
  return { ...state, results };
}
