/**
 * The thin adapter every child-workflow step shares: parse the BatchState at the edge (zod), bind the
 * run id to the logs, run the logic, publish outcome metrics, return the new state. Errors the logic
 * throws are already named (Throttled, Transient, ReplicationPending, ItemsFailed, AccessDenied, …).
 */
import type { BatchState } from '../../core/contracts/contracts.ts';
import { BatchStateSchema } from '../../core/contracts/contracts.ts';
import type { StepDeps } from '../../core/deps.ts';
import type { StepHandler } from '../lambda/step-handler.ts';
import {
  batchProgressOf,
  FIRST_PHASE,
  recordBatchProgress,
  throttledProgress,
  type BatchPhase,
} from '../../core/run-files/batch-progress.ts';
import { continues, phaseAfter, phaseDuring, type BatchStepName } from '../../core/steps.ts';
import { InvalidInputError, ReplicationPendingError, WorkRemainingError } from '../../core/errors/errors.ts';
import { runLogger } from '../../core/logger.ts';
import { createStepContext, rolesByRegistry, type StepContext } from './step-context.ts';
import { UNLIMITED_BUDGET, workBudget } from './work-budget.ts';
import { loadContinuation, partialResultsOf, saveContinuation } from '../../core/run-files/continuation.ts';

/** Parses a child step's input; a malformed state is a wiring bug, named and never retried. */
export function parseBatchState(event: unknown): BatchState {
  const parsed = BatchStateSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidInputError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(state)'}: ${issue.message}`),
    );
  }
  return parsed.data;
}

export function batchStepHandler<TResult extends { results?: BatchState['results'] }>(
  step: BatchStepName,
  deps: StepDeps,
  logic: (ctx: StepContext, state: BatchState) => Promise<TResult>,
): StepHandler<unknown, TResult> {
  // What the step table says of this step (core/steps.ts): whether it continues, its phases.
  const continuable = continues(step);
  return async (event, context) => {
    const input = parseBatchState(event);
    const logger = runLogger(deps.logger, input.BatchInput.runId, step);
    // A continued invocation (WorkRemaining) starts from what its predecessor reached.
    const resumed = continuable ? await loadContinuation(deps.runStore, input, step, logger) : undefined;
    const state: BatchState = resumed ? { ...input, results: resumed } : input;
    if (resumed) logger.info('continuing where the previous invocation stopped');
    const started = deps.clock.now();
    const recordProgress = (phase: BatchPhase, results: BatchState['results']) =>
      recordBatchProgress(
        deps.runStore,
        state,
        batchProgressOf(step, phase, state.Items, results, deps.clock.now()),
        logger,
      );
    const ctx: StepContext = {
      ...createStepContext(
        step,
        deps,
        state.BatchInput,
        logger,
        rolesByRegistry(state.Items, state.BatchInput.reachedDestinations),
        // From the invocation's Context: the paced steps stop starting puts past it and continue.
        continuable ? workBudget(context) : UNLIMITED_BUDGET,
      ),
      progress: throttledProgress((results) => recordProgress(phaseDuring(step), results), deps.clock),
    };
    // The batch's first step: say it started, before the pushes (paced by the quota) take their time.
    if (state.results === undefined) await recordProgress(FIRST_PHASE, undefined);
    logger.info('step started', { items: state.Items.length });
    let result: TResult;
    try {
      result = await logic(ctx, state);
    } catch (error) {
      if (error instanceof ReplicationPendingError && error.partialResults) {
        // A poll that saw some images arrive: the display moves before the batch is through.
        await recordProgress('waiting for replication', error.partialResults);
      }
      // What the next invocation starts from: the results at the budget (WorkRemaining), or after a
      // retried error (Throttled, Transient) once the other items finished.
      const partial = !continuable
        ? undefined
        : error instanceof WorkRemainingError
          ? error.partialResults
          : partialResultsOf(error);
      if (partial) await saveContinuation(deps.runStore, input, step, partial, logger);
      if (error instanceof WorkRemainingError) {
        // Not a failure: the state's Retry continues the step in a new invocation.
        await recordProgress(phaseDuring(step), error.partialResults);
        logger.info('step continues in a new invocation', {
          error: error.message,
          durationMs: deps.clock.now() - started,
        });
        throw error;
      }
      // Named errors are how Step Functions decides to retry, poll, or fail the child: log which one.
      logger.warn('step ended with an error', {
        errorName: (error as Error).name,
        error: (error as Error).message.slice(0, 2000),
        durationMs: deps.clock.now() - started,
      });
      throw error;
    }
    logger.info('step finished', { items: state.Items.length, durationMs: deps.clock.now() - started });
    deps.metrics.publishOutcomes(step, result.results ?? []);
    await recordProgress(phaseAfter(step, state.BatchInput.strategy), result.results);
    return result;
  };
}
