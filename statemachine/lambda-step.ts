/**
 * One Lambda-backed Task state, the same way for every step.
 */
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { continues, isBatchStep, type LambdaStepName } from '../core/steps.ts';
import { LAMBDA_THROTTLED_RETRY, STEP_RETRY_POLICIES, WORK_REMAINING_RETRY } from './retry-policies.ts';

export interface LambdaStepOptions {
  /** What the function receives. Default: the whole state input (no Parameters). */
  readonly payload?: sfn.TaskInput;
  /** Retriers added after the shared policies and WorkRemaining's (e.g. the replication poll). */
  readonly extraRetries?: readonly sfn.RetryProps[];
  readonly comment?: string;
  /**
   * Replaces the account throttle's retrier (LAMBDA_THROTTLED_RETRY) for a step whose function
   * reserves concurrency: its queue (lambdaQueueRetry).
   */
  readonly throttleRetry?: sfn.RetryProps;
}

/**
 * `payloadResponseOnly` invokes the function ARN directly, so the state output *is* the function's
 * return value (no `{Payload, StatusCode}` envelope) and errors keep the thrown error's name.
 * CDK's default Lambda service retrier stays on (`retryOnServiceExceptions`); the named policies
 * follow it, then a step that continues (core/steps.ts) gets the WorkRemaining retrier that re-enters
 * it at once (functions/step-kit/work-budget.ts). Errors not listed anywhere (InvalidInput,
 * ItemsFailed, …) are never retried.
 */
export function lambdaStep(
  scope: Construct,
  name: LambdaStepName,
  lambdaFunction: IFunction,
  options: LambdaStepOptions = {},
): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, name, {
    lambdaFunction,
    payloadResponseOnly: true,
    retryOnServiceExceptions: true,
    ...(options.payload ? { payload: options.payload } : {}),
    ...(options.comment ? { comment: options.comment } : {}),
  });
  const continued = isBatchStep(name) && continues(name) ? [WORK_REMAINING_RETRY] : [];
  const shared = STEP_RETRY_POLICIES.map((retry) =>
    retry === LAMBDA_THROTTLED_RETRY && options.throttleRetry ? options.throttleRetry : retry,
  );
  for (const retry of [...shared, ...continued, ...(options.extraRetries ?? [])]) {
    task.addRetry(retry);
  }
  return task;
}
