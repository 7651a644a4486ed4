/**
 * The backfill workflow as a CDK chain (JSONPath query language; no Stack code here).
 *
 * Parent: Plan → PlanSlices (Distributed Map over repository slices) → FinalizePlan → IsDryRun →
 * ChooseEngine → BackfillImages (Distributed Map over work items, in batches) → Summarize; or, for the
 * native engine, ChooseEngine → NativeBackfills → NativeVerify → NeedsRepair → BackfillImages (on the
 * repair items) | Summarize (statemachine/native-engine.ts).
 * Child of BackfillImages (one STANDARD execution per batch): PushTempTags → [RetagSourceTags] →
 * WaitForReplication → CheckReplication → PromoteTags (a no-op for retag-source) → VerifyDigests →
 * CleanupTempTags → FinishBatch.
 *
 * Nothing that grows with the registry ever travels in a payload (256 KiB per state): repositories
 * and items live in S3 and are read by the maps' ItemReaders; results are written by ResultWriters.
 */
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { BatchInput, PlanSliceEvent, Strategy } from '../core/contracts/contracts.ts';
import {
  batchStepOf,
  STEPS,
  type BatchStepName,
  type LambdaStepName,
  type ReservedConcurrency,
} from '../core/steps.ts';
import { lambdaStep } from './lambda-step.ts';
import { buildNativeEngine, NATIVE_METHOD } from './native-engine.ts';
import { lambdaQueueRetry, lambdaQueueSeconds, REPLICATION_PENDING_RETRY } from './retry-policies.ts';
import { STATE_NAMES } from './state-names.ts';

export interface BackfillWorkflowProps {
  /** One function per Lambda step, keyed by its state name. */
  readonly functions: Readonly<Record<LambdaStepName, IFunction>>;
  /** The run bucket: slices, items and map results live under `runs/<runId>/`. */
  readonly runBucket: IBucket;
  /**
   * How many PlanSlice children run at once. ECR's List/Describe quotas are unpublished and low,
   * and each child pages through DescribeImages in the source and every destination.
   * @default 5
   */
  readonly planSliceConcurrency?: number;
  /**
   * How the batch steps' invokes queue at their functions' reserved concurrency: the most children
   * the map runs at once (the run policy's maxConcurrencyLimit) and each reservation. Absent: the
   * batch steps retry a throttle like the other steps (8 attempts), which suits no deployment whose
   * children outnumber its reserved concurrency.
   */
  readonly batchStepConcurrency?: BatchStepConcurrency;
}

export interface BatchStepConcurrency {
  readonly maxChildren: number;
  readonly reserved: Readonly<Record<ReservedConcurrency, number>>;
}

/**
 * The queue retrier of a batch step whose function reserves concurrency (lambdaQueueRetry), or
 * undefined when it reserves none or the sizing is unknown.
 */
export function throttleRetryOf(
  step: BatchStepName,
  sizing: BatchStepConcurrency | undefined,
): sfn.RetryProps | undefined {
  const row = batchStepOf(step);
  if (!sizing || !row.reservedConcurrency) return undefined;
  return lambdaQueueRetry(
    lambdaQueueSeconds(sizing.maxChildren, sizing.reserved[row.reservedConcurrency], row.timeoutSeconds),
  );
}

export const DEFAULT_PLAN_SLICE_CONCURRENCY = 5;

/** The batch's strategy is one of `strategies`: how the child enters a step it skips for the others. */
function strategyIn(strategies: readonly Strategy[]): sfn.Condition {
  const conditions = strategies.map((strategy) =>
    sfn.Condition.stringEquals('$.BatchInput.strategy', strategy),
  );
  const [only, ...more] = conditions;
  return only && more.length === 0 ? only : sfn.Condition.or(...conditions);
}

