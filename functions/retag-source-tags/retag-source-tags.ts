/**
 * RetagSourceTags (strategy `retag-source`, the classic trick for destinations the workflow may not
 * write to): for each original tag, delete it in the source and put it straight back on the same
 * manifest. The re-put is a push, so replication carries the tag to every destination.
 *
 * Safety (docs/architecture.md §3.2):
 * - The run's temp tag is on the image before any delete, and is re-checked (in the same read as the
 *   tag itself) right before every delete: removing an original tag can never remove the image's last
 *   tag, so no image is ever deleted.
 * - A tag that now points to another digest is never touched (MOVED): its newer push replicates itself.
 * - A destination where the tag points to another digest is never overwritten unless the input asks
 *   (CONFLICT blocks the retag; an immutable destination is safe, ECR drops the tag there).
 * - Crash-safe and repeat-free through the retag journal (journal.ts): a rerun re-puts a tag it
 *   deleted, never a tag someone else deleted, and never re-does a finished tag.
 * - Owners' deletes win (§3.2 #11): ECR has no conditional put, so the run tells its own writes from
 *   the owner's by their answers. A tag its owner deletes after the last look finds our delete with
 *   nothing to delete (ImageNotFound): it is not re-put, and the journal records it `gone` so no rerun
 *   restores it. An image its owner deletes by digest between our delete and our re-put is re-created
 *   by that re-put, holding only the re-put tag: the read after the put finds our temp tag gone with
 *   it, and the re-put tag is removed again (the re-created image with it, where it is the last tag).
 *   Either way the tag is SOURCE_GONE.
 * The tag is unavailable in the source between the delete and the re-put; that window is measured
 * and returned per tag (`sourceTagUnavailableMs`), and kept short: the manifest is read and the
 * PutImage token taken before the delete, so the window holds one journal write and the PutImage.
 */
import type {
  BatchState,
  DestinationResult,
  ItemResult,
  TagOutcome,
  WorkItem,
} from '../../core/contracts/contracts.ts';
import {
  destinationKey,
  destinationTarget,
  isMarkerItem,
  isSourceGone,
  resultsOf,
  tagsWithOutcome,
} from '../../core/batch/batch-results.ts';
import { pairItemsWithResults } from '../../core/batch/item-pairs.ts';
import {
  deleteTags,
  describeImagesDetails,
  describeRepository,
  getManifestByDigest,
  isTagImmutable,
  putManifest,
  resolveTags,
  type RepositorySettings,
  type StoredManifest,
} from '../../core/ecr/ecr.ts';
import { TransientError, WorkRemainingError } from '../../core/errors/errors.ts';
import { attachPartialResults } from '../../core/run-files/continuation.ts';
import { ItemErrors } from '../../core/errors/item-errors.ts';
import { imageKeys } from '../../core/logger.ts';
import type { RegistryHandle, StepContext } from '../step-kit/step-context.ts';
import { worksFor } from '../../core/steps.ts';
import { createRetagJournal, type RetagJournal, type RetagJournalEntry } from './journal.ts';

const PENDING: ReadonlySet<TagOutcome> = new Set(['PENDING']);

/** Per tag in this invocation, what happened in the source (for tests, logs and the bench). */
export interface RetagEvent {
  repositoryName: string;
  imageDigest: string;
  tag: string;
  action: 'retagged' | 'recovered' | 'already-done' | 'moved' | 'source-gone' | 'not-needed';
  unavailableMs?: number;
}

interface ItemRetagState {
  ctx: StepContext;
  journal: RetagJournal;
  item: WorkItem;
  result: ItemResult;
  source: RegistryHandle;
  stored?: StoredManifest;
  destinationTags: Map<number, Map<string, string | undefined>>;
  destinationSettings: Map<number, RepositorySettings | undefined>;
  events: RetagEvent[];
}

function applyOutcomes(result: ItemResult, tag: string, outcomes: Record<string, TagOutcome>): void {
  for (const destination of result.destinations) {
    const outcome = outcomes[destinationKey(destination)];
    if (destination.tags[tag] === 'PENDING' && outcome !== undefined) destination.tags[tag] = outcome;
  }
}

function applyToPending(result: ItemResult, tag: string, outcome: TagOutcome): void {
  for (const destination of result.destinations)
    if (destination.tags[tag] === 'PENDING') destination.tags[tag] = outcome;
}

