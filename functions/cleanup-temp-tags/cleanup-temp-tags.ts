/**
 * CleanupTempTags: remove the run's temp tag in each destination the image reached (replication
 * carried it there, including destinations the item does not list; deletes are never replicated, so
 * each copy is cleaned where it is) and then in the source. The image's tags are re-read right before
 * each delete, because removing an image's last tag deletes the image (botocore ECR model):
 * - in the **source** the temp tag goes only where the image keeps another tag: a source image is
 *   never deleted (docs/architecture.md §3.2 invariant 1);
 * - in a **destination** where the temp tag is the copy's only tag, the copy goes too — but only a
 *   copy the run itself brought (the digest was not there before) and that no tag needs (every tag
 *   there ended CONFLICT, MOVED or SOURCE_GONE). A copy that may have been there before is left.
 *
 * An item whose source image its owner deleted after our push (SOURCE_GONE) is cleaned the same way:
 * its copies hold the temp tag our push sent (docs/architecture.md §3.2 #11).
 *
 * Left in place, on purpose:
 * - an untagged image's temp tag: it is the image's **marker tag** (docs/architecture.md §3.2 invariant 7) in the
 *   source and in every destination, named `<tempTagPrefix><run hash>-<digest hex>` so users can find
 *   such images (see temp-tags.ts);
 * - a source temp tag that became the image's only tag (a third party moved every tag away);
 * - temp tags while a destination's replication is still pending (TIMEOUT): a late copy would bring
 *   the temp tag after the cleanup; FinishBatch's re-evaluation or a redrive cleans it up later.
 * Idempotent: an absent temp tag is done.
 */
import type { BatchState, DestinationResult, WorkItem } from '../../core/contracts/contracts.ts';
import {
  destinationTarget,
  digestWasPresent,
  isMarkerItem,
  isRecreated,
  isSourceGone,
  NOT_DELIVERED,
  replicationSettled,
  resultsOf,
} from '../../core/batch/batch-results.ts';
import { pairItemsWithResults, pairsByRepository, type ItemWithResult } from '../../core/batch/item-pairs.ts';
import { deleteTags, describeImagesTags } from '../../core/ecr/ecr.ts';
import { ItemErrors } from '../../core/errors/item-errors.ts';
import { imageKeys } from '../../core/logger.ts';
import type { RegistryHandle, StepContext } from '../step-kit/step-context.ts';

export type CleanupAction = 'deleted' | 'deleted-copy' | 'absent' | 'kept-last-tag';

/** One image whose temp tag may go from one registry. */
interface Removal {
  pair: ItemWithResult;
  /** `source` or the destination Region, for the logs. */
  where: string;
  /** When the temp tag is the copy's last tag, the copy may go with it (destinations only). */
  mayRemoveCopy: boolean;
}

/**
 * Cleans one repository in one registry: re-reads the images' tags together, then deletes in one
 * BatchDeleteImage every temp tag that may go — two calls per registry and 100 images, not two per
 * image (DescribeImages and BatchDeleteImage have low, unpublished quotas). The read still comes
 * right before the delete, as it did per image: a temp tag that is an image's last tag is kept unless
 * `mayRemoveCopy` (and then the copy goes with it).
 */
async function cleanupInRegistry(
  ctx: StepContext,
  handle: RegistryHandle,
  repositoryName: string,
  removals: readonly Removal[],
): Promise<Map<ItemWithResult, CleanupAction>> {
  const ref = handle.ref(repositoryName);
  const tagsNow = await describeImagesTags(
    handle.client,
    ref,
    removals.map(({ pair }) => pair.item.imageDigest),
  );
  const actions = new Map<ItemWithResult, CleanupAction>();
  const toDelete: Removal[] = [];
  for (const removal of removals) {
    const { item, result } = removal.pair;
    const { tempTag } = result;
    const tags = tagsNow.get(item.imageDigest);
    if (!tags?.includes(tempTag)) {
      actions.set(removal.pair, 'absent');
      continue;
    }
    const last = !tags.some((tag) => tag !== tempTag);
    if (last && !removal.mayRemoveCopy) {
      ctx.logger.warn('temp tag is the image’s only tag; kept so the image is not deleted', {
        ...imageKeys(item.repositoryName, item.imageDigest),
        where: removal.where,
        tempTag,
      });
      actions.set(removal.pair, 'kept-last-tag');
      continue;
    }
    toDelete.push(removal);
    actions.set(removal.pair, last ? 'deleted-copy' : 'deleted');
  }
  if (toDelete.length > 0) {
    // Temp tags are unique per digest, so each deleted tag names exactly one image.
    const { deleted } = await deleteTags(
      handle.client,
      ref,
      toDelete.map(({ pair }) => pair.result.tempTag),
    );
    const gone = new Set(deleted);
    for (const { pair } of toDelete) if (!gone.has(pair.result.tempTag)) actions.set(pair, 'absent');
  }
  return actions;
}

