/**
 * Progress a batch records as it goes, so `ecr-backfill watch` (and `local`, the demo) can show tags
 * delivered per destination while a batch is still running — the Map Run's item counts only move
 * when a whole child execution ends.
 *
 * One small JSON document per batch, `runs/<runId>/progress/<batchId>.json`, overwritten by every
 * child step invocation (a CheckReplication poll included): a write per step per batch, never per
 * tag. The batch id is a hash of the batch's items, so a retry or a redrive of the same batch
 * overwrites its own record. Writing goes through `recordBatchProgress` only; the document's
 * shape is `BatchProgressSchema`, which the CLI reads with.
 */
import { createHash } from 'node:crypto';
import type { RunStore } from './run-store.ts';
import type { Logger } from '../logger.ts';
import { z } from 'zod';
import { runKeys } from './run-layout.ts';
import { destinationKey } from '../batch/batch-results.ts';
import {
  FAILURE_OUTCOMES,
  NO_ARTIFACT_TYPE,
  type BatchState,
  type ItemResult,
  type TagOutcome,
  type WorkItem,
} from '../contracts/contracts.ts';
import { putJson } from './run-store.ts';

/** The phases a person reads, in order. Which step says which is the step table's (core/steps.ts). */
export const BATCH_PHASES = [
  'pushing temp tags',
  'waiting for replication',
  'promoting',
  'verifying',
  'cleaning up',
  'finishing',
  'done',
] as const;
export type BatchPhase = (typeof BATCH_PHASES)[number];

/** A batch that has not run its first step to the end yet. */
export const FIRST_PHASE: BatchPhase = 'pushing temp tags';

/** Failures listed per batch record, at most (the report has them all). */
const MAX_FAILURES = 20;

const DestinationProgressSchema = z.object({
  /** (tag, destination) pairs the plan put in this batch for the destination. */
  plannedTags: z.number().int(),
  /** Of those: at the source digest in the destination (BACKFILLED, OVERWRITTEN, ALREADY_PRESENT). */
  deliveredTags: z.number().int(),
  /** Of those: settled otherwise (CONFLICT, MOVED, SOURCE_GONE) or failed. */
  skippedTags: z.number().int(),
  failedTags: z.number().int(),
  /** Images the destination must receive by replication, and how many have arrived. */
  plannedImages: z.number().int(),
  replicatedImages: z.number().int(),
});
export type DestinationProgress = z.infer<typeof DestinationProgressSchema>;

/** A destination with nothing planned and nothing done yet: where both a batch record and a run's totals start. */
export const emptyDestinationProgress = (): DestinationProgress => ({
  plannedTags: 0,
  deliveredTags: 0,
  skippedTags: 0,
  failedTags: 0,
  plannedImages: 0,
  replicatedImages: 0,
});

/** A batch's referrers of one artifact type, counted per (referrer, destination). */
const ReferrerProgressSchema = z.object({
  planned: z.number().int(),
  /** Copied, or found there (BACKFILLED, ALREADY_PRESENT). */
  delivered: z.number().int(),
  /** Settled otherwise (SOURCE_GONE: its owner deleted it in the source). */
  skipped: z.number().int(),
  failed: z.number().int(),
});
export type ReferrerProgress = z.infer<typeof ReferrerProgressSchema>;

export const emptyReferrerProgress = (): ReferrerProgress => ({
  planned: 0,
  delivered: 0,
  skipped: 0,
  failed: 0,
});

export const BatchProgressSchema = z.object({
  batchId: z.string(),
  /** The child step that wrote the record last, and the phase the batch is in since. */
  step: z.string(),
  phase: z.enum(BATCH_PHASES),
  updatedAt: z.number(),
  images: z.number().int(),
  destinations: z.record(z.string(), DestinationProgressSchema),
  /** The batch's referrers per artifact type (absent: none planned; a record written before them). */
  referrers: z.record(z.string(), ReferrerProgressSchema).optional(),
  failures: z.array(
    z.object({
      repositoryName: z.string(),
      imageDigest: z.string(),
      destination: z.string(),
      tag: z.string(),
      outcome: z.string(),
      failureCode: z.string().optional(),
    }),
  ),
});
export type BatchProgress = z.infer<typeof BatchProgressSchema>;

/** Stable per batch content: the same items (a retry, a redrive) give the same id. */
export function batchIdOf(items: readonly WorkItem[]): string {
  const hash = createHash('sha256');
  for (const item of items) hash.update(`${item.repositoryName}@${item.imageDigest}\n`);
  return hash.digest('hex').slice(0, 16);
}

