/**
 * PromoteTags (strategy `promote`, the default): in each destination the image reached, put every
 * original tag on the destination's own copy of the manifest (exact bytes, read there by digest).
 * Source tags are never touched, so they never disappear, not even for a millisecond.
 *
 * Work is grouped per destination registry and repository, and read in batches (BatchGetImage takes
 * 100 ids), never per tag (docs/architecture.md §3.1, step 3.3):
 * 0. one read per 100 tags first settles every tag that needs no write (the outcomes below other
 *    than a put), without a PutImage token: tokens are reserved for real puts only;
 * 1-2. the tags to put go in windows of PutImage tokens reserved together (read-window.ts); each window's
 *    source tags, and its destination tags with the manifests to put, are read once its tokens are
 *    reserved, and again whenever that read is older than MAX_READ_TO_WRITE_MS when a put is due.
 *    Per tag, at that moment:
 *    - the source tag points to another digest → MOVED, left alone: a backfill never reverts a newer
 *      push (which replicates by itself);
 *    - the destination tag already on the digest → ALREADY_PRESENT, no write (also how a rerun skips
 *      work an interrupted attempt finished: zero repeated PutImage);
 *    - on another digest → CONFLICT, unless `overwriteConflicts` (then OVERWRITTEN), and never in a
 *      repository (or for a tag) ECR keeps immutable;
 * 3. after the puts, the source tags are read once more: a tag that moved meanwhile, and whose
 *    destination still holds our digest although the newer digest has already arrived there, is put
 *    on the newer digest (its replication overtook our put). Invariant 3 (a tag moved during the run
 *    ends at the newer digest, in source and destination) therefore does not rest on replication
 *    being slower than the window. A tag deleted in the source meanwhile had our put re-create it
 *    here: that put is undone and the tag reported SOURCE_GONE (owners' deletes win, §3.2 #11).
 * Writes go through the destination's client (its role for another account).
 *
 * Past its time budget (work-budget.ts) the step starts no new put, follows the tags it did put
 * (step 3), and throws WorkRemaining; the state's Retry continues it with the same input, from the
 * results this invocation reached (continuation.ts).
 */
import type {
  BatchState,
  DestinationResult,
  ItemResult,
  TagOutcome,
  WorkItem,
} from '../../core/contracts/contracts.ts';
import { digestWasPresent, resultsOf } from '../../core/batch/batch-results.ts';
import { groupByDestinationRepository } from '../step-kit/destination-groups.ts';
import {
  deleteTags,
  describeImagesTags,
  describeRepository,
  isTagImmutable,
  MAX_BATCH_IMAGE_IDS,
  putManifest,
  readImages,
  resolveTags,
  type PutResult,
  type RepositoryRef,
  type RepositorySettings,
  type StoredManifest,
} from '../../core/ecr/ecr.ts';
import { awsErrorName, WorkRemainingError } from '../../core/errors/errors.ts';
import { attachPartialResults } from '../../core/run-files/continuation.ts';
import { ItemErrors } from '../../core/errors/item-errors.ts';
import { imageKeys } from '../../core/logger.ts';
import { MAX_READ_TO_WRITE_MS, readAge, windowClock, WindowSizer } from '../../core/ecr/read-window.ts';
import { MAX_WRITES_IN_FLIGHT, WritesInFlight } from '../../core/ecr/writes-in-flight.ts';
import type { RateLimiter } from '../../core/ecr/rate-limit.ts';
import type { RegistryHandle, StepContext } from '../step-kit/step-context.ts';
import { worksFor } from '../../core/steps.ts';
import { copyReferrers } from './copy-referrers.ts';

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

/** One tag to deliver to one destination of one item. */
interface Delivery {
  item: WorkItem;
  destination: DestinationResult;
  tag: string;
}

/** Everything one destination registry's repository receives from this batch. */
interface Group {
  handle: RegistryHandle;
  repositoryName: string;
  deliveries: Delivery[];
}

type Decision = { put: 'BACKFILLED' | 'OVERWRITTEN' } | { outcome: TagOutcome };

