/**
 * PromoteTags' second half: each destination the image reached receives the item's referrers
 * (signatures, SBOMs, attestations) it lacked at plan time, untagged at the same digest, each after
 * its subject (the image has replicated before PromoteTags runs, and the item lists a subject before
 * its referrers). Nothing is written in the source: a source referrer is never tagged nor deleted.
 *
 * Per destination registry and repository: one read (BatchGetImage, 100 digests a call) settles the
 * referrers already there (ALREADY_PRESENT, also how a continued or redriven invocation skips what an
 * earlier one copied: no repeated PutImage). Each missing one is copied with core/ecr/referrers.ts
 * (blobs through the layer APIs, then PutImage with no tag), through the destination Region's PutImage
 * limiter, within the step's time budget: past it no new copy starts, and the referrers left stay
 * PENDING for the next invocation (WorkRemaining).
 */
import type { BatchState, DestinationResult, ItemResult, WorkItem } from '../../core/contracts/contracts.ts';
import { destinationTarget, isSourceGone, replicationSettled } from '../../core/batch/batch-results.ts';
import { pairItemsWithResults } from '../../core/batch/item-pairs.ts';
import { getManifestsByDigest } from '../../core/ecr/ecr.ts';
import { copyReferrer } from '../../core/ecr/referrers.ts';
import type { ItemErrors } from '../../core/errors/item-errors.ts';
import { imageKeys } from '../../core/logger.ts';
import type { RegistryHandle, StepContext } from '../step-kit/step-context.ts';

/** One referrer to deliver to one destination of one item. */
interface ReferrerDelivery {
  item: WorkItem;
  destination: DestinationResult;
  digest: string;
  mediaType: string;
}

interface ReferrerGroup {
  handle: RegistryHandle;
  repositoryName: string;
  deliveries: ReferrerDelivery[];
}

/** The PENDING referrers of every item still in the source, per destination its image reached. */
function groupReferrers(
  ctx: StepContext,
  state: BatchState,
  results: readonly ItemResult[],
): ReferrerGroup[] {
  const groups = new Map<string, ReferrerGroup>();
  for (const { item, result } of pairItemsWithResults(state.Items, results)) {
    const mediaTypes = new Map((item.referrers ?? []).map((r) => [r.digest, r.mediaType]));
    for (const [j, destination] of result.destinations.entries()) {
      const pending = Object.entries(destination.referrers ?? {})
        .filter(([, outcome]) => outcome === 'PENDING')
        .map(([digest]) => digest);
      if (pending.length === 0) continue;
      if (isSourceGone(result)) {
        for (const digest of pending) destination.referrers![digest] = 'SOURCE_GONE';
        continue;
      }
      // Its subject must be there first: the image's replication has settled.
      if (!replicationSettled(destination)) continue;
      const handle = ctx.destination(destinationTarget(item, j, destination));
      const key = `${handle.registryId}/${handle.region}/${item.repositoryName}`;
      const group = groups.get(key) ?? { handle, repositoryName: item.repositoryName, deliveries: [] };
      for (const digest of pending) {
        group.deliveries.push({ item, destination, digest, mediaType: mediaTypes.get(digest) ?? '' });
      }
      groups.set(key, group);
    }
  }
  return [...groups.values()];
}

/** Copies one group's referrers; returns how many were left for the next invocation (budget spent). */
async function copyGroup(ctx: StepContext, group: ReferrerGroup, errors: ItemErrors): Promise<number> {
  const { handle, repositoryName, deliveries } = group;
  const target = { client: handle.client, ref: handle.ref(repositoryName), limiter: handle.limiter };
  const source = { client: ctx.source.client, ref: ctx.source.ref(repositoryName) };
  const there = await getManifestsByDigest(
    handle.client,
    target.ref,
    deliveries.map((d) => d.digest),
  );
  let left = 0;
  for (const delivery of deliveries) {
    const outcomes = delivery.destination.referrers!;
    if (there.has(delivery.digest)) {
      outcomes[delivery.digest] = 'ALREADY_PRESENT';
      continue;
    }
    if (ctx.budget.exhausted()) {
      left += 1;
      continue;
    }
    try {
      const copied = await copyReferrer(source, target, delivery);
      outcomes[delivery.digest] =
        copied === 'copied' ? 'BACKFILLED' : copied === 'already' ? 'ALREADY_PRESENT' : 'SOURCE_GONE';
      if (copied === 'copied') ctx.budget.recordWrite();
    } catch (error) {
      // Left PENDING: VerifyDigests finds it missing (DIGEST_MISMATCH) unless a retry copies it.
      errors.record(error, 'copying a referrer', {
        ...imageKeys(delivery.item.repositoryName, delivery.item.imageDigest),
        referrer: delivery.digest,
        region: handle.region,
        registryId: handle.registryId,
      });
    }
  }
  return left;
}

/** Copies the batch's missing referrers; returns how many are left for the next invocation. */
export async function copyReferrers(
  ctx: StepContext,
  state: BatchState,
  results: ItemResult[],
  errors: ItemErrors,
): Promise<number> {
  let left = 0;
  for (const group of groupReferrers(ctx, state, results)) {
    try {
      left += await copyGroup(ctx, group, errors);
    } catch (error) {
      errors.record(error, 'copying referrers', {
        repository: group.repositoryName,
        region: group.handle.region,
        registryId: group.handle.registryId,
      });
    }
    await ctx.progress?.(results);
  }
  return left;
}
