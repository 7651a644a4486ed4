/**
 * PromoteTags (strategy `promote`, the default): in each destination the image reached, put every
 * original tag on the destination's own copy of the manifest (exact bytes, read there by digest).
 * Source tags are never touched, so they never disappear, not even for a millisecond.
 *
 * Per tag, checks before the write (design §3.2):
 * - the source tag is re-read first, and again right before the put: if it now points to another
 *   digest the tag is MOVED and left alone — a backfill never reverts a newer push (which replicates
 *   by itself);
 * - the destination tag already on the digest → ALREADY_PRESENT, no write (also how a rerun skips
 *   work an interrupted attempt finished: zero repeated PutImage);
 * - on another digest → CONFLICT, unless `overwriteConflicts` (then OVERWRITTEN), and never in a
 *   repository (or for a tag) ECR keeps immutable.
 * Writes go through the destination's client (its role for another account).
 */
import type { BatchState, ItemResult, TagOutcome, WorkItem } from '../shared/contracts.ts';
import {
  destinationTarget,
  isSourceGone,
  replicationSettled,
  resultsOf,
  tagsWithOutcome,
} from '../shared/batch-results.ts';
import {
  describeRepository,
  getManifestByDigest,
  isTagImmutable,
  putManifest,
  resolveTags,
  type RepositorySettings,
  type StoredManifest,
} from '../shared/ecr.ts';
import { awsErrorName } from '../shared/errors.ts';
import { ItemErrors } from '../shared/item-errors.ts';
import { imageKeys } from '../shared/logger.ts';
import type { StepContext } from '../shared/step-context.ts';

const PENDING: ReadonlySet<TagOutcome> = new Set(['PENDING']);

/**
 * ECR refuses a tag on a copy that lacks what the manifest references: an index's platform
 * manifests (ReferencedImagesNotFoundException) or an image's layers (LayersNotFoundException).
 * That is a fact about this item in this destination, not about the batch: the tags stay PENDING and
 * VerifyDigests reports DIGEST_MISMATCH for them, while every other item and destination goes on.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html
 */
const INCOMPLETE_COPY_ERRORS: ReadonlySet<string> = new Set([
  'ReferencedImagesNotFoundException',
  'LayersNotFoundException',
]);

