/**
 * Work items and batches within Step Functions' payload limits, whatever the tags and destinations.
 *
 * A BackfillImages child carries its batch (`{BatchInput, Items}`) *and* the per-item results its
 * steps add (`results`) as its state, which Step Functions holds to 256 KiB: "Maximum input or output
 * size for a task, state, or execution: 256 KiB of data as a UTF-8 encoded string"
 * (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html); over it, the state fails
 * with `States.DataLimitExceeded`, which no Retry or Catch matches and every redrive repeats. The
 * ItemBatcher bounds only the batch's bytes (`MaxInputBytesPerBatch`, at most 256 KiB,
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html), and this
 * workflow holds it to 64 KiB at most. Results are not proportional to items: per tag and
 * destination an item holds `"tag",` and a result `"tag":"REPLICATION_TIMEOUT",` (6.5 times more for
 * a one-character tag), and a result also lists the destinations its push replicates to that the
 * item does not name (extra destinations, up to ECR's 25). So the bound is derived per run:
 *
 * 1. An item over MAX_ITEM_BYTES (an image with hundreds of tags, many destinations) is split into
 *    parts by tags (`splitItem`). Parts share the digest: they push the same deterministic temp tag
 *    (the second put finds it in place), each promotes and verifies its own tags, and cleanup never
 *    removes an image's last tag, so the parts may run in any batches, in any order.
 * 2. Each item's footprint — its bytes plus an upper bound of its result's (`resultBoundBytes`) —
 *    gives the largest batch of such items that keeps the state within the limit:
 *    `bytes × STATE_BUDGET_BYTES / footprint`. The run's `MaxInputBytesPerBatch` is the smallest of
 *    those over its items (`BatchBytesBound`), capped at MAX_INPUT_BYTES_PER_BATCH. Then for any
 *    batch: Σ footprint = Σ bytes × footprint/bytes ≤ Σ bytes × STATE_BUDGET_BYTES / bound ≤
 *    STATE_BUDGET_BYTES, and the BatchInput, the envelope and separators fit in the reserve.
 *
 * Registries with ordinary tags keep 64 KiB batches; one with one-character tags or many extra
 * destinations gets smaller batches, never a state over the limit.
 */
import { TEMP_TAG_MAX_LENGTH } from '../ecr/temp-tags.ts';
import { TAG_OUTCOMES, type DestinationResult, type ItemResult, type WorkItem } from './contracts.ts';

/** Step Functions' limit on a state's input or output (service-quotas page, above). */
export const STATE_PAYLOAD_LIMIT_BYTES = 256 * 1024;

/**
 * Kept out of the budget for what is in a child's state besides its items and their results: the
 * BatchInput, the `{"BatchInput":…,"Items":[…],"results":[…]}` envelope and one separator per item
 * and result (at most 100 items a batch, the input's batchSize limit). The BatchInput's settings
 * (run id, bucket, prefixes, Region, account) take well under 1 KiB; its `reachedDestinations`, the
 * unselected destinations the pushes reach with their roles, up to 24 (ECR's 25 less a selected
 * one) of at most MAX_REGION_LENGTH + 12 + ~550 characters (a role ARN with the 512-character
 * path and name ROLE_ARN_PATTERN allows) take up to ~15.4 KiB. 24 KiB holds both with room; the
 * test of this module checks the worst BatchInput against it.
 */
export const STATE_RESERVE_BYTES = 24 * 1024;

/** What items and their results may take of a child's state together. */
export const STATE_BUDGET_BYTES = STATE_PAYLOAD_LIMIT_BYTES - STATE_RESERVE_BYTES;

/**
 * The most bytes of items per batch. ItemBatcher allows up to 256 KiB; 64 KiB leaves room for the
 * results of ordinary items (about three times their size) and keeps a child's history readable.
 * A run's own bound (BatchBytesBound) may be smaller, never larger.
 */
export const MAX_INPUT_BYTES_PER_BATCH = 64 * 1024;

/**
 * The most bytes of one work item: a larger one is split by tags. Small enough that one part fits
 * in any run's batch bound, even with the largest result ratio an item can have (the test of this
 * module checks the worst case: 25 extra destinations and one-character tags).
 */
export const MAX_ITEM_BYTES = 8 * 1024;

/** ECR allows at most 25 unique destinations in a registry's replication configuration. */
export const MAX_REPLICATION_DESTINATIONS = 25;

/**
 * The longest replication failure code a result keeps (CheckReplication truncates ECR's, whose
 * length ECR does not document).
 */
export const MAX_FAILURE_CODE_LENGTH = 64;

/** The longest note a result carries (SOURCE_GONE_RECREATED and the like; checked by the test). */
export const MAX_NOTE_LENGTH = 64;

/** Longest AWS Region name there is room for (today's longest has 14 characters). */
export const MAX_REGION_LENGTH = 32;

const LONGEST_OUTCOME = TAG_OUTCOMES.reduce((a, b) => (b.length > a.length ? b : a));
/** An epoch-ms timestamp or duration as JSON: 13 digits today, room for more. */
const LONGEST_NUMBER = Number.MAX_SAFE_INTEGER;

const bytesOf = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