/**
 * Whether the item's temp tag may be anywhere to clean:
 * - a re-created image (isRecreated) is cleaned like any other, marker or not, and then goes itself;
 * - an image whose owner deleted it after our push (SOURCE_GONE with `pushedAt`: CheckReplication
 *   found it gone) left copies our push sent, holding the temp tag; they are cleaned too, the
 *   marker of an untagged one included (owners' deletes win, docs/architecture.md §3.2 #11). One
 *   found gone before the push has no temp tag anywhere;
 * - otherwise every tagged item (a marker item keeps its temp tag: invariant 7).
 */
function hasTempTagToClean(item: WorkItem, result: ItemWithResult['result']): boolean {
  if (isRecreated(result)) return true;
  if (isSourceGone(result)) return result.pushedAt !== undefined;
  return !isMarkerItem(item);
}

/** The copy in this destination is the run's own and serves no tag: it may go with its temp tag. */
const removableCopy = (item: WorkItem, j: number, destination: DestinationResult): boolean =>
  !digestWasPresent(item, j, destination) &&
  Object.values(destination.tags).every((outcome) => NOT_DELIVERED.has(outcome));

export async function cleanupTempTags(ctx: StepContext, state: BatchState): Promise<BatchState> {
  const results = resultsOf(state);
  const errors = new ItemErrors(ctx.logger, ctx.step);

  for (const [repositoryName, pairs] of pairsByRepository(pairItemsWithResults(state.Items, results))) {
    const candidates = pairs.filter(({ item, result }) => hasTempTagToClean(item, result));
    if (candidates.length === 0) continue;
    // Destinations first, grouped by registry; then the source, for the items whose copies are settled.
    // No separate look-up of where the temp tags point: cleanupInRegistry's DescribeImages right
    // before each delete returns every candidate image's tags, which says the same (a tag names one
    // image) and is the read the "never an image's last tag" check needs anyway.
    const destinations = new Map<string, { handle: RegistryHandle; removals: Removal[] }>();
    for (const pair of candidates) {
      const { item, result } = pair;
      for (const [j, destination] of result.destinations.entries()) {
        if (!replicationSettled(destination)) continue;
        const handle = ctx.destination(destinationTarget(item, j, destination));
        const key = `${handle.registryId}/${handle.region}`;
        const group = destinations.get(key) ?? { handle, removals: [] };
        group.removals.push({
          pair,
          where: destination.region,
          mayRemoveCopy: removableCopy(item, j, destination),
        });
        destinations.set(key, group);
      }
    }
    const unfinished = new Set<ItemWithResult>();
    // The destinations at once: each is another registry (its own quotas), and each one's read still
    // comes right before its delete. The source waits for all of them (its temp tag is the marker).
    await Promise.all(
      [...destinations].map(async ([key, { handle, removals }]) => {
        try {
          const actions = await cleanupInRegistry(ctx, handle, repositoryName, removals);
          for (const [{ item }, action] of actions) {
            if (!action.startsWith('deleted')) continue;
            ctx.logger.info('removed temp tag in destination', {
              ...imageKeys(item.repositoryName, item.imageDigest),
              region: handle.region,
              action,
            });
          }
        } catch (error) {
          // A denial fails the step like any error, selected destination or not: Plan made sure
          // the run reaches every destination its pushes replicate to (reached-destinations.ts in
          // functions/plan), so a denial is a grant gone since, and a retry or redrive must remove
          // the temp tag rather than leave it there unnoticed. The source keeps these items' temp
          // tags until a retry has cleaned their copies.
          for (const { pair } of removals) unfinished.add(pair);
          errors.record(error, 'cleaning up temp tags', { repository: repositoryName, destination: key });
        }
      }),
    );

    const inSource = candidates.filter((pair) => {
      const stillReplicating = pair.result.destinations.some(
        (d) => d.replication === 'PENDING' || d.replication === 'TIMEOUT',
      );
      return !unfinished.has(pair) && !stillReplicating;
    });
    if (inSource.length === 0) continue;
    try {
      // A source image is never deleted (invariant 1), except the one our put re-created after its
      // owner deleted it (§3.2 #11): its temp tag goes even as its last tag, which deletes it. The
      // read right before the delete still keeps it if someone tagged it meanwhile (then only our tag goes).
      const removals = inSource.map((pair): Removal => ({
        pair,
        where: 'source',
        mayRemoveCopy: isRecreated(pair.result),
      }));
      const actions = await cleanupInRegistry(ctx, ctx.source, repositoryName, removals);
      for (const [{ item }, action] of actions) {
        if (action === 'deleted')
          ctx.logger.info('removed temp tag in source', imageKeys(item.repositoryName, item.imageDigest));
        if (action === 'deleted-copy')
          ctx.logger.warn('removed the image our put re-created in the source', {
            ...imageKeys(item.repositoryName, item.imageDigest),
          });
      }
    } catch (error) {
      errors.record(error, 'cleaning up temp tags', { repository: repositoryName, where: 'source' });
    }
  }

  errors.throwIfAny();
  return { ...state, results };
}
