/**
 * FinishBatch: the child workflow's last word.
 *
 * Items that ended in a failure outcome (REPLICATION_TIMEOUT / REPLICATION_FAILED / DIGEST_MISMATCH)
 * get one more look — a replication may have completed late, and a redrive re-runs exactly this
 * step — by running the same logic again for them only: [retag] → check (final) → [promote] → verify
 * → clean up. Every one of those steps is idempotent, so this redoes only what is left.
 *
 * The second look keeps the paced steps' time budget (work-budget.ts; FinishBatch `continues` in
 * core/steps.ts): its retag and promote start no new PutImage past it and throw WorkRemaining, which
 * FinishBatch passes on with the whole batch's results (the re-evaluated items as far as they got,
 * their failures reset), recorded as its continuation. Its own retrier re-enters it; the next
 * invocation re-evaluates every item with a failure or a tag still PENDING, so a 600 s Lambda never
 * runs out of time at 1 PutImage/s.
 *
 * Then: failures left → throw ItemsFailed (the child fails, the map fails, the execution can be
 * redriven) with a compact JSON message the report can be built from (FAILED_n.json); otherwise the
 * BatchResult, which the map's ResultWriter stores in SUCCEEDED_n.json.
 */
import type {
  BatchResult,
  BatchState,
  ItemResult,
  TagOutcome,
  WorkItem,
} from '../../core/contracts/contracts.ts';
import { FAILURE_OUTCOMES } from '../../core/contracts/contracts.ts';
import {
  destinationKey,
  hasFailure,
  isMarkerItem,
  referrerLabel,
  resultsOf,
} from '../../core/batch/batch-results.ts';
import { attachPartialResults, partialResultsOf } from '../../core/run-files/continuation.ts';
import { pairItemsWithResults } from '../../core/batch/item-pairs.ts';
import { ItemsFailedError, WorkRemainingError } from '../../core/errors/errors.ts';
import { countTagOutcomes } from '../../core/metrics.ts';
import type { StepContext } from '../step-kit/step-context.ts';
import { checkReplication } from '../check-replication/check-replication.ts';
import { cleanupTempTags } from '../cleanup-temp-tags/cleanup-temp-tags.ts';
import { promoteTags } from '../promote-tags/promote-tags.ts';
import type { RetagJournal } from '../retag-source-tags/journal.ts';
import { retagSourceTags } from '../retag-source-tags/retag-source-tags.ts';
import { verifyDigests } from '../verify-digests/verify-digests.ts';
import { worksFor } from '../../core/steps.ts';

/** Leaves room under Step Functions' 32,768-character cause for the Lambda error envelope and trace. */
export const MAX_FAILURE_MESSAGE_CHARS = 28_000;

export interface FailedTag {
  repositoryName: string;
  imageDigest: string;
  destination: string;
  tag: string;
  outcome: TagOutcome;
  failureCode?: string;
}

export function failedTags(results: readonly ItemResult[]): FailedTag[] {
  return results.flatMap((result) =>
    result.destinations.flatMap((destination) =>
      [
        ...Object.entries(destination.tags),
        ...Object.entries(destination.referrers ?? {}).map(
          ([digest, outcome]) => [referrerLabel(digest), outcome] as const,
        ),
      ]
        .filter(([, outcome]) => FAILURE_OUTCOMES.has(outcome))
        .map(([tag, outcome]) => ({
          repositoryName: result.repositoryName,
          imageDigest: result.imageDigest,
          destination: destinationKey(destination),
          tag,
          outcome,
          ...(destination.failureCode ? { failureCode: destination.failureCode } : {}),
        })),
    ),
  );
}

/**
 * `{runId, failed, results}` as JSON within `maxChars`: results are dropped first
 * (`resultsOmitted: true`), then the failed list is cut (`truncated`: how many were left out).
 */
export function failureMessage(
  runId: string,
  failed: readonly FailedTag[],
  results: readonly ItemResult[],
  maxChars = MAX_FAILURE_MESSAGE_CHARS,
): string {
  const full = JSON.stringify({ runId, failed, results });
  if (full.length <= maxChars) return full;
  let kept = failed.length;
  for (;;) {
    const message = JSON.stringify({
      runId,
      failed: failed.slice(0, kept),
      ...(kept < failed.length ? { truncated: failed.length - kept } : {}),
      resultsOmitted: true,
    });
    if (message.length <= maxChars || kept === 0) return message;
    // Shrink in proportion to the overshoot (plus one), so this converges in a few passes.
    kept = Math.max(0, Math.min(kept - 1, Math.floor((kept * maxChars) / message.length)));
  }
}