/** The deliveries of the batch, one per tag, per destination registry and repository, in batch order. */
function groupDeliveries(ctx: StepContext, state: BatchState, results: ItemResult[]): Group[] {
  return groupByDestinationRepository(ctx, state, results, PENDING).map(
    ({ handle, repositoryName, entries }) => ({
      handle,
      repositoryName,
      deliveries: entries.flatMap(({ item, destination, tags }) =>
        tags.map((tag) => ({ item, destination, tag })),
      ),
    }),
  );
}

/** Promotes one group; per-item problems leave that item's tags PENDING for VerifyDigests. */
class GroupPromotion {
  private readonly ref: RepositoryRef;
  private readonly sourceRef: RepositoryRef;
  private readonly manifests = new Map<string, StoredManifest>();
  private settings: RepositorySettings | undefined | null = null;
  /** Items whose copy here cannot take tags (manifest unreadable, or an incomplete copy). */
  private readonly blocked = new Set<WorkItem>();
  private sourceTags = new Map<string, string | undefined>();
  private destinationTags = new Map<string, string | undefined>();
  private readAt = -Infinity;

  constructor(
    private readonly ctx: StepContext,
    private readonly group: Group,
    /** Shared by the groups of one registry in this invocation: the write latency it learns carries over. */
    private readonly sizer: WindowSizer,
    /** After each tag put: lets the step record its progress part-way (throttled by the caller). */
    private readonly afterPut: () => Promise<void>,
  ) {
    this.ref = group.handle.ref(group.repositoryName);
    this.sourceRef = ctx.source.ref(group.repositoryName);
  }

  private keys(d: Delivery) {
    return {
      ...imageKeys(d.item.repositoryName, d.item.imageDigest),
      region: d.destination.region,
      registryId: d.destination.registryId,
    };
  }

  /** Reads the tags of `deliveries` in the source, then in the destination (with `digests`' manifests). */
  private async read(deliveries: readonly Delivery[], digests: readonly string[] = []): Promise<void> {
    const tags = deliveries.map((d) => d.tag);
    const readAt = windowClock();
    // Sequential on purpose: a deterministic call order keeps crash tests reproducible.
    const inSource = await resolveTags(this.ctx.source.client, this.sourceRef, tags);
    const inDestination = await readImages(this.group.handle.client, this.ref, { tags, digests });
    for (const [tag, digest] of inSource) this.sourceTags.set(tag, digest);
    for (const [tag, digest] of inDestination.tags) this.destinationTags.set(tag, digest);
    for (const [digest, manifest] of inDestination.manifests) this.manifests.set(digest, manifest);
    this.readAt = readAt;
  }

  private async decide(d: Delivery): Promise<Decision> {
    const sourceNow = this.sourceTags.get(d.tag);
    if (sourceNow !== d.item.imageDigest)
      return { outcome: sourceNow === undefined ? 'SOURCE_GONE' : 'MOVED' };
    const current = this.destinationTags.get(d.tag);
    if (current === d.item.imageDigest) return { outcome: 'ALREADY_PRESENT' };
    if (current === undefined) return { put: 'BACKFILLED' };
    if (this.ctx.batch.overwriteConflicts) {
      this.settings ??= await describeRepository(this.group.handle.client, this.ref);
      if (!isTagImmutable(this.settings, d.tag)) return { put: 'OVERWRITTEN' };
    }
    this.ctx.logger.warn('destination tag points to another digest', {
      ...this.keys(d),
      tag: d.tag,
      current,
    });
    return { outcome: 'CONFLICT' };
  }

  /**
   * `d`'s decision on a read younger than MAX_READ_TO_WRITE_MS, re-reading `rest` (the window from
   * `d` on) when it is older. Deciding can itself call ECR (the repository's settings, once): a read
   * that aged past the bound meanwhile is re-read and the decision made again (then from cache).
   */
  private async decideFresh(d: Delivery, rest: readonly Delivery[]): Promise<Decision> {
    if (readAge(this.readAt) > MAX_READ_TO_WRITE_MS) await this.read(rest);
    const decision = await this.decide(d);
    if (readAge(this.readAt) <= MAX_READ_TO_WRITE_MS) return decision;
    await this.read(rest);
    return this.decide(d);
  }

