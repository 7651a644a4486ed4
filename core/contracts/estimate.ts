/**
 * How long a backfill must take at ECR's quotas, and roughly what it costs in Step Functions and
 * Lambda. Pure arithmetic over the plan's counts; every assumption is a named constant below.
 *
 * List prices (us-east-1, first pricing tier):
 * - Step Functions STANDARD: $0.025 per 1,000 state transitions (retries count as transitions).
 *   https://aws.amazon.com/step-functions/pricing/
 * - Lambda: $0.20 per million requests; $0.0000133334 per GB-second on arm64 (the construct's
 *   architecture; x86 is $0.0000166667). https://aws.amazon.com/lambda/pricing/
 * ECR API calls are free; storage and cross-Region data transfer of replication are billed by ECR
 * and S3 whatever tool triggers replication, so they are not part of this estimate.
 */
import type { Strategy } from './contracts.ts';
import { ECR_DEFAULT_PUT_IMAGE_PER_SECOND } from '../quotas.ts';
import { strategyOnlyStepsOf } from '../steps.ts';

export const PRICES_USD = {
  stepFunctionsPerTransition: 0.025 / 1000,
  lambdaPerRequest: 0.2 / 1_000_000,
  lambdaPerGbSecondArm64: 0.0000133334,
} as const;

/**
 * Shape of the workflow (statemachine/definition.ts) and sizing of the functions
 * (core/steps.ts), as the estimate counts them.
 */
export const WORKFLOW_MODEL = {
  /** Plan, PlanSlices, FinalizePlan, IsDryRun, BackfillImages, Summarize, plus the end state. */
  parentTransitions: 7,
  /** A PlanSlices child: its PlanSlice task and the end. */
  transitionsPerSlice: 2,
  /**
   * A BackfillImages child, promote: PushTempTags, ChooseStrategy, WaitForReplication,
   * PromoteTags, VerifyDigests, CleanupTempTags, FinishBatch (7) + the CheckReplication attempts.
   * A strategy adds the steps the child enters for it only (core/steps.ts): retag-source adds
   * RetagSourceTags (its PromoteTags passes through): 8.
   */
  transitionsPerBatchBeforePolls: 7,
  /**
   * CheckReplication invocations per batch: the first check after the wait, then the Retry polls
   * (15 s, 22.5 s, …). Replication usually completes within a minute: about three checks.
   */
  checkReplicationAttemptsPerBatch: 3,
  /** Lambda invocations per batch besides CheckReplication: push, promote, verify, cleanup, finish (+ the strategy's own steps). */
  otherLambdaInvocationsPerBatch: 5,
  planningMemoryGb: 1,
  batchMemoryGb: 0.5,
  /** Assumed average duration of a batch step invocation (ECR calls of one batch, paced by the limiter). */
  batchStepSeconds: 2,
  /** Assumed planning time per repository and destination (a few DescribeImages pages). */
  planSecondsPerRepositoryDestination: 0.2,
  /** Plan, FinalizePlan and Summarize together. */
  fixedPlanningSeconds: 10,
} as const;

export interface EstimateInput {
  /** Work items (digests) to backfill. */
  items: number;
  batchSize: number;
  /** Repository slices planned (PlanSlices children). */
  slices: number;
  /** Repositories planned (covered by a rule). */
  repositories: number;
  destinations: number;
  strategy: Strategy;
  /** PutImage calls per Region, as planned. */
  putImageCalls: Readonly<Record<string, number>>;
  replicationWaitSeconds: number;
  putImagePerSecond?: number;
}

export interface Estimate {
  /** Lower bound in seconds: the busiest Region's PutImage calls at the quota, plus one replication wait. */
  quotaBoundSeconds: number;
  estimatedCostUsd: number;
  breakdown: {
    batches: number;
    stateTransitions: number;
    lambdaInvocations: number;
    lambdaGbSeconds: number;
    stepFunctionsUsd: number;
    lambdaUsd: number;
    busiestRegion?: string;
  };
}

export function estimateRun(input: EstimateInput): Estimate {
  const rate = input.putImagePerSecond ?? ECR_DEFAULT_PUT_IMAGE_PER_SECOND;
  let busiestRegion: string | undefined;
  let busiestCalls = 0;
  for (const [region, calls] of Object.entries(input.putImageCalls)) {
    if (calls > busiestCalls) {
      busiestCalls = calls;
      busiestRegion = region;
    }
  }
  // Pushes in the busiest Region cannot go faster than its quota; the last batch then still waits
  // for replication once before it can promote and verify.
  const quotaBoundSeconds = input.items === 0 ? 0 : busiestCalls / rate + input.replicationWaitSeconds;

  const m = WORKFLOW_MODEL;
  const batches = input.items === 0 ? 0 : Math.ceil(input.items / Math.max(1, input.batchSize));
  // One transition and one invocation per batch for each step the child enters for this strategy only.
  const strategySteps = strategyOnlyStepsOf(input.strategy).length;
  const stateTransitions =
    m.parentTransitions +
    input.slices * m.transitionsPerSlice +
    batches * (m.transitionsPerBatchBeforePolls + strategySteps + m.checkReplicationAttemptsPerBatch);
  const batchInvocations =
    batches * (m.otherLambdaInvocationsPerBatch + strategySteps + m.checkReplicationAttemptsPerBatch);
  const lambdaInvocations = 3 + input.slices + batchInvocations;
  const planningSeconds =
    m.fixedPlanningSeconds +
    input.repositories * Math.max(1, input.destinations + 1) * m.planSecondsPerRepositoryDestination;
  const lambdaGbSeconds =
    planningSeconds * m.planningMemoryGb + batchInvocations * m.batchStepSeconds * m.batchMemoryGb;

  const stepFunctionsUsd = stateTransitions * PRICES_USD.stepFunctionsPerTransition;
  const lambdaUsd =
    lambdaInvocations * PRICES_USD.lambdaPerRequest + lambdaGbSeconds * PRICES_USD.lambdaPerGbSecondArm64;
  return {
    quotaBoundSeconds: round(quotaBoundSeconds, 1),
    estimatedCostUsd: round(stepFunctionsUsd + lambdaUsd, 4),
    breakdown: {
      batches,
      stateTransitions,
      lambdaInvocations,
      lambdaGbSeconds: round(lambdaGbSeconds, 1),
      stepFunctionsUsd: round(stepFunctionsUsd, 4),
      lambdaUsd: round(lambdaUsd, 4),
      ...(busiestRegion !== undefined && { busiestRegion }),
    },
  };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