/** A failed item's failures, reset so the step logic treats them as not yet done. */
function resetFailures(item: WorkItem, result: ItemResult): ItemResult {
  const reset = structuredClone(result);
  for (const destination of reset.destinations) {
    if (destination.replication === 'FAILED' || destination.replication === 'TIMEOUT') {
      destination.replication = 'PENDING';
      delete destination.failureCode;
    }
    // A referrer found missing is copied again.
    for (const [digest, outcome] of Object.entries(destination.referrers ?? {})) {
      if (FAILURE_OUTCOMES.has(outcome)) destination.referrers![digest] = 'PENDING';
    }
    for (const [tag, outcome] of Object.entries(destination.tags)) {
      if (!FAILURE_OUTCOMES.has(outcome)) continue;
      // The marker tag travels with the push; every other tag is back to "to do".
      destination.tags[tag] = isMarkerItem(item) && tag === reset.tempTag ? 'BACKFILLED' : 'PENDING';
    }
  }
  return reset;
}

export interface FinishBatchOptions {
  journal?: RetagJournal;
}

async function reevaluate(
  ctx: StepContext,
  state: BatchState,
  options: FinishBatchOptions,
): Promise<BatchState> {
  let sub = state;
  if (worksFor('RetagSourceTags', ctx.batch.strategy)) sub = await retagSourceTags(ctx, sub, options.journal);
  sub = await checkReplication(ctx, sub, { final: true });
  sub = await promoteTags(ctx, sub);
  sub = await verifyDigests(ctx, sub);
  return cleanupTempTags(ctx, sub);
}

/**
 * Whether the item takes the second look: a failure outcome, or a tag still PENDING (after
 * VerifyDigests none is, unless a previous invocation of the second look stopped at its budget).
 */
const needsSecondLook = (result: ItemResult): boolean =>
  hasFailure(result) ||
  result.destinations.some((destination) => Object.values(destination.tags).includes('PENDING'));

export async function finishBatch(
  ctx: StepContext,
  state: BatchState,
  options: FinishBatchOptions = {},
): Promise<BatchResult> {
  const pairs = pairItemsWithResults(state.Items, resultsOf(state));
  const failing = pairs.filter(({ result }) => needsSecondLook(result));

  // The failing items' results after the second look, keyed by their item (the objects of `pairs`).
  const redone = new Map<WorkItem, ItemResult>();
  if (failing.length > 0) {
    ctx.logger.info('re-evaluating failed items', { items: failing.length });
    const sub: BatchState = {
      BatchInput: state.BatchInput,
      Items: failing.map(({ item }) => item),
      results: failing.map(({ item, result }) => resetFailures(item, result)),
    };
    const merge = (subResults: readonly ItemResult[]): ItemResult[] => {
      for (const { item, result } of pairItemsWithResults(sub.Items, [...subResults]))
        redone.set(item, result);
      return pairs.map(({ item, result }) => redone.get(item) ?? result);
    };
    try {
      merge((await reevaluate(ctx, sub, options)).results ?? []);
    } catch (error) {
      // Stopped at the budget (or a retried error): the record the next invocation starts from is the
      // whole batch, the re-evaluated items as far as they got (continuation.ts).
      if (error instanceof WorkRemainingError) {
        const merged = merge(error.partialResults);
        const left = merged.filter(needsSecondLook).length;
        throw new WorkRemainingError(ctx.step, left, 'items to re-evaluate', merged);
      }
      const partial = partialResultsOf(error);
      throw partial ? attachPartialResults(error, merge(partial)) : error;
    }
  }
  const results = pairs.map(({ item, result }) => redone.get(item) ?? result);

  const failed = failedTags(results);
  const runId = ctx.batch.runId;
  if (failed.length > 0) {
    ctx.logger.error('batch finished with failed items', { failedTags: failed.length });
    throw new ItemsFailedError(failureMessage(runId, failed, results));
  }
  return { runId, results, counts: countTagOutcomes(results) };
}
