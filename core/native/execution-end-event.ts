/**
 * The Step Functions events after which nobody watches a run's backfills any more: the EventBridge
 * rule of the construct (infra/native-engine.ts) matches them, and NativeStopBackfill accepts only
 * them. One declaration for both sides, in a module that imports nothing, so the construct reads it
 * without pulling the step's code (and the AWS SDK it bundles) into a consumer's `cdk synth`.
 * https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html
 */

/** The `source` of every Step Functions event. */
export const STEP_FUNCTIONS_EVENT_SOURCE = 'aws.states';

/** The `detail-type` of an execution's status change. */
export const EXECUTION_STATUS_CHANGE = 'Step Functions Execution Status Change';

/** Execution statuses after which nobody watches the run's backfills any more. */
export const UNWATCHED_EXECUTION_STATUSES = ['ABORTED', 'TIMED_OUT', 'FAILED'] as const;