/**
 * What the re-put will do for `tag` in each destination that still needs it. The re-put replicates
 * the tag to **every** destination of the repository's rules, listed or not, so a destination where
 * the tag points to another digest (and ECR would move it) blocks the retag, whether it needs the tag
 * or not: the conflicting tag is never overwritten unless that destination asked for it.
 */
async function classify(state: ItemRetagState, tag: string): Promise<Record<string, TagOutcome>> {
  const { ctx, item, result } = state;
  const outcomes: Record<string, TagOutcome> = {};
  let blockedBy: string | undefined;
  for (const [j, destination] of result.destinations.entries()) {
    const needs = destination.tags[tag] === 'PENDING';
    const key = destinationKey(destination);
    const handle = ctx.destination(destinationTarget(item, j, destination));
    const ref = handle.ref(item.repositoryName);
    const immutable = async () => {
      if (!state.destinationSettings.has(j))
        state.destinationSettings.set(j, await describeRepository(handle.client, ref));
      return isTagImmutable(state.destinationSettings.get(j), tag);
    };
    // A destination the run did not select is read as the deployment reaches it (Plan chose how:
    // functions/plan/reached-destinations.ts); a denial there fails the step, never passes as a conflict.
    let tags = state.destinationTags.get(j);
    if (!tags) {
      tags = await resolveTags(handle.client, ref, item.tags);
      state.destinationTags.set(j, tags);
    }
    const current = tags.get(tag);
    if (!needs) {
      if (current !== undefined && current !== item.imageDigest && !(await immutable())) blockedBy = key;
      continue;
    }
    if (current === item.imageDigest) outcomes[key] = 'ALREADY_PRESENT';
    else if (current === undefined) outcomes[key] = 'BACKFILLED';
    // "If an immutable destination already has the tag, the image is replicated without that tag."
    // https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html
    else if (await immutable()) outcomes[key] = 'CONFLICT';
    else if (ctx.batch.overwriteConflicts) outcomes[key] = 'OVERWRITTEN';
    else {
      outcomes[key] = 'CONFLICT';
      blockedBy = key;
    }
  }
  if (blockedBy !== undefined) {
    // Replication would move the conflicting destination tag: the tag is not retagged at all.
    ctx.logger.warn('tag not retagged: replication would overwrite a conflicting destination tag', {
      ...imageKeys(item.repositoryName, item.imageDigest),
      tag,
      destination: blockedBy,
    });
    for (const key of Object.keys(outcomes)) {
      if (outcomes[key] === 'BACKFILLED' || outcomes[key] === 'OVERWRITTEN') outcomes[key] = 'CONFLICT';
    }
  }
  return outcomes;
}

async function loadManifest(state: ItemRetagState): Promise<StoredManifest> {
  state.stored ??= await getManifestByDigest(
    state.source.client,
    state.source.ref(state.item.repositoryName),
    state.item.imageDigest,
  );
  if (!state.stored) throw new TransientError(`source manifest ${state.item.imageDigest} could not be read`);
  return state.stored;
}

/**
 * Puts the run's temp tag back if it is missing (it is what keeps the image alive during a retag):
 * `held` when it holds the image, `gone` / `moved` when `tag` itself no longer is on the image (its
 * owner deleted or moved it; then nothing is put). A temp tag put on an image its owner deleted by
 * digest right before re-creates it: found by its new imagePushedAt and undone (owners' deletes win).
 */
async function ensureTempTag(
  state: ItemRetagState,
  stored: StoredManifest,
  tag: string,
): Promise<'held' | 'gone' | 'moved'> {
  const { ctx, source, item, result } = state;
  const ref = source.ref(item.repositoryName);
  const current = await resolveTags(source.client, ref, [result.tempTag, tag]);
  const temp = current.get(result.tempTag);
  if (temp === item.imageDigest) return 'held';
  if (temp !== undefined) throw new Error(`temp tag ${result.tempTag} points to ${temp}; refusing to retag`);
  if (current.get(tag) === undefined) return 'gone';
  if (current.get(tag) !== item.imageDigest) return 'moved';
  await putManifest(
    source.client,
    ref,
    {
      manifest: stored.manifest,
      mediaType: stored.mediaType,
      imageDigest: item.imageDigest,
      tag: result.tempTag,
    },
    source.limiter,
  );
  if (!(await wasRecreated(state, result.tempTag))) return 'held';
  await deleteTags(source.client, ref, [result.tempTag]);
  ctx.logger.warn('source image deleted during the retag and re-created by our temp tag; undone', {
    ...imageKeys(item.repositoryName, item.imageDigest),
    tag,
    tempTag: result.tempTag,
  });
  return 'gone';
}