/** Builds the parent workflow; hand the result to `DefinitionBody.fromChainable`. */
export function buildBackfillWorkflow(scope: Construct, props: BackfillWorkflowProps): sfn.IChainable {
  const { functions, runBucket } = props;

  const plan = lambdaStep(scope, STATE_NAMES.Plan, functions.Plan, {
    comment:
      'Validates the input (InvalidInput fails fast, never retried), resolves destinations, writes slices.jsonl.',
    payload: sfn.TaskInput.fromObject({
      input: sfn.JsonPath.entirePayload,
      executionName: sfn.JsonPath.executionName,
      executionStartTime: sfn.JsonPath.executionStartTime,
    }),
  });

  const planSlices = buildPlanSlices(scope, props);
  const finalizePlan = lambdaStep(scope, STATE_NAMES.FinalizePlan, functions.FinalizePlan, {
    comment: 'Merges the slice item files into items.jsonl and writes plan.json.',
  });
  const summarize = lambdaStep(scope, STATE_NAMES.Summarize, functions.Summarize, {
    comment: 'Reads the BackfillImages results from S3 and writes report.json and report.csv.',
  });
  const backfillImages = buildBackfillImages(scope, functions, runBucket, props.batchStepConcurrency);
  backfillImages.next(summarize);

  // The plan's engine (FinalizePlan chose it for method auto): the native branch ends in the same
  // re-push map, on what the native backfills missed, or directly in Summarize.
  const chooseEngine = new sfn.Choice(scope, STATE_NAMES.ChooseEngine)
    .when(
      sfn.Condition.stringEquals('$.plan.engine.method', NATIVE_METHOD),
      buildNativeEngine(scope, { functions, repair: backfillImages, summarize }),
    )
    .otherwise(backfillImages);

  const isDryRun = new sfn.Choice(scope, STATE_NAMES.IsDryRun)
    .when(
      sfn.Condition.booleanEquals('$.config.dryRun', true),
      new sfn.Succeed(scope, STATE_NAMES.DryRunSucceeded, { comment: 'The plan is the result.' }),
    )
    .when(sfn.Condition.numberEquals('$.items.count', 0), summarize)
    .otherwise(chooseEngine);

  return sfn.Chain.start(plan).next(planSlices).next(finalizePlan).next(isDryRun);
}

/** One child per line of `slices.jsonl`: each plans a slice of repositories, so no Lambda lists them all. */
function buildPlanSlices(scope: Construct, props: BackfillWorkflowProps): sfn.DistributedMap {
  const sliceEvent: Record<keyof PlanSliceEvent, unknown> = {
    runId: sfn.JsonPath.stringAt('$.runId'),
    bucket: sfn.JsonPath.stringAt('$.bucket'),
    runPrefix: sfn.JsonPath.stringAt('$.runPrefix'),
    config: sfn.JsonPath.objectAt('$.config'),
    slice: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
  };
  const planSlices = sfn.DistributedMap.jsonPath(scope, STATE_NAMES.PlanSlices, {
    comment: 'Plans repository slices in parallel; each child writes plan/slice-<n>.jsonl and its summary.',
    label: STATE_NAMES.PlanSlices,
    itemReader: new sfn.S3JsonLItemReader({
      bucket: props.runBucket,
      key: sfn.JsonPath.stringAt('$.slices.key'),
    }),
    itemSelector: sliceEvent,
    mapExecutionType: sfn.StateMachineType.STANDARD,
    maxConcurrency: props.planSliceConcurrency ?? DEFAULT_PLAN_SLICE_CONCURRENCY,
    // Children's outputs go to S3, never into the state; FinalizePlan reads the slice summaries.
    resultWriterV2: new sfn.ResultWriterV2({
      bucket: props.runBucket,
      prefix: sfn.JsonPath.format('{}/plan-results', sfn.JsonPath.stringAt('$.runPrefix')),
    }),
    // Keep the RunContext as the state: FinalizePlan needs it, not the map run details.
    resultPath: sfn.JsonPath.DISCARD,
  });
  planSlices.itemProcessor(lambdaStep(scope, STATE_NAMES.PlanSlice, props.functions.PlanSlice));
  return planSlices;
}

/** One STANDARD child per batch of work items: waiting for replication is free, a redrive resumes at the failed step. */
function buildBackfillImages(
  scope: Construct,
  functions: BackfillWorkflowProps['functions'],
  runBucket: IBucket,
  sizing: BatchStepConcurrency | undefined,
): sfn.DistributedMap {
  // ItemBatcher's BatchInput is rendered as given (CDK does not add `.$`), so the paths are spelled out.
  const batchInput: { [K in keyof BatchInput as `${K}.$`]: string } = {
    'runId.$': '$.runId',
    'bucket.$': '$.bucket',
    'runPrefix.$': '$.runPrefix',
    'sourceRegion.$': '$.config.sourceRegion',
    'sourceRegistryId.$': '$.config.sourceRegistryId',
    'strategy.$': '$.config.strategy',
    'tempTagPrefix.$': '$.config.tempTagPrefix',
    'overwriteConflicts.$': '$.config.overwriteConflicts',
    'includeUntagged.$': '$.config.includeUntagged',
    'replicationTimeoutMinutes.$': '$.config.replicationTimeoutMinutes',
    'replicationWaitSeconds.$': '$.config.replicationWaitSeconds',
    // Beside config: what Plan found the pushes reach, not what the input said.
    'reachedDestinations.$': '$.reachedDestinations',
  };
  const backfillImages = sfn.DistributedMap.jsonPath(scope, STATE_NAMES.BackfillImages, {
    comment: 'Backfills the planned items in batches. No Retry here: a map retry would rerun every child.',
    label: STATE_NAMES.BackfillImages,
    itemReader: new sfn.S3JsonLItemReader({
      bucket: runBucket,
      key: sfn.JsonPath.stringAt('$.items.key'),
    }),
    itemBatcher: new sfn.ItemBatcher({
      maxItemsPerBatchPath: '$.config.batchSize',
      // A child carries its batch *plus* the results its steps add (more than the batch for short
      // tags or many destinations), and Step Functions holds its state to 256 KiB: the planner
      // derives the run's bound from its items, at most 64 KiB (core/contracts/payload-bounds.ts).
      // https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html
      maxInputBytesPerBatchPath: '$.items.maxInputBytesPerBatch',
      batchInput,
    }),
    mapExecutionType: sfn.StateMachineType.STANDARD,
    maxConcurrencyPath: '$.config.maxConcurrency',
    toleratedFailurePercentagePath: '$.config.toleratedFailurePercentage',
    // AWS appends the map run id: runs/<runId>/results/<mapRunId>/manifest.json, SUCCEEDED_n.json, …
    resultWriterV2: new sfn.ResultWriterV2({
      bucket: runBucket,
      prefix: sfn.JsonPath.format('{}/results', sfn.JsonPath.stringAt('$.runPrefix')),
    }),
    // {MapRunArn, ResultWriterDetails} next to the PlannedRun: Summarize's input.
    resultPath: '$.backfill',
  });
  backfillImages.itemProcessor(buildBatchWorkflow(scope, functions, sizing));
  return backfillImages;
}

