/**
 * The time a paced step (one the step table says `continues`, core/steps.ts: PushTempTags,
 * RetagSourceTags, PromoteTags, and FinishBatch, whose second look runs the last two) may spend starting new PutImage calls in one invocation, so that
 * every invocation ends far inside its Lambda timeout whatever the shape of the registry (tags per
 * image, destinations, batch size) — docs/architecture.md §3.1. Such a step has a WorkRemaining
 * retrier in the state machine (statemachine/lambda-step.ts); other steps have none, and their
 * budget is unlimited.
 *
 * Deployed, an invocation paces PutImage at its share of the quota (`putImageRatePerSecond /
 * concurrentPushers`, 1/s by default), so a batch's writes can take longer than the function's
 * timeout. Past its budget a step starts no new put: it finishes the one in flight and what follows
 * it (PromoteTags' re-read of moved tags, paced puts at most as many as were made), then throws
 * `WorkRemaining`, which the state's own Retry re-enters at once. The next invocation gets the same
 * input and its idempotent re-reads find the writes already done (temp tags in place, destination
 * tags on the digest, the retag journal), so no PutImage is repeated.
 *
 * The budget is a third of the time the invocation had when it started (Lambda's
 * `context.getRemainingTimeInMillis()`,
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html): one third for the puts, one for
 * what a put obliges the step to do after it (PromoteTags may re-put every tag that moved meanwhile),
 * one third spare for reads, progress records and slow calls.
 */
import type { Context } from 'aws-lambda';

/** The share of the invocation's time in which new PutImage calls may start. */
export const PACED_WORK_SHARE = 1 / 3;

export interface WorkBudget {
  /**
   * Whether the step should start no further PutImage. Never true before `recordWrite` was called
   * once in the invocation: each invocation makes progress, so continuing always converges.
   */
  exhausted(): boolean;
  /** Called after each PutImage the step made. */
  recordWrite(): void;
}

/** No time limit (unit tests without a Lambda Context, or a caller that does not bound itself). */
export const UNLIMITED_BUDGET: WorkBudget = {
  exhausted: () => false,
  recordWrite: () => undefined,
};

/** The budget of one invocation, from its Lambda Context (absent: unlimited). */
export function workBudget(
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  share: number = PACED_WORK_SHARE,
): WorkBudget {
  if (!context) return UNLIMITED_BUDGET;
  const atStart = context.getRemainingTimeInMillis();
  // Stop once less than (1 − share) of the starting time remains.
  const stopBelow = atStart * (1 - share);
  let writes = 0;
  return {
    exhausted: () => writes > 0 && context.getRemainingTimeInMillis() < stopBelow,
    recordWrite: () => {
      writes += 1;
    },
  };
}