/**
 * Puts `tag` back on the manifest: `moved` when someone else set the tag meanwhile (an immutable
 * tag), `recreated` when the image itself was gone and the put re-created it (see undoRecreated).
 */
async function reput(
  state: ItemRetagState,
  tag: string,
  stored: StoredManifest,
  paced: boolean,
): Promise<'put' | 'moved' | 'recreated'> {
  const { source, item, result } = state;
  const ref = source.ref(item.repositoryName);
  const outcome = await putManifest(
    source.client,
    ref,
    { manifest: stored.manifest, mediaType: stored.mediaType, imageDigest: item.imageDigest, tag },
    paced ? undefined : source.limiter,
  );
  state.ctx.budget.recordWrite();
  // One read answers both questions: where the tag points, and whether our temp tag (which holds
  // the image through the retag) survived.
  const after = await resolveTags(source.client, ref, [tag, result.tempTag]);
  if (after.get(tag) !== item.imageDigest) return outcome === 'tag-exists' ? 'moved' : 'put';
  if (after.get(result.tempTag) === item.imageDigest) return 'put';
  return (await wasRecreated(state, tag)) ? 'recreated' : 'put';
}

/**
 * Our temp tag is gone from the image we just re-put a tag on: deleted by digest and re-created by
 * our put, or only the temp tag removed by someone? A re-tag leaves an image's imagePushedAt alone,
 * and a re-created image has a new one (PushTempTags tells its re-creations the same way); an item
 * planned without it counts as re-created when the re-put tag is all the image holds.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageDetail.html
 */
async function wasRecreated(state: ItemRetagState, tag: string): Promise<boolean> {
  const { source, item } = state;
  const details = await describeImagesDetails(source.client, source.ref(item.repositoryName), [
    item.imageDigest,
  ]);
  const detail = details.get(item.imageDigest);
  if (!detail?.tags.includes(tag)) return false;
  if (item.imagePushedAt !== undefined && detail.pushedAt !== undefined)
    return detail.pushedAt > item.imagePushedAt;
  return detail.tags.length === 1;
}

/**
 * Owners' deletes win (docs/architecture.md §3.2 #11): the image was deleted by digest (every tag,
 * our temp tag included) after our last read, and our re-put re-created it. The re-put tag is removed
 * by tag only: where it is the image's last tag the image goes with it, as its owner left it
 * ("when you remove the last tag from an image, the image is deleted"); a tag someone else put on the
 * re-created image meanwhile keeps it. A rule that replicates deletes replays that delete where the
 * re-put replicated; without one, the destinations hold what a retag finished just before the
 * owner's delete would have left (image deletes are not replicated).
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchDeleteImage.html
 */
async function undoRecreated(state: ItemRetagState, tag: string): Promise<void> {
  const { ctx, item, source } = state;
  const { deleted } = await deleteTags(source.client, source.ref(item.repositoryName), [tag]);
  ctx.logger.warn('source image deleted during the retag and re-created by our re-put; re-put undone', {
    ...imageKeys(item.repositoryName, item.imageDigest),
    tag,
    undone: deleted.includes(tag),
  });
}

/**
 * Records that the owner deleted `tag` while we held a journal entry for it, so that no rerun takes
 * the absent tag for one we deleted and restores it. Best effort: a failed write is logged; the
 * results (SOURCE_GONE) already keep this run's retries from touching the tag again.
 */
async function journalGone(state: ItemRetagState, tag: string, entry: RetagJournalEntry): Promise<void> {
  const { ctx, journal, item } = state;
  try {
    await journal.put(item.repositoryName, item.imageDigest, tag, { ...entry, phase: 'gone' });
  } catch (error) {
    ctx.logger.warn('retag journal write failed; the tag stays SOURCE_GONE in the results', {
      ...imageKeys(item.repositoryName, item.imageDigest),
      tag,
      error: String(error),
    });
  }
}

function recordWindow(state: ItemRetagState, tag: string, deletedAt: number | undefined): number | undefined {
  if (deletedAt === undefined) return undefined;
  const window = state.ctx.clock.now() - deletedAt;
  state.result.sourceTagUnavailableMs = { ...state.result.sourceTagUnavailableMs, [tag]: window };
  return window;
}

