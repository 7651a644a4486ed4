/**
 * Named retry policies, reused by every Lambda Task of the workflow.
 *
 * Retry belongs in one layer per concern: the SDK retries a single call briefly; these Step Functions
 * retriers handle what should show in the execution history and survive a Lambda invocation (the
 * step is idempotent, so re-running it redoes only what is left). Errors are matched on the thrown
 * error's `name` (the Lambda errorType), which the functions take from ERROR_NAMES.
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 */
import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ERROR_NAMES } from '../core/errors/error-names.ts';
import { LIMITS } from '../core/contracts/input-schema.ts';
import { NATIVE_ERROR_NAMES } from '../core/errors/native-errors.ts';

/** Step Functions' own name for a throttled Lambda Invoke. CDK's default Lambda retrier omits it. */
export const LAMBDA_TOO_MANY_REQUESTS = 'Lambda.TooManyRequestsException';

/**
 * Errors no retrier may ever match: retrying cannot fix bad input, missing replication rules, missing
 * permissions, or items that could not be done (those fail the child so the execution is redrivable).
 */
export const NEVER_RETRIED: readonly string[] = [
  ERROR_NAMES.InvalidInput,
  ERROR_NAMES.ItemsFailed,
  ERROR_NAMES.NotCovered,
  ERROR_NAMES.NothingMatched,
  ERROR_NAMES.AccessDenied,
  ERROR_NAMES.DeleteReplicationUnsafe,
  ERROR_NAMES.ReplicationNotPermitted,
  ERROR_NAMES.RunNameReused,
];

/** A throttle's back-off: exponential, full jitter so concurrent children do not retry in step. */
const THROTTLE_BACKOFF: Omit<sfn.RetryProps, 'errors'> = {
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxDelay: Duration.seconds(60),
  maxAttempts: 8,
  jitterStrategy: sfn.JitterType.FULL,
};

/** ECR throttled us. */
export const THROTTLED_RETRY: sfn.RetryProps = { errors: [ERROR_NAMES.Throttled], ...THROTTLE_BACKOFF };

/** 5xx, network errors, or a batch that stopped early to stay within its Lambda timeout. */
export const TRANSIENT_RETRY: sfn.RetryProps = {
  errors: [ERROR_NAMES.Transient],
  interval: Duration.seconds(1),
  backoffRate: 2,
  maxDelay: Duration.seconds(30),
  maxAttempts: 6,
  jitterStrategy: sfn.JitterType.FULL,
};

/**
 * Lambda itself throttled the invoke (the account's concurrency): the steps outside the backfill map,
 * which reserve none. The batch steps wait in LAMBDA_QUEUE instead.
 */
export const LAMBDA_THROTTLED_RETRY: sfn.RetryProps = {
  errors: [LAMBDA_TOO_MANY_REQUESTS],
  ...THROTTLE_BACKOFF,
};

/**
 * The queue of a batch step's invokes at its reserved concurrency. The map runs up to
 * `maxConcurrencyLimit` children (600 by default), by design more than the pushers (10): children
 * spend most of their life in WaitForReplication, which holds no Lambda. But children reach a step
 * together (all of them push first), and an invoke beyond the function's reserved concurrency is
 * throttled at once, `Lambda.TooManyRequestsException`
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html,
 * https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html): Lambda keeps
 * no queue for a synchronous invoke, so this retrier is the queue. With the account throttle's 8
 * attempts (≤ 242 s) a child behind 59 others × 50 s of pushes failed instead of waiting. So the
 * retrier covers the longest a child may wait for a slot: every other child ahead of it, each
 * holding a slot for at most the function's timeout (LAMBDA_QUEUE_SECONDS). Its delays grow to
 * 120 s, with full jitter so that waiters do not retry in step; a freed slot is taken within
 * seconds while many wait. Cost: one state transition per attempt, only while throttled.
 */
export const LAMBDA_QUEUE = { intervalSeconds: 2, backoffRate: 2, maxDelaySeconds: 120 } as const;

