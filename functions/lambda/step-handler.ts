import type { Context } from 'aws-lambda';

/**
 * A step handler as Step Functions invokes it (payloadResponseOnly: the event is the state input).
 * Lambda passes its invocation Context; the local runner and tests may leave it out.
 */
export type StepHandler<TEvent = unknown, TResult = unknown> = (
  event: TEvent,
  context?: Context,
) => Promise<TResult>;