async function retagTag(state: ItemRetagState, tag: string): Promise<void> {
  const { ctx, journal, item, result, source } = state;
  const ref = source.ref(item.repositoryName);
  const keys = { ...imageKeys(item.repositoryName, item.imageDigest), tag };
  const event = (action: RetagEvent['action'], unavailableMs?: number): void => {
    state.events.push({
      repositoryName: item.repositoryName,
      imageDigest: item.imageDigest,
      tag,
      action,
      ...(unavailableMs !== undefined ? { unavailableMs } : {}),
    });
  };

  const recorded = await journal.get(item.repositoryName, item.imageDigest, tag);
  const seen = await resolveTags(source.client, ref, [tag, result.tempTag]);
  const now = seen.get(tag);
  const sourceGone = (message: string) => {
    ctx.logger.warn(message, keys);
    applyToPending(result, tag, 'SOURCE_GONE');
    event('source-gone');
  };

  if (now !== undefined && now !== item.imageDigest) {
    ctx.logger.info('source tag moved to another digest; left alone', { ...keys, now });
    applyToPending(result, tag, 'MOVED');
    return event('moved');
  }
  if (now === undefined) {
    // Absent. Ours to restore only if the journal says we deleted it (and not that its owner did
    // meanwhile) and our temp tag holds the image.
    if (!recorded || recorded.phase === 'gone' || seen.get(result.tempTag) !== item.imageDigest)
      return sourceGone('source tag was deleted by someone else; not recreated');
    const stored = await loadManifest(state);
    const restored = await reput(state, tag, stored, false);
    if (restored === 'moved') {
      applyToPending(result, tag, 'MOVED');
      return event('moved');
    }
    if (restored === 'recreated') {
      await undoRecreated(state, tag);
      await journalGone(state, tag, recorded);
      return sourceGone('source image deleted during the recovery; not recreated');
    }
    const window = recordWindow(state, tag, recorded.deletedAt);
    ctx.logger.warn('recovered a tag deleted by an interrupted attempt', { ...keys, unavailableMs: window });
    applyOutcomes(result, tag, recorded.outcomes);
    return event('recovered', window);
  }
  if (recorded?.phase === 'deleted') {
    // Deleted and put back by an earlier attempt: done, nothing to repeat.
    applyOutcomes(result, tag, recorded.outcomes);
    return event('already-done');
  }
  // A tag recorded `gone` and present again was pushed anew by its owner: a fresh start.
  const entry = recorded?.phase === 'intent' ? recorded : undefined;

  const outcomes = entry?.outcomes ?? (await classify(state, tag));
  if (!Object.values(outcomes).some((o) => o === 'BACKFILLED' || o === 'OVERWRITTEN')) {
    applyOutcomes(result, tag, outcomes);
    return event('not-needed');
  }

  const stored = await loadManifest(state);
  const hold = await ensureTempTag(state, stored, tag);
  if (hold === 'gone') {
    if (entry) await journalGone(state, tag, entry);
    return sourceGone('source tag was deleted by someone else; not recreated');
  }
  if (hold === 'moved') {
    applyToPending(result, tag, 'MOVED');
    return event('moved');
  }
  const intent: RetagJournalEntry = { phase: 'intent', outcomes };
  if (!entry) await journal.put(item.repositoryName, item.imageDigest, tag, intent);
  // The PutImage token is taken before the delete, so pacing never lengthens the window.
  await source.limiter.take();
  // Last look before the delete: the tag still on our digest, and our temp tag still holding the image.
  const last = await resolveTags(source.client, ref, [tag, result.tempTag]);
  if (last.get(result.tempTag) !== item.imageDigest)
    throw new TransientError(`temp tag vanished before retagging ${tag}`);
  if (last.get(tag) === undefined) {
    await journalGone(state, tag, intent);
    return sourceGone('source tag was deleted by someone else; not recreated');
  }
  if (last.get(tag) !== item.imageDigest) {
    applyToPending(result, tag, 'MOVED');
    return event('moved');
  }

  // Timed from just before the delete is sent to the re-put's answer: an upper bound of the window
  // any client can observe (the registry's own gap starts and ends inside it).
  const deletedAt = ctx.clock.now();
  const { deleted } = await deleteTags(source.client, ref, [tag]);
  if (!deleted.includes(tag)) {
    // Owners' deletes win (§3.2 #11): our delete found nothing (ImageNotFound), so its owner deleted
    // the tag (or the image) after the last look. Putting it back would re-create it: it stays gone.
    await journalGone(state, tag, intent);
    return sourceGone('source tag deleted by its owner right before our delete; not re-put');
  }
  const deletedEntry: RetagJournalEntry = { phase: 'deleted', outcomes, deletedAt };
  try {
    await journal.put(item.repositoryName, item.imageDigest, tag, deletedEntry);
  } catch (error) {
    // Never hold the tag back for the journal: at worst a rerun re-does this tag once.
    ctx.logger.warn('retag journal write failed; re-putting anyway', { ...keys, error: String(error) });
  }
  const reputOutcome = await reput(state, tag, stored, true);
  if (reputOutcome === 'moved') {
    applyToPending(result, tag, 'MOVED');
    return event('moved');
  }
  if (reputOutcome === 'recreated') {
    await undoRecreated(state, tag);
    await journalGone(state, tag, deletedEntry);
    return sourceGone('source image deleted by its owner between our delete and our re-put; not recreated');
  }
  const window = recordWindow(state, tag, deletedAt);
  ctx.logger.info('retagged source tag', { ...keys, unavailableMs: window });
  applyOutcomes(result, tag, outcomes);
  return event('retagged', window);
}

