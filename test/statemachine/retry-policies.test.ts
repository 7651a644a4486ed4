import { describe, expect, it } from 'vitest';
import { ERROR_NAMES } from '../../core/errors/error-names.ts';
import { LIMITS } from '../../core/contracts/input-schema.ts';
import {
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