function worstDestination(
  region: string,
  registryId: string,
  tags: readonly string[],
  extra: boolean,
  referrers: readonly string[] = [],
): DestinationResult {
  return {
    region,
    registryId,
    replication: 'NOT_NEEDED',
    failureCode: 'x'.repeat(MAX_FAILURE_CODE_LENGTH),
    tags: Object.fromEntries(tags.map((tag) => [tag, LONGEST_OUTCOME])),
    ...(referrers.length > 0 && {
      referrers: Object.fromEntries(referrers.map((digest) => [digest, LONGEST_OUTCOME])),
    }),
    ...(extra ? { extra: true } : {}),
    digestPresent: false,
  };
}

/**
 * An upper bound of the bytes of `item`'s result, whatever happens to it: every field at its longest,
 * every tag at the longest outcome, and `extraDestinations` extra destinations.
 */
export function resultBoundBytes(item: WorkItem, extraDestinations: number): number {
  const tempTag = 'x'.repeat(TEMP_TAG_MAX_LENGTH);
  const marker = item.tags.length === 0;
  const worst: ItemResult = {
    repositoryName: item.repositoryName,
    imageDigest: item.imageDigest,
    ...(item.part !== undefined && { part: item.part }),
    tempTag,
    pushedAt: LONGEST_NUMBER,
    destinations: [
      ...item.destinations.map((d) =>
        worstDestination(d.region, d.registryId, marker ? [tempTag] : d.tags, false, d.referrers),
      ),
      ...Array.from({ length: Math.max(0, extraDestinations) }, () =>
        worstDestination('x'.repeat(MAX_REGION_LENGTH), '000000000000', [], true),
      ),
    ],
    note: 'x'.repeat(MAX_NOTE_LENGTH),
    sourceTagUnavailableMs: Object.fromEntries(item.tags.map((tag) => [tag, LONGEST_NUMBER])),
    ...(item.referrers !== undefined && {
      referrerTypes: Object.fromEntries(item.referrers.map((r) => [r.digest, r.artifactType ?? r.mediaType])),
    }),
  };
  return bytesOf(worst);
}

/** Bytes of `item` as a line of items.jsonl and as an element of a batch's Items. */
export const itemBytes = (item: WorkItem): number => bytesOf(item);

/**
 * The largest batch (bytes of items) in which every item is like `item` and the state stays within
 * STATE_BUDGET_BYTES: `bytes × budget / footprint`, capped at MAX_INPUT_BYTES_PER_BATCH.
 */
export function batchBytesFor(item: WorkItem, extraDestinations: number): number {
  const bytes = itemBytes(item) + 1;
  const footprint = bytes + resultBoundBytes(item, extraDestinations) + 1;
  return Math.min(MAX_INPUT_BYTES_PER_BATCH, Math.floor((bytes * STATE_BUDGET_BYTES) / footprint));
}

/** The run's batch bound: the smallest `batchBytesFor` over its items (MAX_INPUT_BYTES_PER_BATCH for none). */
export class BatchBytesBound {
  private bound = MAX_INPUT_BYTES_PER_BATCH;

  /** `pushDestinations`: how many destinations the item's push replicates to (its own and extra ones). */
  add(item: WorkItem, pushDestinations: number): void {
    const extra = Math.max(0, pushDestinations - item.destinations.length);
    this.bound = Math.min(this.bound, batchBytesFor(item, extra));
  }

  get value(): number {
    return this.bound;
  }
}

/** The smaller of two runs' bounds (slices merged by FinalizePlan); undefined counts as the maximum. */
export function minBatchBytes(a: number | undefined, b: number | undefined): number {
  return Math.min(a ?? MAX_INPUT_BYTES_PER_BATCH, b ?? MAX_INPUT_BYTES_PER_BATCH);
}

/**
 * `item` as parts of at most MAX_ITEM_BYTES each, split by tags in their order (the item itself
 * when it fits), numbered by `part` (the report tells them apart by it). The image's referrers (and
 * each destination's lacking ones) go with the first part only. Each part keeps the digest
 * and fields, its tags, and every destination with its
 * tags among them; a destination that lists no tag (nothing to deliver there but the digest) stays
 * in the first part only, so exactly one part brings it the digest. Parts together hold every
 * (tag, destination) of the item exactly once.
 */
export function splitItem(item: WorkItem, maxBytes: number = MAX_ITEM_BYTES): WorkItem[] {
  if (itemBytes(item) <= maxBytes || item.tags.length <= 1) return [item];
  const partOf = (tags: readonly string[], index: number): WorkItem => {
    const kept = new Set(tags);
    const first = index === 0;
    // The image's referrers travel with the first part only: one part copies them.
    const { referrers, ...rest } = item;
    return {
      ...rest,
      ...(first && referrers !== undefined && { referrers }),
      part: index,
      tags: [...tags],
      destinations: item.destinations.flatMap((d) => {
        const mine = d.tags.filter((tag) => kept.has(tag));
        const { referrers: lacking, ...destination } = d;
        const carries = first && (lacking?.length ?? 0) > 0;
        if (mine.length > 0 || carries || (first && d.tags.length === 0))
          return [
            { ...destination, tags: mine, ...(first && lacking !== undefined && { referrers: lacking }) },
          ];
        return [];
      }),
    };
  };
  const parts: WorkItem[] = [];
  let current: string[] = [];
  for (const tag of item.tags) {
    const candidate = [...current, tag];
    if (current.length > 0 && itemBytes(partOf(candidate, parts.length)) > maxBytes) {
      parts.push(partOf(current, parts.length));
      current = [tag];
    } else {
      current = candidate;
    }
  }
  parts.push(partOf(current, parts.length));
  return parts;
}