const DELIVERED: ReadonlySet<TagOutcome> = new Set(['BACKFILLED', 'OVERWRITTEN', 'ALREADY_PRESENT']);

/**
 * The batch's progress from its items (the plan) and the results so far. Until a step has written
 * results, everything is planned and nothing is done. A tag counts as delivered only once its
 * destination holds the image (replication complete or not needed), so retag-source's early
 * BACKFILLED marks do not run ahead of replication.
 */
export function batchProgressOf(
  step: string,
  phase: BatchPhase,
  items: readonly WorkItem[],
  results: readonly ItemResult[] | undefined,
  now: number,
): BatchProgress {
  const destinations: Record<string, DestinationProgress> = {};
  const referrers: Record<string, ReferrerProgress> = {};
  const failures: BatchProgress['failures'] = [];
  const entry = (key: string): DestinationProgress => (destinations[key] ??= emptyDestinationProgress());
  for (const [i, item] of items.entries()) {
    const result = results?.[i];
    const types = new Map((item.referrers ?? []).map((r) => [r.digest, r.artifactType ?? NO_ARTIFACT_TYPE]));
    for (const planned of item.destinations) {
      const key = destinationKey(planned);
      const progress = entry(key);
      progress.plannedTags += planned.tags.length;
      if (!planned.digestPresent) progress.plannedImages += 1;
      const done = result?.destinations.find(
        (d) => d.extra !== true && d.region === planned.region && d.registryId === planned.registryId,
      );
      for (const digest of planned.referrers ?? []) {
        const counts = (referrers[types.get(digest) ?? NO_ARTIFACT_TYPE] ??= emptyReferrerProgress());
        counts.planned += 1;
        const outcome = done?.referrers?.[digest];
        if (outcome === undefined || outcome === 'PENDING') continue;
        if (FAILURE_OUTCOMES.has(outcome)) counts.failed += 1;
        else if (DELIVERED.has(outcome)) counts.delivered += 1;
        else counts.skipped += 1;
      }
      if (!done) continue;
      const arrived = done.replication === 'COMPLETE' || done.replication === 'NOT_NEEDED';
      if (arrived && !planned.digestPresent) progress.replicatedImages += 1;
      for (const tag of planned.tags) {
        const outcome = done.tags[tag];
        if (outcome === undefined || outcome === 'PENDING') continue;
        if (FAILURE_OUTCOMES.has(outcome)) {
          progress.failedTags += 1;
          if (failures.length < MAX_FAILURES) {
            failures.push({
              repositoryName: item.repositoryName,
              imageDigest: item.imageDigest,
              destination: key,
              tag,
              outcome,
              ...(done.failureCode !== undefined ? { failureCode: done.failureCode } : {}),
            });
          }
        } else if (DELIVERED.has(outcome)) {
          if (arrived) progress.deliveredTags += 1;
        } else {
          progress.skippedTags += 1;
        }
      }
    }
  }
  return {
    batchId: batchIdOf(items),
    step,
    phase,
    updatedAt: now,
    images: items.length,
    destinations,
    ...(Object.keys(referrers).length > 0 && { referrers }),
    failures,
  };
}

/**
 * The one place a batch's progress is written. Best effort: a record that cannot be written costs
 * the display a refresh, never the batch a retry, so errors are logged and swallowed.
 */
export async function recordBatchProgress(
  store: RunStore,
  state: Pick<BatchState, 'BatchInput' | 'Items'>,
  progress: BatchProgress,
  logger: Pick<Logger, 'warn'>,
): Promise<void> {
  const { bucket, runPrefix } = state.BatchInput;
  try {
    await putJson(store, bucket, runKeys(runPrefix).batchProgress(progress.batchId), progress);
  } catch (error) {
    logger.warn('batch progress not recorded', {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/** The shortest time between two progress records written from inside one step invocation. */
export const MID_STEP_PROGRESS_INTERVAL_MS = 2_000;

/**
 * A step's way to record progress part-way (PromoteTags puts one tag after another, paced by the
 * PutImage quota: minutes for a large batch). Writes at most once per `intervalMs`, whatever the
 * number of calls, so the cost follows the step's duration, never its tag count.
 */
export function throttledProgress(
  write: (results: ItemResult[]) => Promise<void>,
  clock: { now(): number },
  intervalMs = MID_STEP_PROGRESS_INTERVAL_MS,
): (results: ItemResult[]) => Promise<void> {
  let last = clock.now();
  return async (results) => {
    const now = clock.now();
    if (now - last < intervalMs) return;
    last = now;
    await write(results);
  };
}
