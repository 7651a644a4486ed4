/**
 * The per-item results a child workflow's steps pass along (BatchState.results), and the small rules
 * every step applies to them. Results are aligned with `Items` by index (item-pairs.ts walks them
 * together); `Items` never change.
 */
import type {
  BatchState,
  DestinationResult,
  ItemResult,
  TagOutcome,
  WorkItem,
} from '../contracts/contracts.ts';
import { FAILURE_OUTCOMES } from '../contracts/contracts.ts';
import { tempTagFor } from '../ecr/temp-tags.ts';
import { pairItemsWithResults, resultsMatchItems, type ItemWithResult } from './item-pairs.ts';

export const SOURCE_GONE_NOTE = 'SOURCE_GONE';
/**
 * The source image was deleted by its owner between PushTempTags' read and its put, and the put
 * re-created it (holding only the temp tag). Its tags are SOURCE_GONE; the item still waits for
 * replication, so that CleanupTempTags removes the copies the put sent and then the re-created
 * image itself (docs/architecture.md §3.2 #11).
 */
export const RECREATED_NOTE = 'SOURCE_GONE_RECREATED';

/** Identifies a destination in logs and messages: `<registryId>/<region>`. */
export const destinationKey = (d: { region: string; registryId: string }): string =>
  `${d.registryId}/${d.region}`;

/**
 * An untagged image (no selected tags) can only travel with a tag, and keeps it: the run's temp tag
 * is its marker tag (docs/architecture.md §3.2 invariant 7). It is listed as the destination's tag so the report,
 * verification and cleanup treat it like any other tag — except that it is never deleted.
 */
/**
 * How a referrer that failed is named where tags are (FinishBatch's failed list, the report's reading
 * of it): `referrer sha256:…`.
 */
export const referrerLabel = (digest: string): string => `referrer ${digest}`;
export const REFERRER_LABEL_PREFIX = referrerLabel('');

export const isMarkerItem = (item: WorkItem): boolean => item.tags.length === 0;

export function newItemResult(state: BatchState, item: WorkItem): ItemResult {
  const tempTag = tempTagFor(state.BatchInput.tempTagPrefix, state.BatchInput.runId, item.imageDigest);
  const marker = isMarkerItem(item);
  const copied = new Set(item.destinations.flatMap((d) => d.referrers ?? []));
  const referrerTypes = (item.referrers ?? []).flatMap((r) =>
    copied.has(r.digest) && r.artifactType !== undefined ? [[r.digest, r.artifactType] as const] : [],
  );
  return {
    ...(referrerTypes.length > 0 && { referrerTypes: Object.fromEntries(referrerTypes) }),
    repositoryName: item.repositoryName,
    imageDigest: item.imageDigest,
    ...(item.part !== undefined && { part: item.part }),
    tempTag,
    destinations: item.destinations.map((d) => ({
      region: d.region,
      registryId: d.registryId,
      replication: 'PENDING',
      tags: Object.fromEntries((marker ? [tempTag] : d.tags).map((tag) => [tag, 'PENDING'])),
      ...(d.referrers?.length && {
        referrers: Object.fromEntries(d.referrers.map((digest) => [digest, 'PENDING' as const])),
      }),
    })),
  };
}

/** The result's destinations are the item's, in its order, then only extra ones (DestinationResult.extra). */
const sameDestinations = ({ item, result }: ItemWithResult): boolean =>
  item.destinations.every(
    (d, j) =>
      result.destinations[j]?.region === d.region && result.destinations[j].registryId === d.registryId,
  ) && result.destinations.slice(item.destinations.length).every((d) => d.extra === true);

const aligned = (items: readonly WorkItem[], results: readonly ItemResult[]): boolean =>
  resultsMatchItems(items, results) && pairItemsWithResults(items, results).every(sameDestinations);

/**
 * The registry of the j-th destination result: the item's destination (with its role), or for an
 * extra destination just its Region and account (no role is known for a destination the run did not
 * select: same-account access only).
 */
export function destinationTarget(
  item: WorkItem,
  j: number,
  destination: DestinationResult,
): { region: string; registryId: string; roleArn?: string } {
  return item.destinations[j] ?? { region: destination.region, registryId: destination.registryId };
}

/** Whether the digest was in the destination before the run pushed it (unknown counts as yes). */
export function digestWasPresent(item: WorkItem, j: number, destination: DestinationResult): boolean {
  if (destination.extra) return destination.digestPresent !== false;
  return item.destinations[j]?.digestPresent ?? true;
}

/** Outcomes for which the destination's copy of the image is of no use to the tag. */
export const NOT_DELIVERED: ReadonlySet<TagOutcome> = new Set(['CONFLICT', 'MOVED', 'SOURCE_GONE']);

/** A deep copy of the state's results (or fresh ones when the state has none), one per item. */
export function resultsOf(state: BatchState): ItemResult[] {
  if (state.results && aligned(state.Items, state.results)) return structuredClone(state.results);
  return state.Items.map((item) => newItemResult(state, item));
}

export const isSourceGone = (result: ItemResult): boolean => result.note === SOURCE_GONE_NOTE;
export const isRecreated = (result: ItemResult): boolean => result.note === RECREATED_NOTE;

/** See RECREATED_NOTE: every tag (a marker item's temp tag included) is SOURCE_GONE. */
export function markRecreated(result: ItemResult): void {
  result.note = RECREATED_NOTE;
  for (const destination of result.destinations) {
    for (const tag of Object.keys(destination.tags)) {
      if (!FAILURE_OUTCOMES.has(destination.tags[tag]!)) destination.tags[tag] = 'SOURCE_GONE';
    }
  }
}

/** The source image disappeared (deleted by someone else): nothing of it can or should be written. */
export function markSourceGone(result: ItemResult): void {
  result.note = SOURCE_GONE_NOTE;
  for (const destination of result.destinations) {
    if (destination.replication === 'PENDING') destination.replication = 'NOT_NEEDED';
    for (const tag of Object.keys(destination.tags)) {
      if (!FAILURE_OUTCOMES.has(destination.tags[tag]!)) destination.tags[tag] = 'SOURCE_GONE';
    }
  }
}

/** Sets every tag of `destination` whose outcome is in `from` to `to`. */
export function setTagOutcomes(
  destination: DestinationResult,
  from: ReadonlySet<TagOutcome>,
  to: TagOutcome,
  only?: ReadonlySet<string>,
): void {
  for (const [tag, outcome] of Object.entries(destination.tags)) {
    if (from.has(outcome) && (!only || only.has(tag))) destination.tags[tag] = to;
  }
}

export const tagsWithOutcome = (
  destination: DestinationResult,
  outcomes: ReadonlySet<TagOutcome>,
): string[] =>
  Object.entries(destination.tags)
    .filter(([, outcome]) => outcomes.has(outcome))
    .map(([tag]) => tag);

/**
 * Whether the item ended in an outcome that fails the batch (REPLICATION_FAILED/TIMEOUT,
 * DIGEST_MISMATCH), for a tag or for a referrer.
 */
export const hasFailure = (result: ItemResult): boolean =>
  result.destinations.some((d) =>
    [...Object.values(d.tags), ...Object.values(d.referrers ?? {})].some((outcome) =>
      FAILURE_OUTCOMES.has(outcome),
    ),
  );

export const replicationSettled = (d: DestinationResult): boolean =>
  d.replication === 'COMPLETE' || d.replication === 'NOT_NEEDED';