/** The tags of an item still to retag, in the item's tag order. */
function pendingTags(item: WorkItem, result: ItemResult): string[] {
  const pending = new Set(result.destinations.flatMap((d: DestinationResult) => tagsWithOutcome(d, PENDING)));
  const ordered = item.tags.filter((tag) => pending.has(tag));
  for (const tag of pending) if (!ordered.includes(tag)) ordered.push(tag);
  return ordered;
}

export interface RetagResult {
  state: BatchState;
  events: RetagEvent[];
}

export async function retagSourceTagsWithEvents(
  ctx: StepContext,
  state: BatchState,
  journal: RetagJournal = createRetagJournal(ctx.runStore, ctx.batch.bucket, ctx.batch.runPrefix),
): Promise<RetagResult> {
  const results = resultsOf(state);
  const events: RetagEvent[] = [];
  if (!worksFor('RetagSourceTags', ctx.batch.strategy)) return { state: { ...state, results }, events };
  const errors = new ItemErrors(ctx.logger, ctx.step);
  // After a failed re-put (throttling, most likely) no further tag is deleted in this invocation:
  // one tag waiting for recovery is the most a retry should ever have to restore.
  let halted = false;
  // Tags left for the next invocation once the time budget is spent (work-budget.ts).
  let left = 0;

  for (const { item, result } of pairItemsWithResults(state.Items, results)) {
    if (isSourceGone(result) || isMarkerItem(item)) continue;
    const itemState: ItemRetagState = {
      ctx,
      journal,
      item,
      result,
      source: ctx.source,
      destinationTags: new Map(),
      destinationSettings: new Map(),
      events,
    };
    for (const tag of pendingTags(item, result)) {
      if (halted) break;
      // Between tags only: a tag is never left deleted, its re-put always follows in this invocation.
      if (ctx.budget.exhausted()) {
        left += 1;
        continue;
      }
      try {
        await retagTag(itemState, tag);
      } catch (error) {
        const deleted = (await safeResolve(itemState, tag)) === undefined;
        if (deleted) halted = true;
        errors.record(error, `retagging ${tag}`, {
          ...imageKeys(item.repositoryName, item.imageDigest),
          tag,
        });
      }
    }
  }

  try {
    errors.throwIfAny();
  } catch (error) {
    // Its retry starts from what this invocation did (continuation.ts), not from its input alone.
    throw attachPartialResults(error, results);
  }
  // The Retry re-sends the same input; the journal and the re-reads find the tags already retagged.
  if (left > 0) throw new WorkRemainingError(ctx.step, left, 'source tags', results);
  return { state: { ...state, results }, events };
}

/** Whether the tag is absent now (best effort: an unreadable tag counts as absent, to be safe). */
async function safeResolve(state: ItemRetagState, tag: string): Promise<string | undefined> {
  try {
    return (await resolveTags(state.source.client, state.source.ref(state.item.repositoryName), [tag])).get(
      tag,
    );
  } catch {
    return undefined;
  }
}

export async function retagSourceTags(
  ctx: StepContext,
  state: BatchState,
  journal?: RetagJournal,
): Promise<BatchState> {
  return (await retagSourceTagsWithEvents(ctx, state, journal)).state;
}