/**
 * The most attempts a queue retrier may have. Each throttled attempt adds a few events to the
 * child's history (25,000 at most, https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html),
 * and three paced steps may queue in one child: 2,000 attempts (about 30 hours of waiting) is the
 * ceiling, and the construct refuses a maxConcurrencyLimit whose queue would need more (it must
 * follow the reserved concurrency: raise concurrentPushers or lower the limit).
 */
export const MAX_LAMBDA_QUEUE_ATTEMPTS = 2_000;

/**
 * The longest a throttled invoke may wait for a slot of a function with `reserved` concurrency,
 * with `children` children running: the others ahead of it, `reserved` at a time, each holding a
 * slot at most for the function's timeout.
 */
export function lambdaQueueSeconds(children: number, reserved: number, timeoutSeconds: number): number {
  return Math.max(1, Math.ceil((children - 1) / reserved)) * timeoutSeconds;
}

/**
 * The retrier that queues a throttled invoke for up to `waitSeconds`. With full jitter each delay is
 * drawn from [0, delay] (half of it on average), so the attempts cover twice the wait.
 */
export function lambdaQueueRetry(waitSeconds: number): sfn.RetryProps {
  return {
    errors: [LAMBDA_TOO_MANY_REQUESTS],
    interval: Duration.seconds(LAMBDA_QUEUE.intervalSeconds),
    backoffRate: LAMBDA_QUEUE.backoffRate,
    maxDelay: Duration.seconds(LAMBDA_QUEUE.maxDelaySeconds),
    maxAttempts: pollAttemptsCovering(2 * waitSeconds, LAMBDA_QUEUE),
    jitterStrategy: sfn.JitterType.FULL,
  };
}

/**
 * The invocation died: an unhandled crash or out-of-memory (`Lambda.Unknown`) or the function's own
 * timeout (`Sandbox.Timedout`). Every step is idempotent — checks before writes, a deterministic temp
 * tag — so running it again redoes only what the dead invocation had not finished. Bounded, because
 * a step that always times out needs a smaller batch, not more attempts; past the bound the child
 * fails and a redrive resumes it here.
 * https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 */
export const LAMBDA_CRASHED_RETRY: sfn.RetryProps = {
  errors: ['Lambda.Unknown', 'Sandbox.Timedout'],
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxDelay: Duration.seconds(30),
  maxAttempts: 3,
  jitterStrategy: sfn.JitterType.FULL,
};

/**
 * How many times one entry of a paced step may continue itself (WorkRemaining, work-budget.ts).
 * Every invocation makes at least one put before it may stop, so the loop always converges; with the
 * defaults an invocation makes ~200 puts (a third of 600 s at 1 PutImage/s), so this bound covers
 * 20,000 puts per batch — 100 digests × 40 tags × 5 destinations — before the child fails and a
 * redrive continues it.
 */
export const MAX_CONTINUATIONS = 100;

/**
 * The continuation of a paced step that stopped at its time budget: re-entered after Step
 * Functions' smallest interval, no back-off (nothing is wrong), counted by its own retrier so it
 * never spends the error retriers' attempts (each retrier keeps its own count,
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html). Costs one
 * state transition per continuation, none when a batch fits its budget.
 */
export const WORK_REMAINING_RETRY: sfn.RetryProps = {
  errors: [ERROR_NAMES.WorkRemaining],
  interval: Duration.seconds(1),
  backoffRate: 1,
  maxAttempts: MAX_CONTINUATIONS,
};

/** The largest `replicationTimeoutMinutes` the execution input accepts (360). */
export const MAX_REPLICATION_TIMEOUT_MINUTES: number = LIMITS.replicationTimeoutMinutes;

/** A poll's delays: `intervalSeconds × backoffRate^(n-1)` before retry n, capped at `maxDelaySeconds`. */
interface PollShape {
  intervalSeconds: number;
  backoffRate: number;
  maxDelaySeconds: number;
}

/** Shape of the replication poll. No jitter: children start at different times already, and the bound must be exact. */
export const REPLICATION_POLL = {
  intervalSeconds: 15,
  backoffRate: 1.5,
  maxDelaySeconds: 120,
} as const;