  /** The manifest to put for `d`, or `undefined` (item blocked: its tags stay PENDING). */
  private manifestFor(d: Delivery): StoredManifest | undefined {
    if (this.blocked.has(d.item)) return undefined;
    const stored = this.manifests.get(d.item.imageDigest);
    if (!stored) {
      // Reported complete, yet not readable: left PENDING, VerifyDigests reports the mismatch.
      this.ctx.logger.error('replicated manifest not found in destination', this.keys(d));
      this.blocked.add(d.item);
    }
    return stored;
  }

  /**
   * Settles, without a PutImage token, every delivery that needs no write (ALREADY_PRESENT, MOVED,
   * SOURCE_GONE, CONFLICT), reading up to MAX_BATCH_IMAGE_IDS tags a call, and returns the rest.
   * Tokens are then reserved only for real puts: a continued invocation (WorkRemaining) walks the
   * deliveries its predecessor made at read speed, not at the PutImage rate, and spends its budget on
   * new puts. Only writes need a fresh read (MAX_READ_TO_WRITE_MS); the windows below re-read for them.
   */
  private async settleWithoutWrites(requested: Set<string>): Promise<Delivery[]> {
    const { deliveries } = this.group;
    const toPut: Delivery[] = [];
    for (let start = 0; start < deliveries.length; start += MAX_BATCH_IMAGE_IDS) {
      const chunk = deliveries.slice(start, start + MAX_BATCH_IMAGE_IDS);
      const digests = [...new Set(chunk.map((d) => d.item.imageDigest))].filter(
        (digest) => !requested.has(digest),
      );
      for (const digest of digests) requested.add(digest);
      await this.read(chunk, digests);
      for (const d of chunk) {
        const decision = await this.decide(d);
        if ('outcome' in decision) d.destination.tags[d.tag] = decision.outcome;
        else toPut.push(d);
      }
    }
    return toPut;
  }

  /** Promotes the group's tags; returns how many were left for the next invocation (budget spent). */
  async run(): Promise<number> {
    const limiter = this.group.handle.limiter;
    const { sizer } = this;
    const { budget } = this.ctx;
    const requested = new Set<string>();
    const deliveries = await this.settleWithoutWrites(requested);
    const put: Delivery[] = [];
    const inFlight = new WritesInFlight();
    let left = 0;
    // Windows of the tags to put, each read (source tags; destination tags and the manifests not read
    // yet) right after its PutImage tokens were reserved, and re-read if older than
    // MAX_READ_TO_WRITE_MS when a put is due. A tag that turns out to need no put (it changed since
    // the settling read) leaves its token unused: nothing is written.
    windows: for (let start = 0; start < deliveries.length;) {
      if (budget.exhausted()) {
        left = deliveries.length - start;
        break;
      }
      const window = deliveries.slice(start, start + sizer.next(deliveries.length - start));
      start += window.length;
      const reservation = await limiter.reserve(window.length);
      const digests = [...new Set(window.map((d) => d.item.imageDigest))].filter(
        (digest) => !requested.has(digest),
      );
      for (const digest of digests) requested.add(digest);
      await this.read(window, digests);
      for (const [k, d] of window.entries()) {
        // Past the budget no new put starts: the rest (still PENDING) is the next invocation's.
        if (budget.exhausted()) {
          left = deliveries.length - start + window.length - k;
          break windows;
        }
        await reservation.next();
        if (this.blocked.has(d.item)) continue;
        // A slot first, then the read's age: the check is made as the put leaves (L6), not before
        // the put waits for one of the MAX_WRITES_IN_FLIGHT slots.
        await inFlight.ready();
        const decision = await this.decideFresh(d, window.slice(k));
        if ('outcome' in decision) {
          d.destination.tags[d.tag] = decision.outcome;
          continue;
        }
        if (!this.manifestFor(d)) continue;
        // Sent when its token is due, without waiting for the previous put's answer: an invocation
        // whose share of the quota is more than one put per call latency keeps it busy. The read it
        // relies on was checked just above, with a slot free, so the read-to-write bound holds per put.
        const target = decision.put;
        await inFlight.send(async () => {
          const began = windowClock();
          if (await this.putTag(d, target)) put.push(d);
          sizer.recordWrite(windowClock() - began);
          // One image can carry dozens of tags, each paced by the PutImage quota: progress per put.
          await this.afterPut();
        });
        budget.recordWrite();
      }
      await inFlight.drain();
    }
    await inFlight.drain();
    // 3. Follow every tag that moved in the source after it was read (also when the budget stopped
    // the puts: the next invocation re-reads, but only this one knows which tags it put).
    if (put.length > 0) await this.followMovedTags(put);
    return left;
  }

