/**
 * PushTempTags: re-push each image's exact manifest under the run's temp tag, so ECR counts a push
 * and replicates the image to every destination (docs/architecture.md §3.1 step 3.1). One temp tag per digest.
 *
 * Idempotent without any state of its own: the temp tag is deterministic, so a retry, a crash-rerun
 * or a redrive first reads it (one BatchGetImage per repository for the whole batch, together with the
 * manifests to push) and skips every image that already carries it — no second PutImage for work
 * already done. That is also how it continues after stopping at its time budget (work-budget.ts:
 * WorkRemaining, re-entered by the state's Retry).
 */
import type { BatchState, DestinationResult, ItemResult, WorkItem } from '../../core/contracts/contracts.ts';
import {
  isMarkerItem,
  isSourceGone,
  markRecreated,
  markSourceGone,
  resultsOf,
  setTagOutcomes,
} from '../../core/batch/batch-results.ts';
import { pairItemsWithResults, pairsByRepository, type ItemWithResult } from '../../core/batch/item-pairs.ts';
import {
  describeImagesDetails,
  getManifestByDigest,
  putManifest,
  readImages,
  resolveTag,
  type ImageReads,
  type RepositoryRef,
} from '../../core/ecr/ecr.ts';
import { WorkRemainingError } from '../../core/errors/errors.ts';
import { attachPartialResults } from '../../core/run-files/continuation.ts';
import { ItemErrors } from '../../core/errors/item-errors.ts';
import { imageKeys } from '../../core/logger.ts';
import { MAX_READ_TO_WRITE_MS, readAge, windowClock, WindowSizer } from '../../core/ecr/read-window.ts';
import type { StepContext } from '../step-kit/step-context.ts';
import { MAX_WRITES_IN_FLIGHT, WritesInFlight } from '../../core/ecr/writes-in-flight.ts';

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
 * The destinations this push replicates to that the item does not list (see
 * DestinationResult.extra): the temp tag lands there too, so it must be waited for and cleaned up.
 * Whether the digest was already there decides whether cleanup may remove a copy whose only tag is
 * the temp tag; after an earlier attempt pushed, a copy there may be ours, so it stays "unknown".
 * Read only; addExtraDestinations records them once the push is sure to go out.
 */
async function extraDestinations(
  ctx: StepContext,
  item: WorkItem,
  result: ItemResult,
  pushedBefore: boolean,
): Promise<DestinationResult[]> {
  const extras: DestinationResult[] = [];
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
      // Unreadable (a denial: Plan chose how the run reaches it, so a grant removed since): unknown,
      // so cleanup never removes a copy there; CleanupTempTags' own call there fails the step.
      ctx.logger.warn('cannot read an extra replication destination', {
        ...imageKeys(item.repositoryName, item.imageDigest),
        region: d.region,
        registryId: d.registryId,
        error: String(error),
      });
    }
    extras.push({
      region: d.region,
      registryId: d.registryId,
      replication: 'PENDING',
      tags: {},
      extra: true,
      ...(digestPresent !== undefined ? { digestPresent } : {}),
    });
  }
  return extras;
}

async function addExtraDestinations(
  ctx: StepContext,
  item: WorkItem,
  result: ItemResult,
  pushedBefore: boolean,
): Promise<void> {
  result.destinations.push(...(await extraDestinations(ctx, item, result, pushedBefore)));
}

/** The temp tag is in place: replication is awaited in every destination. */
function markPushed(ctx: StepContext, item: WorkItem, result: ItemResult): void {
  for (const destination of result.destinations) destination.replication = 'PENDING';
  markMarkerCarried(item, result);
  result.pushedAt = ctx.clock.now();
}

/** One repository's share of the batch: what its read found, and the temp tags still to push. */
interface RepositoryPushes {
  ref: RepositoryRef;
  reads: ImageReads;
  /** When `reads` was started (windowClock): each push checks its age (MAX_READ_TO_WRITE_MS). */
  readAt: number;
  toPut: ItemWithResult[];
}

/** A temp tag to push: the item with its result, and its repository's reads. */
interface Push {
  pair: ItemWithResult;
  repository: RepositoryPushes;
}

/**
 * Owners' deletes win (docs/architecture.md §3.2 #11). An image its owner deleted after our read
 * and before our put was re-created by that put, holding only the temp tag: ECR has no conditional
 * put, so it is found afterwards. A re-tag leaves an image's imagePushedAt alone, so a temp-tagged
 * image whose imagePushedAt is newer than the plan read, and whose only tag is ours, is our
 * re-creation: marked (markRecreated), its tags SOURCE_GONE; CleanupTempTags removes the copies the
 * put sent, then the image. One DescribeImages per repository and 100 images.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageDetail.html
 */