/**
 * How many retries a poll needs so that the sum of its delays covers `seconds`.
 *
 * Step Functions waits `interval × backoffRate^(n-1)`, capped at MaxDelaySeconds, before retry n.
 * With 15 s × 1.5ⁿ capped at 120 s: 15 + 22.5 + 33.75 + 50.6 + 75.9 + 113.9 ≈ 311.7 s in 6 retries,
 * then 120 s each. For 360 minutes (21,600 s): 6 + ⌈(21,600 − 311.7) / 120⌉ = 6 + 178 = 184 retries.
 */
export function pollAttemptsCovering(seconds: number, poll: PollShape = REPLICATION_POLL): number {
  let waited = 0;
  let attempts = 0;
  let delay = poll.intervalSeconds;
  while (waited < seconds) {
    waited += Math.min(delay, poll.maxDelaySeconds);
    delay *= poll.backoffRate;
    attempts += 1;
  }
  return attempts;
}

/** The retrier that polls on `error` with `poll`'s delays, for as many attempts as cover `seconds`. */
function pollRetry(error: string, poll: PollShape, seconds: number): sfn.RetryProps {
  return {
    errors: [error],
    interval: Duration.seconds(poll.intervalSeconds),
    backoffRate: poll.backoffRate,
    maxDelay: Duration.seconds(poll.maxDelaySeconds),
    maxAttempts: pollAttemptsCovering(seconds, poll),
  };
}

/**
 * `ReplicationPending` is the poll: CheckReplication throws it while any replication is IN_PROGRESS.
 *
 * The Lambda enforces the user's `replicationTimeoutMinutes` (measured from `pushedAt`, so the Wait
 * and every invocation count too) and records REPLICATION_TIMEOUT instead of throwing. This bound is
 * only the static safety net: the delays alone cover the largest accepted timeout, so the Lambda —
 * not an exhausted retrier — always decides. Cost: one state transition per attempt (184 at most).
 */
export const REPLICATION_PENDING_RETRY: sfn.RetryProps = pollRetry(
  ERROR_NAMES.ReplicationPending,
  REPLICATION_POLL,
  MAX_REPLICATION_TIMEOUT_MINUTES * 60,
);

/**
 * The native engine's two waits: a backfill takes minutes to hours (ECR processes one replication
 * per image and tag), so its poll starts at 30 s and settles at 5 minutes.
 */
export const NATIVE_POLL = {
  intervalSeconds: 30,
  backoffRate: 1.5,
  maxDelaySeconds: 300,
} as const;

/**
 * The static bound of each native wait. The steps decide when waiting is over (no progress for
 * `replicationTimeoutMinutes`); this only catches a backfill that keeps moving for a week. Each
 * destination's waits run in a child execution of their own (the NativeBackfills map), so the
 * attempts (≈ 3 history events each, ≈ 2,000 attempts) stay well within the 25,000 events of one
 * execution's history. Exhausted: the child fails, and so does the execution, whose end stops the
 * run's backfills (infra/native-engine.ts); a redrive then verifies and re-pushes what is missing.
 */
export const NATIVE_WAIT_BOUND_SECONDS = 7 * 24 * 3600;

/** NativeCheckBackfill throws BackfillPending while the backfill moves: its Retry is the poll. */
export const BACKFILL_PENDING_RETRY: sfn.RetryProps = pollRetry(
  NATIVE_ERROR_NAMES.BackfillPending,
  NATIVE_POLL,
  NATIVE_WAIT_BOUND_SECONDS,
);

/**
 * NativeStartBackfill throws BackfillQueued while another backfill holds the destination Region (or
 * the registry has 10 active): its Retry is the queue. No jitter: one waiter per destination.
 */
export const BACKFILL_QUEUED_RETRY: sfn.RetryProps = pollRetry(
  NATIVE_ERROR_NAMES.BackfillQueued,
  NATIVE_POLL,
  NATIVE_WAIT_BOUND_SECONDS,
);

/** Added to every Lambda Task, after CDK's default Lambda service retrier. */
export const STEP_RETRY_POLICIES: readonly sfn.RetryProps[] = [
  THROTTLED_RETRY,
  TRANSIENT_RETRY,
  LAMBDA_THROTTLED_RETRY,
  LAMBDA_CRASHED_RETRY,
];