  /** Puts `d.tag` on our digest; false when the copy here turned out incomplete. */
  private async putTag(d: Delivery, target: 'BACKFILLED' | 'OVERWRITTEN'): Promise<boolean> {
    const stored = this.manifests.get(d.item.imageDigest)!;
    let outcome: PutResult;
    try {
      // No limiter here: the window's tokens were reserved above.
      outcome = await putManifest(this.group.handle.client, this.ref, {
        manifest: stored.manifest,
        mediaType: stored.mediaType,
        imageDigest: d.item.imageDigest,
        tag: d.tag,
      });
    } catch (error) {
      const name = awsErrorName(error);
      if (name === undefined || !INCOMPLETE_COPY_ERRORS.has(name)) throw error;
      this.ctx.logger.error('destination copy is incomplete; its tags are left for VerifyDigests', {
        ...this.keys(d),
        tag: d.tag,
        errorName: name,
      });
      this.blocked.add(d.item);
      return false;
    }
    if (outcome === 'tag-exists') {
      // Immutable tag set meanwhile (by replication or someone else): classify where it points.
      const now = (await resolveTags(this.group.handle.client, this.ref, [d.tag])).get(d.tag);
      d.destination.tags[d.tag] = now === d.item.imageDigest ? 'ALREADY_PRESENT' : 'CONFLICT';
    } else {
      d.destination.tags[d.tag] = target;
    }
    this.ctx.logger.info('promoted tag', { ...this.keys(d), tag: d.tag, outcome: d.destination.tags[d.tag] });
    return true;
  }

  /**
   * Owners' deletes win (docs/architecture.md §3.2 #11): a source tag deleted after our last read
   * and before our put was re-created here by that put. ECR has no conditional put, so the put is
   * undone: the destination tag goes where it still points to our digest and the put created it
   * (BACKFILLED; an OVERWRITTEN tag had another digest we cannot restore, so it stays, logged). The
   * tag is removed by tag only, and only where the copy keeps another tag (the temp tag, usually) or
   * the run brought the copy: removing a copy's last tag deletes the copy, and one that was there
   * before is never deleted. Reported SOURCE_GONE. A delete replicated by a rule that replicates
   * deletes may have removed it already: then it is absent, which is done.
   * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchDeleteImage.html
   */
  private async undoDeletedTags(gone: readonly Delivery[]): Promise<void> {
    const ours = gone.filter((d) => d.destination.tags[d.tag] === 'BACKFILLED');
    for (const d of gone) {
      if (d.destination.tags[d.tag] === 'OVERWRITTEN') {
        this.ctx.logger.warn('source tag deleted after our read; the overwritten destination tag stays', {
          ...this.keys(d),
          tag: d.tag,
        });
      }
      d.destination.tags[d.tag] = 'SOURCE_GONE';
    }
    if (ours.length === 0) return;
    const client = this.group.handle.client;
    const there = await resolveTags(
      client,
      this.ref,
      ours.map((d) => d.tag),
    );
    const still = ours.filter((d) => there.get(d.tag) === d.item.imageDigest);
    if (still.length === 0) return;
    const imageTags = await describeImagesTags(client, this.ref, [
      ...new Set(still.map((d) => d.item.imageDigest)),
    ]);
    const removable = still.filter((d) => {
      const tags = imageTags.get(d.item.imageDigest) ?? [];
      const keepsAnother = tags.some(
        (t) => t !== d.tag && !still.some((o) => o.tag === t && o.item === d.item),
      );
      if (keepsAnother || !this.copyWasPresent(d)) return true;
      this.ctx.logger.warn(
        'source tag deleted after our read; its tag stays on a copy that was here before (its last tag)',
        {
          ...this.keys(d),
          tag: d.tag,
        },
      );
      return false;
    });
    if (removable.length === 0) return;
    const { deleted, absent } = await deleteTags(
      client,
      this.ref,
      removable.map((d) => d.tag),
    );
    this.ctx.logger.warn('source tag deleted during the run; our put of it undone', {
      repository: this.group.repositoryName,
      region: this.group.handle.region,
      registryId: this.group.handle.registryId,
      deleted,
      absent,
    });
  }

