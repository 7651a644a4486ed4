import { TaskError } from '../lambda/lambda-task.ts';

/**
 * The errors a Distributed Map state fails with, named as Step Functions names them, so a Retry or
 * Catch on the map matches them as it would in AWS.
 */
export const MAP_ERRORS = {
  ItemReaderFailed: 'States.ItemReaderFailed',
  ResultWriterFailed: 'States.ResultWriterFailed',
  ExceedToleratedFailureThreshold: 'States.ExceedToleratedFailureThreshold',
  Runtime: 'States.Runtime',
} as const;

export class MapRunError extends TaskError {}

/**
 * `States.Runtime`: "An execution failed due to some exception that it couldn't process … not
 * retriable … A retry or catch on States.ALL won't catch States.Runtime errors"
 * (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html). A Map Run
 * whose role may not start, describe or redrive its children fails with it, the cause naming the role,
 * the action and the resource.
 */
export class MapRunRuntimeError extends MapRunError {
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor(cause: string) {
    super(MAP_ERRORS.Runtime, cause);
  }
}
