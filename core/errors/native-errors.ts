/**
 * Errors of the native engine's steps. Like ERROR_NAMES, Step Functions matches Retry on the thrown
 * error's `name`: both are Retry-as-poll signals (one state transition per attempt), bounded by the
 * retriers in statemachine/retry-policies.ts. The Lambdas themselves decide when waiting is over
 * (no progress for `replicationTimeoutMinutes`), so an exhausted retrier is only a safety net.
 */

export const NATIVE_ERROR_NAMES = {
  /**
   * The destination Region already has an active backfill for another destination, or the registry
   * has 10 active backfills: ECR would refuse to start ours, so the step waits its turn.
   */
  BackfillQueued: 'BackfillQueued',
  /** Our backfill is PREPARING, IN_PROGRESS or STOPPING and still moving. */
  BackfillPending: 'BackfillPending',
} as const;
export type NativeErrorName = (typeof NATIVE_ERROR_NAMES)[keyof typeof NATIVE_ERROR_NAMES];

export class BackfillQueuedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = NATIVE_ERROR_NAMES.BackfillQueued;
  }
}

export class BackfillPendingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = NATIVE_ERROR_NAMES.BackfillPending;
  }
}
