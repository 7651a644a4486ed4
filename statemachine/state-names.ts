/**
 * Every state name of the workflow, in one place.
 *
 * The names are the contract with the local runner: it binds Lambda Task states to local handlers by
 * state name (the keys of LAMBDA_STEPS) and replaces the two Distributed Map states by name. CDK uses
 * the construct id as the state name, so the definition creates each state with the id given here.
 */
import { LAMBDA_STEPS, type LambdaStepName } from '../core/contracts/contracts.ts';

/** The Lambda-backed Task states: exactly the keys of LAMBDA_STEPS, so handlers and states never drift. */
export const LAMBDA_TASK_STATES = Object.keys(LAMBDA_STEPS) as LambdaStepName[];

export const STATE_NAMES = {
  // Parent workflow
  Plan: 'Plan',
  PlanSlices: 'PlanSlices',
  FinalizePlan: 'FinalizePlan',
  IsDryRun: 'IsDryRun',
  DryRunSucceeded: 'DryRunSucceeded',
  BackfillImages: 'BackfillImages',
  Summarize: 'Summarize',
  // PlanSlices child (one per slice of repositories)
  PlanSlice: 'PlanSlice',
  // BackfillImages child (one per batch of work items)
  PushTempTags: 'PushTempTags',
  ChooseStrategy: 'ChooseStrategy',
  RetagSourceTags: 'RetagSourceTags',
  WaitForReplication: 'WaitForReplication',
  CheckReplication: 'CheckReplication',
  PromoteTags: 'PromoteTags',
  VerifyDigests: 'VerifyDigests',
  CleanupTempTags: 'CleanupTempTags',
  FinishBatch: 'FinishBatch',
  // Native engine (statemachine/native-engine.ts)
  ChooseEngine: 'ChooseEngine',
  NativeBackfills: 'NativeBackfills',
  NativeStartBackfill: 'NativeStartBackfill',
  NativeCheckBackfill: 'NativeCheckBackfill',
  IsBackfillStalled: 'IsBackfillStalled',
  NativeStopBackfill: 'NativeStopBackfill',
  NativeBackfillSettled: 'NativeBackfillSettled',
  NativeVerify: 'NativeVerify',
  NeedsRepair: 'NeedsRepair',
} as const satisfies Record<LambdaStepName, LambdaStepName> & Record<string, string>;
export type StateName = (typeof STATE_NAMES)[keyof typeof STATE_NAMES];

/**
 * The Distributed Map states. Their `Label` (which names the map runs and scopes the
 * `states:RedriveExecution` permission) is the state name itself.
 */
export const DISTRIBUTED_MAP_STATES = [
  STATE_NAMES.PlanSlices,
  STATE_NAMES.BackfillImages,
  STATE_NAMES.NativeBackfills,
] as const;
export type DistributedMapStateName = (typeof DISTRIBUTED_MAP_STATES)[number];