async function findRecreated(
  ctx: StepContext,
  pushed: readonly ItemWithResult[],
  errors: ItemErrors,
): Promise<void> {
  for (const [repositoryName, pairs] of pairsByRepository(pushed)) {
    const planned = pairs.filter(({ item }) => item.imagePushedAt !== undefined);
    if (planned.length === 0) continue;
    let details;
    try {
      details = await describeImagesDetails(
        ctx.source.client,
        ctx.source.ref(repositoryName),
        planned.map(({ item }) => item.imageDigest),
      );
    } catch (error) {
      errors.record(error, 'checking pushed images', { repository: repositoryName });
      continue;
    }
    for (const { item, result } of planned) {
      const detail = details.get(item.imageDigest);
      if (detail?.pushedAt === undefined || detail.pushedAt <= item.imagePushedAt!) continue;
      if (detail.tags.some((tag) => tag !== result.tempTag)) continue;
      ctx.logger.warn('source image deleted during the run and re-created by our put; undoing it', {
        ...imageKeys(item.repositoryName, item.imageDigest),
        tempTag: result.tempTag,
        plannedPushedAt: item.imagePushedAt,
        pushedAt: detail.pushedAt,
      });
      markRecreated(result);
    }
  }
}

export async function pushTempTags(ctx: StepContext, state: BatchState): Promise<BatchState> {
  const results = resultsOf(state);
  const errors = new ItemErrors(ctx.logger, ctx.step);
  const { source } = ctx;
  // Temp tags this invocation found or put: each is checked for an image it re-created.
  const pushed: ItemWithResult[] = [];
  const readFor = (ref: RepositoryRef, pairs: readonly ItemWithResult[]) =>
    readImages(source.client, ref, {
      tags: pairs.map(({ result }) => result.tempTag),
      digests: pairs.map(({ item }) => item.imageDigest),
    });

  // 1. Per repository, one read: the temp tags (an earlier attempt's pushes) and the manifests.
  const repositories: RepositoryPushes[] = [];
  for (const [repositoryName, pairs] of pairsByRepository(pairItemsWithResults(state.Items, results))) {
    const ref = source.ref(repositoryName);
    const toPush: ItemWithResult[] = [];
    for (const pair of pairs) {
      const { item, result } = pair;
      if (isSourceGone(result) || result.pushedAt !== undefined) continue;
      if (needsPush(item, ctx.batch.strategy)) {
        toPush.push(pair);
      } else {
        // Every destination already holds the digest: only tags are missing, PromoteTags puts them.
        for (const destination of result.destinations) destination.replication = 'NOT_NEEDED';
        result.pushedAt = ctx.clock.now();
      }
    }
    if (toPush.length === 0) continue;

    const readAt = windowClock();
    let reads: ImageReads;
    try {
      reads = await readFor(ref, toPush);
    } catch (error) {
      errors.record(error, 'reading temp tags', { repository: repositoryName });
      continue;
    }

    const toPut: ItemWithResult[] = [];
    for (const pair of toPush) {
      const { item, result } = pair;
      const keys = imageKeys(repositoryName, item.imageDigest);
      try {
        const existing = reads.tags.get(result.tempTag);
        if (existing === item.imageDigest) {
          ctx.logger.info('temp tag already in place (earlier attempt)', {
            ...keys,
            tempTag: result.tempTag,
          });
          await addExtraDestinations(ctx, item, result, true);
          markPushed(ctx, item, result);
          pushed.push(pair);
        } else if (existing !== undefined) {
          ctx.logger.error('temp tag points to another digest; not moving it', {
            ...keys,
            tempTag: result.tempTag,
            existing,
          });
          markTempTagConflict(result);
        } else {
          toPut.push(pair);
        }
      } catch (error) {
        errors.record(error, 'pushing temp tag', keys);
      }
    }
    repositories.push({ ref, reads, readAt, toPut });
  }

  // 2. The pushes of the whole batch, in windows of PutImage tokens reserved together, so batches
  // sharing a limiter push one after the other rather than interleaved (read-window.ts). The read
  // guarding each push is younger than MAX_READ_TO_WRITE_MS, else its repository's part of the
  // window's rest is re-read; windows are sized to the rate and to the measured write pace.
  const pushes: Push[] = repositories.flatMap((repository) =>
    repository.toPut.map((pair) => ({ pair, repository })),
  );
  const sizer = new WindowSizer(source.limiter, MAX_WRITES_IN_FLIGHT);
  const inFlight = new WritesInFlight();
  // Temp tags left for the next invocation once the time budget is spent (work-budget.ts).
  let left = 0;
  for (let start = 0; start < pushes.length;) {
    if (ctx.budget.exhausted()) {
      left += pushes.length - start;
      break;
    }
    const window = pushes.slice(start, start + sizer.next(pushes.length - start));
    start += window.length;
    let reservation;
    try {
      reservation = await source.limiter.reserve(window.length);
    } catch (error) {
      errors.record(error, 'pushing temp tags', {});
      break;
    }
    for (const [k, { pair, repository }] of window.entries()) {
      const { item, result } = pair;
      const keys = imageKeys(item.repositoryName, item.imageDigest);
      // Past the budget no new push starts: the rest is the next invocation's (the window's rest
      // here, the windows after it at the top of the loop).
      if (ctx.budget.exhausted()) {
        left += window.length - k;
        break;
      }
      try {
        await reservation.next();
        // Everything that may wait comes before the read's age is checked: the extra destinations'
        // reads, then a write slot. The check is then made as the push leaves (L6), not before it
        // waited for one of the MAX_WRITES_IN_FLIGHT slots.
        const extras = await extraDestinations(ctx, item, result, false);
        await inFlight.ready();
        const { reads } = repository;
        if (readAge(repository.readAt) > MAX_READ_TO_WRITE_MS) {
          const rest = window
            .slice(k)
            .filter((p) => p.repository === repository)
            .map((p) => p.pair);
          repository.readAt = windowClock();
          const fresh = await readFor(repository.ref, rest);
          for (const [tag, digest] of fresh.tags) reads.tags.set(tag, digest);
          for (const r of rest) reads.manifests.delete(r.item.imageDigest);
          for (const [digest, manifest] of fresh.manifests) reads.manifests.set(digest, manifest);
        }
        const existing = reads.tags.get(result.tempTag);
        if (existing !== undefined && existing !== item.imageDigest) {
          ctx.logger.error('temp tag points to another digest; not moving it', {
            ...keys,
            tempTag: result.tempTag,
            existing,
          });
          markTempTagConflict(result);
          continue;
        }
        const stored = reads.manifests.get(item.imageDigest);
        if (!stored) {
          ctx.logger.warn('source image no longer exists', keys);
          markSourceGone(result);
          continue;
        }
        result.destinations.push(...extras);
        // Sent when its token is due, without waiting for the previous push's answer
        // (writes-in-flight.ts); the read it relies on was checked just above, with a slot free, so
        // the read-to-write bound holds per push. Its own errors are recorded per item, as before.
        await inFlight.send(async () => {
          try {
            // No limiter here: the window's tokens were reserved above.
            const began = windowClock();
            const outcome = await putManifest(source.client, repository.ref, {
              manifest: stored.manifest,
              mediaType: stored.mediaType ?? item.imageManifestMediaType,
              imageDigest: item.imageDigest,
              tag: result.tempTag,
            });
            sizer.recordWrite(windowClock() - began);
            // An immutable source refuses an existing tag even on the same digest: look where it points.
            if (
              outcome === 'tag-exists' &&
              (await resolveTag(source.client, repository.ref, result.tempTag)) !== item.imageDigest
            ) {
              ctx.logger.error('temp tag taken by another digest; not moving it', {
                ...keys,
                tempTag: result.tempTag,
              });
              markTempTagConflict(result);
              return;
            }
            ctx.logger.info('pushed temp tag', { ...keys, tempTag: result.tempTag, outcome });
            markPushed(ctx, item, result);
            pushed.push(pair);
          } catch (error) {
            errors.record(error, 'pushing temp tag', keys);
          }
        });
        ctx.budget.recordWrite();
      } catch (error) {
        errors.record(error, 'pushing temp tag', keys);
      }
    }
    // Every push of the window is answered before the next window's read, and before the step ends.
    await inFlight.drain();
  }
  await findRecreated(ctx, pushed, errors);

  try {
    errors.throwIfAny();
  } catch (error) {
    // Its retry starts from what this invocation did (continuation.ts), not from its input alone.
    throw attachPartialResults(error, results);
  }
  // The Retry re-sends the same input: the next invocation's read finds this one's temp tags in place.
  if (left > 0) throw new WorkRemainingError(ctx.step, left, 'temp tags', results);
  return { ...state, results };
}