async function promoteItem(
  ctx: StepContext,
  item: WorkItem,
  result: ItemResult,
  errors: ItemErrors,
  /** After each tag put: lets the step record its progress part-way (throttled by the caller). */
  afterPut: () => Promise<void>,
): Promise<void> {
  const { source } = ctx;
  const sourceRef = source.ref(item.repositoryName);
  const keys = imageKeys(item.repositoryName, item.imageDigest);

  for (const [j, destination] of result.destinations.entries()) {
    if (!replicationSettled(destination)) continue;
    const tags = tagsWithOutcome(destination, PENDING);
    if (tags.length === 0) continue;
    const handle = ctx.destination(destinationTarget(item, j, destination));
    const ref = handle.ref(item.repositoryName);
    const destKeys = { ...keys, region: destination.region, registryId: destination.registryId };
    try {
      // Sequential on purpose: a deterministic call order keeps crash tests reproducible.
      const inSource = await resolveTags(source.client, sourceRef, tags);
      const inDestination = await resolveTags(handle.client, ref, tags);
      let stored: StoredManifest | undefined;
      let settings: RepositorySettings | undefined | null = null;

      for (const tag of tags) {
        const sourceNow = inSource.get(tag);
        if (sourceNow !== item.imageDigest) {
          destination.tags[tag] = sourceNow === undefined ? 'SOURCE_GONE' : 'MOVED';
          continue;
        }
        const current = inDestination.get(tag);
        if (current === item.imageDigest) {
          destination.tags[tag] = 'ALREADY_PRESENT';
          continue;
        }
        let target: TagOutcome = 'BACKFILLED';
        if (current !== undefined) {
          settings ??= await describeRepository(handle.client, ref);
          if (!ctx.batch.overwriteConflicts || isTagImmutable(settings, tag)) {
            destination.tags[tag] = 'CONFLICT';
            ctx.logger.warn('destination tag points to another digest', { ...destKeys, tag, current });
            continue;
          }
          target = 'OVERWRITTEN';
        }
        stored ??= await getManifestByDigest(handle.client, ref, item.imageDigest);
        if (!stored) {
          // Reported complete, yet not readable: left PENDING, VerifyDigests reports the mismatch.
          ctx.logger.error('replicated manifest not found in destination', destKeys);
          break;
        }
        // Wait for the PutImage token *before* the last checks: the wait can last seconds (the
        // invocation's share of the quota), and checks made before it would be that stale when the
        // put goes out. ECR has no conditional put, so this keeps the unavoidable gap to two reads.
        await handle.limiter.take();
        // The source tag may have moved since the batch read above (never revert a newer push)…
        if ((await resolveTags(source.client, sourceRef, [tag])).get(tag) !== item.imageDigest) {
          destination.tags[tag] = 'MOVED';
          continue;
        }
        // …and the destination tag may have been set since (by replication of a newer push, or by
        // someone writing there): never overwrite it unless conflicts may be overwritten.
        const destinationNow = (await resolveTags(handle.client, ref, [tag])).get(tag);
        if (destinationNow === item.imageDigest) {
          destination.tags[tag] = 'ALREADY_PRESENT';
          continue;
        }
        if (destinationNow !== undefined && destinationNow !== current) {
          settings ??= await describeRepository(handle.client, ref);
          if (!ctx.batch.overwriteConflicts || isTagImmutable(settings, tag)) {
            destination.tags[tag] = 'CONFLICT';
            ctx.logger.warn('destination tag was set meanwhile to another digest', {
              ...destKeys,
              tag,
              current: destinationNow,
            });
            continue;
          }
          target = 'OVERWRITTEN';
        }
        let outcome: Awaited<ReturnType<typeof putManifest>>;
        try {
          // No limiter here: the token was taken above.
          outcome = await putManifest(handle.client, ref, {
            manifest: stored.manifest,
            mediaType: stored.mediaType,
            imageDigest: item.imageDigest,
            tag,
          });
        } catch (error) {
          const name = awsErrorName(error);
          if (name === undefined || !INCOMPLETE_COPY_ERRORS.has(name)) throw error;
          ctx.logger.error('destination copy is incomplete; its tags are left for VerifyDigests', {
            ...destKeys,
            tag,
            errorName: name,
          });
          break;
        }
        if (outcome === 'tag-exists') {
          // Immutable tag set meanwhile (by replication or someone else): classify where it points.
          const now = (await resolveTags(handle.client, ref, [tag])).get(tag);
          destination.tags[tag] = now === item.imageDigest ? 'ALREADY_PRESENT' : 'CONFLICT';
        } else {
          destination.tags[tag] = target;
        }
        ctx.logger.info('promoted tag', { ...destKeys, tag, outcome: destination.tags[tag] });
        await afterPut();
      }
    } catch (error) {
      errors.record(error, 'promoting tags', destKeys);
    }
  }
}

export async function promoteTags(ctx: StepContext, state: BatchState): Promise<BatchState> {
  const results = resultsOf(state);
  if (ctx.batch.strategy !== 'promote') return { ...state, results };
  const errors = new ItemErrors(ctx.logger, ctx.step);
  for (const [i, item] of state.Items.entries()) {
    const result = results[i]!;
    if (isSourceGone(result)) continue;
    // One item can carry dozens of tags, each paced by the PutImage quota: progress per put.
    await promoteItem(ctx, item, result, errors, async () => {
      await ctx.progress?.(results);
    });
  }
  errors.throwIfAny();
  return { ...state, results };
}
