/**
 * Runs a child workflow's steps in order, the way the state machine does: the output of one step is
 * the input of the next; the Wait before CheckReplication is "until the emulator's replication is
 * idle"; ReplicationPending, Throttled and Transient are retried with the same input (Step Functions'
 * Retry); and an optional crash kills one invocation of one step, which is then re-run with the same
 * input, as Step Functions' Lambda retrier does.
 */
import type { BatchResult, BatchState, Strategy } from '../../../../core/contracts/contracts.ts';
import type { StepHandler } from '../../../../functions/lambda/step-handler.ts';
import { ERROR_NAMES } from '../../../../core/errors/error-names.ts';
import { createCheckReplicationHandler } from '../../../../functions/check-replication/handler.ts';
import { createCleanupTempTagsHandler } from '../../../../functions/cleanup-temp-tags/handler.ts';
import { createFinishBatchHandler } from '../../../../functions/finish-batch/handler.ts';
import { createPromoteTagsHandler } from '../../../../functions/promote-tags/handler.ts';
import { createPushTempTagsHandler } from '../../../../functions/push-temp-tags/handler.ts';
import { createRetagSourceTagsHandler } from '../../../../functions/retag-source-tags/handler.ts';
import { createVerifyDigestsHandler } from '../../../../functions/verify-digests/handler.ts';
import type { Harness } from './harness.ts';

export type ChildStep =
  | 'PushTempTags'
  | 'RetagSourceTags'
  | 'CheckReplication'
  | 'PromoteTags'
  | 'VerifyDigests'
  | 'CleanupTempTags'
  | 'FinishBatch';

/** The child workflow's Task states per strategy (the Choice routes past the other strategy's step). */
export const CHILD_STEPS: Record<Strategy, ChildStep[]> = {
  promote: [
    'PushTempTags',
    'CheckReplication',
    'PromoteTags',
    'VerifyDigests',
    'CleanupTempTags',
    'FinishBatch',
  ],
  'retag-source': [
    'PushTempTags',
    'RetagSourceTags',
    'CheckReplication',
    'VerifyDigests',
    'CleanupTempTags',
    'FinishBatch',
  ],
};

export function childHandlers(h: Harness): Record<ChildStep, StepHandler> {
  return {
    PushTempTags: createPushTempTagsHandler(h.deps),
    RetagSourceTags: createRetagSourceTagsHandler(h.deps),
    CheckReplication: createCheckReplicationHandler(h.deps),
    PromoteTags: createPromoteTagsHandler(h.deps),
    VerifyDigests: createVerifyDigestsHandler(h.deps),
    CleanupTempTags: createCleanupTempTagsHandler(h.deps),
    FinishBatch: createFinishBatchHandler(h.deps),
  };
}

export interface CrashPlan {
  step: ChildStep;
  /** The invocation dies after its k-th ECR call. */
  k: number;
  mode: 'before' | 'after';
}

export interface PipelineRun {
  result?: BatchResult;
  /** FinishBatch's ItemsFailed (or any error that exhausted the retries). */
  error?: Error;
  /** Each step's input, as Step Functions would have passed it. */
  inputs: Partial<Record<ChildStep, BatchState>>;
  /** ECR calls made by each step's successful invocation. */
  calls: Partial<Record<ChildStep, number>>;
  /** The operations those calls were, in order (from the emulator's call log). */
  operations: Partial<Record<ChildStep, string[]>>;
  /** Whether the crash plan killed an invocation (false when the step needed fewer than k calls). */
  crashed: boolean;
}

const RETRIED: ReadonlySet<string> = new Set([
  ERROR_NAMES.ReplicationPending,
  ERROR_NAMES.Throttled,
  ERROR_NAMES.Transient,
]);

export interface PipelineOptions {
  crash?: CrashPlan;
  /** Runs before each step (e.g. to move a tag "between push and promote"). */
  beforeStep?: (step: ChildStep, input: BatchState) => Promise<void> | void;
  /** Retries per step for retried errors (Step Functions' MaxAttempts). */
  maxAttempts?: number;
}

export async function runPipeline(
  h: Harness,
  initial: BatchState,
  options: PipelineOptions = {},
): Promise<PipelineRun> {
  const handlers = childHandlers(h);
  const run: PipelineRun = { inputs: {}, calls: {}, operations: {}, crashed: false };
  let state = initial;
  for (const step of CHILD_STEPS[initial.BatchInput.strategy]) {
    await options.beforeStep?.(step, state);
    run.inputs[step] = state;
    if (step === 'CheckReplication') await h.emulator.whenReplicationIdle();

    if (options.crash?.step === step) {
      h.crash.arm(options.crash.k, options.crash.mode);
      try {
        const output = await handlers[step](structuredClone(state));
        // Finished within k calls: no crash; Step Functions moves on with this output.
        h.crash.disarm();
        run.calls[step] = h.crash.calls;
        if (step === 'FinishBatch') return { ...run, result: output as BatchResult };
        state = output as BatchState;
        continue;
      } catch (error) {
        if (!h.crash.dead) throw error;
        run.crashed = true;
      }
      h.crash.disarm();
    }

    let attempts = 0;
    for (;;) {
      attempts += 1;
      h.crash.calls = 0;
      const logged = h.emulator.callLog.size;
      try {
        const output = await handlers[step](structuredClone(state));
        run.calls[step] = h.crash.calls;
        run.operations[step] = h.emulator.callLog
          .entries()
          .slice(logged)
          .map((entry) => entry.operation);
        if (step === 'FinishBatch') return { ...run, result: output as BatchResult };
        state = output as BatchState;
        break;
      } catch (error) {
        const name = (error as Error).name;
        if (step === 'FinishBatch' && name === ERROR_NAMES.ItemsFailed)
          return { ...run, error: error as Error };
        if (!RETRIED.has(name) || attempts >= (options.maxAttempts ?? 20))
          return { ...run, error: error as Error };
        // The Retry's interval: here, until pending replication has landed.
        await h.emulator.whenReplicationIdle();
      }
    }
  }
  throw new Error('the child workflow ended without FinishBatch');
}