  /** Whether the destination held the digest before the run (unknown counts as yes). */
  private copyWasPresent(d: Delivery): boolean {
    const j = d.item.destinations.findIndex(
      (wanted) => wanted.region === d.destination.region && wanted.registryId === d.destination.registryId,
    );
    return j === -1 ? true : digestWasPresent(d.item, j, d.destination);
  }

  /**
   * A tag pushed to a newer digest in the source after our read may have replicated *before* our put
   * landed, which then reverted it in the destination. Read the source tags once more; for each tag
   * that moved, read the destination: still on our digest while the newer digest's copy is already
   * there → put the tag on the newer digest (what its replication did before our put). Not arrived
   * yet → its replication will set the tag itself. Either way the tag is MOVED.
   */
  private async followMovedTags(put: readonly Delivery[]): Promise<void> {
    const sourceNow = await resolveTags(
      this.ctx.source.client,
      this.sourceRef,
      put.map((d) => d.tag),
    );
    const gone = put.filter((d) => sourceNow.get(d.tag) === undefined);
    if (gone.length > 0) await this.undoDeletedTags(gone);
    const moved = put.filter((d) => {
      const digest = sourceNow.get(d.tag);
      return digest !== undefined && digest !== d.item.imageDigest;
    });
    if (moved.length === 0) return;
    const newer = new Map(moved.map((d) => [d, sourceNow.get(d.tag)]));
    const there = await readImages(this.group.handle.client, this.ref, {
      tags: moved.map((d) => d.tag),
      digests: [...newer.values()].filter((digest): digest is string => digest !== undefined),
    });
    for (const d of moved) {
      d.destination.tags[d.tag] = 'MOVED';
      const digest = newer.get(d);
      const manifest = digest === undefined ? undefined : there.manifests.get(digest);
      const fields = { ...this.keys(d), tag: d.tag, newerDigest: digest };
      if (there.tags.get(d.tag) !== d.item.imageDigest || !manifest) {
        this.ctx.logger.info('source tag moved after our put; its own replication carries it', fields);
        continue;
      }
      const outcome = await putManifest(
        this.group.handle.client,
        this.ref,
        {
          manifest: manifest.manifest,
          mediaType: manifest.mediaType,
          imageDigest: manifest.imageDigest,
          tag: d.tag,
        },
        this.group.handle.limiter,
      );
      this.ctx.logger.warn('source tag moved and replicated before our put; destination follows it', {
        ...fields,
        outcome,
      });
    }
  }
}

export async function promoteTags(ctx: StepContext, state: BatchState): Promise<BatchState> {
  const results = resultsOf(state);
  // The other strategies pass through (core/steps.ts): their tags travelled with the push.
  if (!worksFor('PromoteTags', ctx.batch.strategy)) return { ...state, results };
  const errors = new ItemErrors(ctx.logger, ctx.step);
  const sizers = new Map<RateLimiter, WindowSizer>();
  let left = 0;
  for (const group of groupDeliveries(ctx, state, results)) {
    if (ctx.budget.exhausted()) {
      left += group.deliveries.length;
      continue;
    }
    const { limiter } = group.handle;
    const sizer = sizers.get(limiter) ?? new WindowSizer(limiter, MAX_WRITES_IN_FLIGHT);
    sizers.set(limiter, sizer);
    try {
      left += await new GroupPromotion(ctx, group, sizer, async () => {
        await ctx.progress?.(results);
      }).run();
    } catch (error) {
      errors.record(error, 'promoting tags', {
        repository: group.repositoryName,
        region: group.handle.region,
        registryId: group.handle.registryId,
      });
    }
  }
  // Then the referrers the destinations lack (copy-referrers.ts): untagged, after their subject.
  left += await copyReferrers(ctx, state, results, errors);
  try {
    errors.throwIfAny();
  } catch (error) {
    // Its retry starts from what this invocation did (continuation.ts), not from its input alone.
    throw attachPartialResults(error, results);
  }
  // The tags left are still PENDING: the next invocation starts from these results (continuation.ts),
  // and its re-reads would find this one's puts on the digest anyway (no second PutImage).
  if (left > 0) throw new WorkRemainingError(ctx.step, left, 'tag and referrer deliveries', results);
  return { ...state, results };
}
