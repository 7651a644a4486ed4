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
