/**
 * What a paced step did before it stopped at its time budget (work-budget.ts), or before it failed
 * with an error its state retries (Throttled, Transient: it finishes the other items first), for the
 * invocation that continues it. The state's Retry re-sends the step's original input, so without this record
 * the next invocation would learn its predecessor's work only from its re-reads — safe (no write is
 * repeated), but it would report the tags its predecessor put as ALREADY_PRESENT instead of
 * BACKFILLED, and re-read items it need not look at again.
 *
 * The record is the step's partial results, `runs/<runId>/continuations/<step>/<batchId>.json`,
 * written once per stop or failure and read once per invocation of a continuable step. It only ever says more
 * is done than the input does, and every write is still guarded by the step's own re-reads, so a
 * record that is missing or unreadable costs labels, never safety: the step then goes by its input.
 */
import type { Logger } from '../logger.ts';
import { z } from 'zod';
import { runKeys } from './run-layout.ts';
import { batchIdOf } from './batch-progress.ts';
import { ItemResultSchema, type BatchState, type ItemResult } from '../contracts/contracts.ts';
import { getJson, isNotFound, putJson, type RunStore } from './run-store.ts';
import { resultsMatchItems } from '../batch/item-pairs.ts';

const ContinuationSchema = z.object({
  step: z.string(),
  batchId: z.string(),
  results: z.array(ItemResultSchema),
});

function keyOf(state: BatchState, step: string): string {
  return runKeys(state.BatchInput.runPrefix).continuation(step, batchIdOf(state.Items));
}

/** Records the results a stopped invocation reached (best effort: a failure is logged). */
export async function saveContinuation(
  store: RunStore,
  state: BatchState,
  step: string,
  results: ItemResult[],
  logger: Logger,
): Promise<void> {
  try {
    await putJson(store, state.BatchInput.bucket, keyOf(state, step), {
      step,
      batchId: batchIdOf(state.Items),
      results,
    });
  } catch (error) {
    logger.warn('continuation not recorded; the next invocation goes by its re-reads', {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/**
 * The results a previous invocation of `step` reached on this batch, or undefined (none recorded,
 * unreadable, or not for these items).
 */
export async function loadContinuation(
  store: RunStore,
  state: BatchState,
  step: string,
  logger: Logger,
): Promise<ItemResult[] | undefined> {
  try {
    const record = await getJson(store, state.BatchInput.bucket, keyOf(state, step), ContinuationSchema);
    const sameBatch =
      record.step === step &&
      record.batchId === batchIdOf(state.Items) &&
      resultsMatchItems(state.Items, record.results);
    return sameBatch ? record.results : undefined;
  } catch (error) {
    if (!isNotFound(error))
      logger.warn('continuation unreadable; going by the input and re-reads', {
        error: error instanceof Error ? error.message : String(error),
      });
    return undefined;
  }
}

/** The results a step reached when it threw `error` (see attachPartialResults). */
const partialResults = new WeakMap<object, ItemResult[]>();

/**
 * Marks a step's error with the results it reached, so the step handler records them for the retry
 * (a retry re-sends the step's original input). Returns the error, to be thrown.
 */
export function attachPartialResults(error: unknown, results: ItemResult[]): unknown {
  if (typeof error === 'object' && error !== null) partialResults.set(error, results);
  return error;
}

export function partialResultsOf(error: unknown): ItemResult[] | undefined {
  return typeof error === 'object' && error !== null ? partialResults.get(error) : undefined;
}
