/**
 * What a run would cost on AWS, from what the local run measured: state transitions (the runner
 * counts them as Step Functions bills them), Lambda invocations, and Lambda GB-seconds (each
 * invocation's measured duration × its function's memory from the step table, core/steps.ts).
 *
 * List prices, us-east-1 (core/contracts/estimate.ts holds them with their sources):
 * - Step Functions STANDARD: $0.025 per 1,000 state transitions
 *   (https://aws.amazon.com/step-functions/pricing/);
 * - Lambda: $0.20 per million requests and $0.0000133334 per GB-second on arm64, the construct's
 *   architecture (https://aws.amazon.com/lambda/pricing/).
 * ECR API calls are free; replication's storage and transfer are billed whichever tool triggers it.
 */
import { stepOf, type LambdaStepName } from 'ecr-backfill/core';
import type { StepDeps } from 'ecr-backfill/core';
import type { StepHandler } from 'ecr-backfill/functions';
import { PRICES_USD } from 'ecr-backfill/core';

export interface LambdaUsage {
  invocations: number;
  gbSeconds: number;
  /** Measured milliseconds per step (sum over invocations). */
  msByStep: Record<string, number>;
  /** The longest invocation of each step, in ms: its margin to the function's timeout. */
  maxMsByStep: Record<string, number>;
}

export interface CostEstimate {
  stepFunctionsUsd: number;
  lambdaRequestsUsd: number;
  lambdaComputeUsd: number;
  totalUsd: number;
}

export function estimateCost(
  transitions: number,
  lambda: Pick<LambdaUsage, 'invocations' | 'gbSeconds'>,
): CostEstimate {
  const stepFunctionsUsd = transitions * PRICES_USD.stepFunctionsPerTransition;
  const lambdaRequestsUsd = lambda.invocations * PRICES_USD.lambdaPerRequest;
  const lambdaComputeUsd = lambda.gbSeconds * PRICES_USD.lambdaPerGbSecondArm64;
  return {
    stepFunctionsUsd,
    lambdaRequestsUsd,
    lambdaComputeUsd,
    totalUsd: stepFunctionsUsd + lambdaRequestsUsd + lambdaComputeUsd,
  };
}

/** Scales a run's cost to 10,000 tags. */
export function per10kTags(cost: CostEstimate, tags: number): number {
  return tags > 0 ? (cost.totalUsd * 10_000) / tags : 0;
}

/**
 * Wraps the step handlers so every invocation's duration is measured and billed at its function's
 * memory. Lambda bills the duration rounded up to the millisecond.
 */
export function meteredStepHandlers(factory: (deps: StepDeps) => Record<LambdaStepName, StepHandler>): {
  factory: (deps: StepDeps) => Record<string, StepHandler>;
  usage: LambdaUsage;
} {
  const usage: LambdaUsage = { invocations: 0, gbSeconds: 0, msByStep: {}, maxMsByStep: {} };
  const wrap = (step: LambdaStepName, handler: StepHandler): StepHandler => {
    const memoryGb = stepOf(step).memoryMb / 1024;
    return async (event) => {
      const started = performance.now();
      try {
        return await handler(event);
      } finally {
        const ms = Math.ceil(performance.now() - started);
        usage.invocations += 1;
        usage.gbSeconds += (ms / 1000) * memoryGb;
        usage.msByStep[step] = (usage.msByStep[step] ?? 0) + ms;
        usage.maxMsByStep[step] = Math.max(usage.maxMsByStep[step] ?? 0, ms);
      }
    };
  };
  return {
    usage,
    factory: (deps) => {
      const handlers = factory(deps);
      return Object.fromEntries(
        (Object.entries(handlers) as [LambdaStepName, StepHandler][]).map(([step, handler]) => [
          step,
          wrap(step, handler),
        ]),
      );
    },
  };
}
