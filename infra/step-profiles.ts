/**
 * The step table (core/steps.ts) as the construct reads it: each step's calls, with its sizing in
 * CDK's terms. The construct turns these rows into IAM statements and function settings; what a step
 * may do and how it is sized is declared in the table only.
 */
import { Duration } from 'aws-cdk-lib';
import {
  continues,
  isBatchStep,
  mapSteps,
  type LambdaStepName,
  type ReservedConcurrency,
  type StepCalls,
} from '../core/steps.ts';

export interface StepProfile extends StepCalls {
  readonly description: string;
  /**
   * A child step of BackfillImages: writes its batch's progress record (`runs/<runId>/progress/`,
   * core/run-files/batch-progress.ts), and nothing else in the bucket unless its `runData` says.
   */
  readonly recordsProgress: boolean;
  /**
   * A paced step that stops at its time budget and continues itself (functions/step-kit/work-budget.ts):
   * reads and writes its batch's continuation record (`runs/<runId>/continuations/`,
   * core/run-files/continuation.ts). Implied by `runData` (read and write).
   */
  readonly continues: boolean;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly reservedConcurrency?: ReservedConcurrency;
}

export const STEP_PROFILES: Readonly<Record<LambdaStepName, StepProfile>> = mapSteps((step, name) => ({
  ...step.calls,
  description: step.description,
  recordsProgress: isBatchStep(name),
  continues: isBatchStep(name) && continues(name),
  memorySize: step.memoryMb,
  timeout: Duration.seconds(step.timeoutSeconds),
  ...(step.reservedConcurrency ? { reservedConcurrency: step.reservedConcurrency } : {}),
}));
