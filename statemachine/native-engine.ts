/**
 * The native engine's part of the workflow (method `native`, or `auto` when it chose native):
 *
 *   NativeBackfills (Distributed Map over `$.config.destinations`, one STANDARD child each):
 *     NativeStartBackfill → NativeCheckBackfill → IsBackfillStalled → [NativeStopBackfill]
 *   → NativeVerify → NeedsRepair → BackfillImages (the re-push map, on the repair items) | Summarize
 *
 * Each destination waits in a child execution of its own: its queue (BackfillQueued) and poll
 * (BackfillPending) retries add history events for as long as a backfill runs, and a child's history
 * is its own (25,000 events per execution). The children's outputs are small (ids, counts, keys),
 * so they come back into the state without a ResultWriter: at most 25 destinations.
 *
 * No Catch anywhere: the steps decide when waiting is over, and anything else fails the child, the
 * map and the execution, which stays redrivable. Stopping the backfills of an execution that is
 * stopped, times out or fails is the EventBridge rule's job (infra/native-engine.ts): Step
 * Functions runs no state then.
 */
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { NativeDestinationEvent } from '../core/contracts/contracts.ts';
import type { LambdaStepName } from '../core/steps.ts';
import { LIMITS } from '../core/contracts/input-schema.ts';
import { lambdaStep } from './lambda-step.ts';
import { BACKFILL_PENDING_RETRY, BACKFILL_QUEUED_RETRY } from './retry-policies.ts';
import { STATE_NAMES } from './state-names.ts';

export interface NativeEngineProps {
  /** One function per Lambda step, keyed by its state name. */
  readonly functions: Readonly<Record<LambdaStepName, IFunction>>;
  /** The re-push map: runs the repair items NativeVerify leaves in `$.items`. */
  readonly repair: sfn.IChainable;
  readonly summarize: sfn.IChainable;
}

/** The Choice value that selects this branch (`$.plan.engine.method`). */
export const NATIVE_METHOD = 'native';

/** Builds the native branch; its first state is the NativeBackfills map. */
export function buildNativeEngine(scope: Construct, props: NativeEngineProps): sfn.IChainable {
  const { functions } = props;
  const destinationEvent: Record<keyof NativeDestinationEvent, unknown> = {
    runId: sfn.JsonPath.stringAt('$.runId'),
    bucket: sfn.JsonPath.stringAt('$.bucket'),
    runPrefix: sfn.JsonPath.stringAt('$.runPrefix'),
    sourceRegion: sfn.JsonPath.stringAt('$.config.sourceRegion'),
    sourceRegistryId: sfn.JsonPath.stringAt('$.config.sourceRegistryId'),
    replicationTimeoutMinutes: sfn.JsonPath.numberAt('$.config.replicationTimeoutMinutes'),
    destination: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
  };
  const backfills = sfn.DistributedMap.jsonPath(scope, STATE_NAMES.NativeBackfills, {
    comment:
      'One replication backfill per destination, in a child of its own: queued behind others in its Region, polled to a terminal status.',
    label: STATE_NAMES.NativeBackfills,
    itemsPath: '$.config.destinations',
    itemSelector: destinationEvent,
    mapExecutionType: sfn.StateMachineType.STANDARD,
    // Every destination at once: ECR itself serializes them per Region, and the start step queues.
    maxConcurrency: LIMITS.destinations,
    resultPath: '$.nativeBackfills',
  });
  backfills.itemProcessor(buildDestinationWorkflow(scope, functions));

  const verify = lambdaStep(scope, STATE_NAMES.NativeVerify, functions.NativeVerify, {
    comment:
      'Checks every planned tag in every destination against the source digest; writes what is missing as repair items.',
  });
  const needsRepair = new sfn.Choice(scope, STATE_NAMES.NeedsRepair)
    .when(sfn.Condition.numberGreaterThan('$.items.count', 0), props.repair)
    .otherwise(props.summarize);
  return sfn.Chain.start(backfills).next(verify).next(needsRepair);
}

/** One destination: start (or adopt, or queue for) its backfill, poll it, stop it if it stalls. */
function buildDestinationWorkflow(
  scope: Construct,
  functions: NativeEngineProps['functions'],
): sfn.IChainable {
  const start = lambdaStep(scope, STATE_NAMES.NativeStartBackfill, functions.NativeStartBackfill, {
    comment:
      'Starts or adopts the backfill; throws BackfillQueued while another holds the Region: its Retry is the queue.',
    extraRetries: [BACKFILL_QUEUED_RETRY],
  });
  const check = lambdaStep(scope, STATE_NAMES.NativeCheckBackfill, functions.NativeCheckBackfill, {
    comment:
      'Throws BackfillPending while the backfill moves: its Retry is the poll. Terminal: pages its results to S3.',
    extraRetries: [BACKFILL_PENDING_RETRY],
  });
  const stop = lambdaStep(scope, STATE_NAMES.NativeStopBackfill, functions.NativeStopBackfill, {
    comment:
      'StopReplicationBackfill for a backfill this run started that made no progress for replicationTimeoutMinutes.',
  });
  const settled = new sfn.Succeed(scope, STATE_NAMES.NativeBackfillSettled, {
    comment: 'Ended, or never started: NativeVerify decides what arrived.',
  });
  const isStalled = new sfn.Choice(scope, STATE_NAMES.IsBackfillStalled)
    .when(sfn.Condition.booleanEquals('$.stalled', true), stop)
    .otherwise(settled);
  return sfn.Chain.start(start).next(check).next(isStalled);
}
