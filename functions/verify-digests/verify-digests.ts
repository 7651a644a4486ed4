/**
 * VerifyDigests: read-only proof that the backfill did what it claims. In each destination the image
 * reached, every tag reported BACKFILLED / OVERWRITTEN / ALREADY_PRESENT (and for retag-source the
 * replicated tags) resolves to the source digest, and for an index every child manifest it references
 * exists there too (ECR replicates them with the index; a missing child would make pulls fail).
 * Otherwise DIGEST_MISMATCH — or MOVED, when the source tag itself moved on meanwhile.
 */
import type { BatchState, ItemResult, TagOutcome, WorkItem } from '../shared/contracts.ts';
import {
  destinationTarget,
  isSourceGone,
  replicationSettled,
  resultsOf,
  tagsWithOutcome,
} from '../shared/batch-results.ts';
import { getManifestByDigest, getManifestsByDigest, resolveTags } from '../shared/ecr.ts';
import { ItemErrors } from '../shared/item-errors.ts';
import { imageKeys } from '../shared/logger.ts';
import { indexChildDigests, isIndexMediaType } from '../shared/media-types.ts';
import type { RegistryHandle, StepContext } from '../shared/step-context.ts';

const TO_VERIFY: ReadonlySet<TagOutcome> = new Set([
  'BACKFILLED',
  'OVERWRITTEN',
  'ALREADY_PRESENT',
  'PENDING',
]);

/** Whether every child manifest of the destination's copy of an index exists there. */
async function childrenPresent(handle: RegistryHandle, item: WorkItem): Promise<boolean> {
  const ref = handle.ref(item.repositoryName);
  const stored = await getManifestByDigest(handle.client, ref, item.imageDigest);
  if (!stored) return false;
  const children = indexChildDigests(stored.manifest, stored.mediaType ?? item.imageManifestMediaType);
  if (children.length === 0) return true;
  const found = await getManifestsByDigest(handle.client, ref, children);
  return children.every((digest) => found.has(digest));
}

async function verifyItem(ctx: StepContext, item: WorkItem, result: ItemResult): Promise<void> {
  const keys = imageKeys(item.repositoryName, item.imageDigest);
  let sourceTags: Map<string, string | undefined> | undefined;
  for (const [j, destination] of result.destinations.entries()) {
    if (!replicationSettled(destination)) continue;
    const tags = tagsWithOutcome(destination, TO_VERIFY);
    if (tags.length === 0) continue;
    const handle = ctx.destination(destinationTarget(item, j, destination));
    const resolved = await resolveTags(handle.client, handle.ref(item.repositoryName), tags);
    const complete = !isIndexMediaType(item.imageManifestMediaType) || (await childrenPresent(handle, item));
    for (const tag of tags) {
      if (complete && resolved.get(tag) === item.imageDigest) {
        if (destination.tags[tag] === 'PENDING') destination.tags[tag] = 'ALREADY_PRESENT';
        continue;
      }
      sourceTags ??= await resolveTags(ctx.source.client, ctx.source.ref(item.repositoryName), item.tags);
      const sourceNow = sourceTags.get(tag);
      const moved = sourceNow !== undefined && sourceNow !== item.imageDigest;
      destination.tags[tag] = moved ? 'MOVED' : 'DIGEST_MISMATCH';
      ctx.logger[moved ? 'info' : 'error']('destination tag does not resolve to the source digest', {
        ...keys,
        region: destination.region,
        registryId: destination.registryId,
        tag,
        destinationDigest: resolved.get(tag),
        indexChildrenPresent: complete,
        outcome: destination.tags[tag],
      });
    }
  }
}

export async function verifyDigests(ctx: StepContext, state: BatchState): Promise<BatchState> {
  const results = resultsOf(state);
  const errors = new ItemErrors(ctx.logger, ctx.step);
  for (const [i, item] of state.Items.entries()) {
    const result = results[i]!;
    if (isSourceGone(result)) continue;
    try {
      await verifyItem(ctx, item, result);
    } catch (error) {
      errors.record(error, 'verifying digests', imageKeys(item.repositoryName, item.imageDigest));
    }
  }
  errors.throwIfAny();
  return { ...state, results };
}
