import { describe, expect, it } from 'vitest';
import { ERROR_NAMES } from '../../core/errors/error-names.ts';
import { LIMITS } from '../../core/contracts/input-schema.ts';
import { synthesizeBackfillDefinition } from '../../local/synth/synth.ts';
import type { AslDefinition } from '../../local/runner/asl.ts';
import {
  LAMBDA_QUEUE,
  MAX_LAMBDA_QUEUE_ATTEMPTS,
  lambdaQueueRetry,
  lambdaQueueSeconds,
  MAX_REPLICATION_TIMEOUT_MINUTES,
  NEVER_RETRIED,
  REPLICATION_PENDING_RETRY,
  REPLICATION_POLL,
  STEP_RETRY_POLICIES,
  pollAttemptsCovering,
} from '../../statemachine/retry-policies.ts';

/** Seconds Step Functions waits in total over `attempts` retries of the poll (no jitter). */
function totalPollDelay(attempts: number): number {
  let total = 0;
  for (let retry = 1; retry <= attempts; retry += 1) {
    const delay = REPLICATION_POLL.intervalSeconds * REPLICATION_POLL.backoffRate ** (retry - 1);
    total += Math.min(delay, REPLICATION_POLL.maxDelaySeconds);
  }
  return total;
}

describe('the replication poll bound', () => {
  it('covers the longest replication timeout the input accepts, with no retry to spare', () => {
    const seconds = MAX_REPLICATION_TIMEOUT_MINUTES * 60;

    const attempts = pollAttemptsCovering(seconds);

    expect(totalPollDelay(attempts)).toBeGreaterThanOrEqual(seconds);
    expect(totalPollDelay(attempts - 1)).toBeLessThan(seconds);
    // The arithmetic documented next to REPLICATION_PENDING_RETRY: 6 growing delays, then 178 × 120 s.
    expect(attempts).toBe(184);
    expect(REPLICATION_PENDING_RETRY.maxAttempts).toBe(attempts);
  });

  it('follows the input schema limit, so raising the limit raises the bound', () => {
    expect(MAX_REPLICATION_TIMEOUT_MINUTES).toBe(LIMITS.replicationTimeoutMinutes);
  });

  it('needs one retry for a timeout within the first interval and more for longer ones', () => {
    expect(pollAttemptsCovering(1)).toBe(1);
    expect(pollAttemptsCovering(15)).toBe(1);
    expect(pollAttemptsCovering(16)).toBe(2);
    expect(pollAttemptsCovering(3600)).toBeLessThan(pollAttemptsCovering(7200));
  });
});

describe('the shared retry policies', () => {
  it('retry only throttling, transient errors and dead invocations, with full jitter and a maximum delay', () => {
    const errors = STEP_RETRY_POLICIES.flatMap((policy) => policy.errors ?? []);

    expect(errors).toEqual([
      ERROR_NAMES.Throttled,
      ERROR_NAMES.Transient,
      'Lambda.TooManyRequestsException',
      'Lambda.Unknown',
      'Sandbox.Timedout',
    ]);
    for (const policy of STEP_RETRY_POLICIES) {
      expect(policy.jitterStrategy).toBe('FULL');
      expect(policy.maxDelay?.toSeconds()).toBeGreaterThan(0);
      expect(policy.maxAttempts).toBeGreaterThan(1);
    }
    expect(errors.filter((error) => NEVER_RETRIED.includes(error))).toEqual([]);
  });
});

describe('the queue of a batch step at its reserved concurrency', () => {
  /** Seconds the queue waits in total over `attempts` retries, before jitter. */
  const queueDelay = (attempts: number) => {
    let total = 0;
    for (let retry = 1; retry <= attempts; retry += 1)
      total += Math.min(
        LAMBDA_QUEUE.intervalSeconds * LAMBDA_QUEUE.backoffRate ** (retry - 1),
        LAMBDA_QUEUE.maxDelaySeconds,
      );
    return total;
  };

  it('waits for every child ahead, each holding a slot for at most the function timeout', () => {
    // The defaults: 600 children, 10 pushers, a 600 s timeout: 60 rounds of 600 s.
    const seconds = lambdaQueueSeconds(600, 10, 600);
    const retry = lambdaQueueRetry(seconds);

    expect(seconds).toBe(36_000);
    // Full jitter halves the expected delay: the attempts cover twice the wait.
    expect(queueDelay(retry.maxAttempts ?? 0)).toBeGreaterThanOrEqual(2 * seconds);
    expect(queueDelay((retry.maxAttempts ?? 0) - 1)).toBeLessThan(2 * seconds);
    expect(retry.maxAttempts).toBe(605);
    expect(retry.maxAttempts).toBeLessThanOrEqual(MAX_LAMBDA_QUEUE_ATTEMPTS);
    expect(retry.errors).toEqual(['Lambda.TooManyRequestsException']);
    expect(retry.jitterStrategy).toBe('FULL');
    // One slot per child: nobody waits longer than one invocation.
    expect(lambdaQueueSeconds(10, 10, 600)).toBe(600);
  });

  it('puts the queue on every batch step in place of the 8-attempt throttle retrier', () => {
    const definition = synthesizeBackfillDefinition() as unknown as AslDefinition;
    const child = definition.States.BackfillImages?.ItemProcessor as unknown as AslDefinition;
    for (const [name, state] of Object.entries(child.States)) {
      if (state.Type !== 'Task') continue;
      const throttle = (state.Retry as { ErrorEquals: string[]; MaxAttempts: number }[]).filter((r) =>
        r.ErrorEquals.includes('Lambda.TooManyRequestsException'),
      );
      expect(throttle, name).toHaveLength(1);
      expect(throttle[0]?.MaxAttempts, name).toBeGreaterThan(100);
    }
  });
});