/** The child workflow for one batch `{BatchInput, Items}`; every step takes and returns the BatchState. */
function buildBatchWorkflow(
  scope: Construct,
  functions: BackfillWorkflowProps['functions'],
  sizing: BatchStepConcurrency | undefined,
): sfn.IChainable {
  // Every batch step's function reserves concurrency: a throttled invoke queues (throttleRetryOf).
  const queue = (step: BatchStepName) => {
    const throttleRetry = throttleRetryOf(step, sizing);
    return throttleRetry ? { throttleRetry } : {};
  };
  // The paced steps (continues, in core/steps.ts) get their WorkRemaining retrier from lambdaStep.
  const pushTempTags = lambdaStep(scope, STATE_NAMES.PushTempTags, functions.PushTempTags, {
    ...queue(STATE_NAMES.PushTempTags),
  });
  const retagSourceTags = lambdaStep(scope, STATE_NAMES.RetagSourceTags, functions.RetagSourceTags, {
    ...queue(STATE_NAMES.RetagSourceTags),
  });
  const waitForReplication = new sfn.Wait(scope, STATE_NAMES.WaitForReplication, {
    comment: 'Replication takes seconds to minutes; waiting in a STANDARD child costs nothing.',
    time: sfn.WaitTime.secondsPath('$.BatchInput.replicationWaitSeconds'),
  });
  const checkReplication = lambdaStep(scope, STATE_NAMES.CheckReplication, functions.CheckReplication, {
    comment: 'Throws ReplicationPending while any replication is in progress: its Retry is the poll.',
    extraRetries: [REPLICATION_PENDING_RETRY],
    ...queue(STATE_NAMES.CheckReplication),
  });
  const promoteTags = lambdaStep(scope, STATE_NAMES.PromoteTags, functions.PromoteTags, {
    ...queue(STATE_NAMES.PromoteTags),
  });
  const verifyDigests = lambdaStep(scope, STATE_NAMES.VerifyDigests, functions.VerifyDigests, {
    ...queue(STATE_NAMES.VerifyDigests),
  });
  const cleanupTempTags = lambdaStep(scope, STATE_NAMES.CleanupTempTags, functions.CleanupTempTags, {
    ...queue(STATE_NAMES.CleanupTempTags),
  });
  const finishBatch = lambdaStep(scope, STATE_NAMES.FinishBatch, functions.FinishBatch, {
    ...queue(STATE_NAMES.FinishBatch),
    comment:
      'Throws ItemsFailed (never retried) when items could not be done, so the map fails and can be redriven.',
  });

  // No Choice before PromoteTags: it returns its input unchanged for the other strategies (its
  // StrategyScope says `passes`), and a Choice state would cost every promote batch one more state
  // transition (transitions are most of the cost). RetagSourceTags is `skipped`: ChooseStrategy.
  waitForReplication
    .next(checkReplication)
    .next(promoteTags)
    .next(verifyDigests)
    .next(cleanupTempTags)
    .next(finishBatch);
  const chooseStrategy = new sfn.Choice(scope, STATE_NAMES.ChooseStrategy)
    .when(strategyIn(STEPS.RetagSourceTags.strategies.only), retagSourceTags.next(waitForReplication))
    .otherwise(waitForReplication);

  return sfn.Chain.start(pushTempTags).next(chooseStrategy);
}
