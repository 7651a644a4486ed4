/**
 * Error names thrown by the Lambda steps. Step Functions matches Retry/Catch on the thrown error's
 * `name` (the Lambda errorType), so the state machine and the functions share these constants.
 */
export const ERROR_NAMES = {
  /** Bad execution input (zod). Never retried; the cause lists every problem. */
  InvalidInput: 'InvalidInput',
  /** The selection is not covered by any replication rule, or the registry has none. */
  NotCovered: 'ReplicationNotConfigured',
  /**
   * A repository or tag filter of the input matched nothing in the source registry: never reported as
   * "already in every destination". Never retried; the message names the filter and what exists nearby.
   */
  NothingMatched: 'NothingMatched',
  /** ECR throttled us. Retried with backoff and full jitter. */
  Throttled: 'Throttled',
  /** 5xx, network, timeouts, or a batch that finished the other items first. Retried. */
  Transient: 'Transient',
  /**
   * A paced step spent its time budget (work-budget.ts) with puts still to make: nothing is wrong,
   * the state's own Retry re-enters it at once and the next invocation carries on where this one
   * stopped. Counted apart from the error retries.
   */
  WorkRemaining: 'WorkRemaining',
  /** Replication has not completed yet. The state's Retry is the poll. */
  ReplicationPending: 'ReplicationPending',
  /** The batch ended with items that could not be done (replication failed/timed out, digest mismatch). */
  ItemsFailed: 'ItemsFailed',
  /** Permission denied by ECR/STS: retrying does not help, fix IAM then redrive. */
  AccessDenied: 'AccessDenied',
  /**
   * The strategy would break docs/architecture.md §3.2 #9 under a rule that replicates deletes (retag-source's
   * source tag deletes are replayed in destinations). Refused before anything is written.
   */
  DeleteReplicationUnsafe: 'DeleteReplicationUnsafe',
  /**
   * A cross-account destination's registry permissions policy does not allow the source account
   * ecr:ReplicateImage (or it has none): replication would be refused. Refused before anything is written.
   */
  ReplicationNotPermitted: 'ReplicationNotPermitted',
  DestinationAccountNotGranted: 'DestinationAccountNotGranted',
  /**
   * The execution's name was used by an earlier execution (Step Functions allows a name again after
   * 90 days) whose run folder is still there: refused before anything is written, never retried.
   */
  RunNameReused: 'RunNameReused',
} as const;
export type ErrorName = (typeof ERROR_NAMES)[keyof typeof ERROR_NAMES];
