/**
 * The step table: every Lambda step of the workflow, declared once (docs/architecture.md §3.5).
 *
 * A row says what a step is: the state it is (its key is the Task state's name), the folder of its
 * code under `functions/`, where it runs in the workflow, what it calls (the facts its IAM role and
 * its destination-role session policy are made of), how its function is sized, and for a step of
 * the batch child whether it continues itself (functions/step-kit/work-budget.ts), which strategies
 * it works for, and the phases its progress records say. The other tables are derived from it:
 * `LAMBDA_STEPS` (folders, bundling), the state machine's names and retriers, the construct's roles
 * and functions (infra/step-profiles.ts), the batch handler's phases and continuations, and the
 * phases and map labels the CLI shows. Only the binding of a step to its handler factory lives
 * elsewhere (functions/registry.ts, typed by `LambdaStepName` so it cannot miss a row).
 *
 * The names of the workflow's other states (its Distributed Maps and the states that only route)
 * are declared here too: the CLI reads them in an execution's history and the local runner binds
 * by them, so they are a contract of the layers above, not the state machine's private spelling.
 *
 * Plain data: no CDK (timeouts are seconds), no Lambda plumbing. test/statemachine/step-table.test.ts
 * holds the state machine to it, test/infra/step-profiles.test.ts holds each step's code to its `calls`.
 */
import type { Strategy } from './contracts/contracts.ts';
import type { BatchPhase } from './run-files/batch-progress.ts';

/** ECR actions that change a repository. Granted on repository ARNs only, to the steps that write. */
export type EcrWriteAction = 'ecr:PutImage' | 'ecr:BatchDeleteImage' | LayerUploadAction;

/**
 * The layer upload API, which copying a referrer's blobs into a destination repository calls
 * (core/ecr/referrers.ts). BatchCheckLayerAvailability only reads, but only a writer needs it.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_InitiateLayerUpload.html
 */
export const LAYER_UPLOAD_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
] as const;
export type LayerUploadAction = (typeof LAYER_UPLOAD_ACTIONS)[number];

/** Reading a blob's bytes (a pre-signed download URL), beyond ECR_READ_ACTIONS: copying a referrer's blobs. */
export type EcrLayerReadAction = 'ecr:GetDownloadUrlForLayer';

/** The ECR reads the steps make (each row names its own: `sourceReads`, `destinationReads`). */
export const ECR_READ_ACTIONS = [
  'ecr:DescribeRepositories',
  'ecr:DescribeImages',
  'ecr:BatchGetImage',
  'ecr:DescribeImageReplicationStatus',
] as const;
export type EcrReadAction = (typeof ECR_READ_ACTIONS)[number];

/**
 * ECR's replication backfill actions (the native engine). Registry-level operations: see
 * infra/native-engine.ts for why they are granted on "*".
 */
export type NativeBackfillAction =
  | 'ecr:ListReplicationBackfills'
  | 'ecr:StartReplicationBackfill'
  | 'ecr:DescribeReplicationBackfillResults'
  | 'ecr:StopReplicationBackfill';

/**
 * How a step uses its run's files (core/run-files/run-store.ts), as S3 authorizes it
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html):
 * - `read`: reads whole files (`s3:GetObject`);
 * - `write`: writes whole files (`s3:PutObject`);
 * - `stream`: streams files in with a multipart upload (`s3:PutObject`, and `s3:AbortMultipartUpload`
 *   to give one up, core/run-files/s3-run-store.ts);
 * - `list`: lists run files (`s3:ListBucket`, held to the `runs/` prefix).
 */
export type RunDataAccess = 'read' | 'write' | 'stream' | 'list';

/** What a step calls: one row per step, so a reviewer can check least privilege in one place. */
export interface StepCalls {
  /** The reads it makes in the source registry (granted on the source Region's repositories). */
  readonly sourceReads: readonly EcrReadAction[];
  /**
   * The reads it makes in destination registries (granted on the destinations' repositories, and
   * through a destination's role: its session policy).
   */
  readonly destinationReads: readonly EcrReadAction[];
  /**
   * Calls destinations through a role (a selected destination's `roleArn`, or the role Plan chose
   * for an unselected one the pushes reach): `sts:AssumeRole` on the deployment's
   * `destinationRoleArns`, each session narrowed to DESTINATION_ACTIONS. False for a step that
   * calls no destination.
   */
  readonly assumesDestinationRoles: boolean;
  /** Reads the registry's replication configuration (no resource-level permission exists). */
  readonly describeRegistry: boolean;
  /**
   * Reads a cross-account destination's registry permissions policy (`ecr:GetRegistryPolicy`)
   * through the destination's role: added to the role session's policy (DESTINATION_ACTIONS) only,
   * since the call runs as the destination role, never as this step's own role.
   */
  readonly readsDestinationRegistryPolicy?: boolean;
  readonly sourceWrites: readonly EcrWriteAction[];
  readonly destinationWrites: readonly EcrWriteAction[];
  /** Downloads blobs from source repositories (a referrer's, to copy it): granted on the source's ARNs. */
  readonly sourceLayerReads?: readonly EcrLayerReadAction[];
  /**
   * How it uses run data under `runs/` in the run bucket (each access its own grant). A batch step
   * without any still writes its progress record, and a step that continues its continuation record
   * (granted from `runsIn` and `continues`).
   */
  readonly runData: readonly RunDataAccess[];
  /** The native engine's backfill actions this step calls (none when absent). */
  readonly nativeBackfill?: readonly NativeBackfillAction[];
}

/**
 * Batch steps (one invocation per backfill child at a time) reserve concurrency, so a backfill can
 * never take the account's Lambda pool: `pushers` reserve `concurrentPushers` (what the PutImage
 * pacing assumes), `batchStep` the construct's `batchStepReservedConcurrency`.
 */
export type ReservedConcurrency = 'pushers' | 'batchStep';

/** The phases `ecr-backfill watch` names, from the state the execution is in. */
export const CLI_PHASES = ['Planning', 'Native backfill', 'Verifying', 'Backfilling', 'Summarizing'] as const;
export type CliPhase = (typeof CLI_PHASES)[number];

/**
 * The workflow's Distributed Maps. A map's `Label` (which names its map runs, and scopes the
 * `states:RedriveExecution` permission) is its state name, so the CLI finds a map run by it.
 */
export const DISTRIBUTED_MAPS = {
  /** One child per slice of repositories (PlanSlice). */
  PlanSlices: { cliPhase: 'Planning' },
  /** One child per batch of work items: the batch steps. */
  BackfillImages: { cliPhase: 'Backfilling' },
  /** The native engine: one child per destination. */
  NativeBackfills: { cliPhase: 'Native backfill' },
} as const satisfies Record<string, { readonly cliPhase: CliPhase }>;
export type DistributedMapName = keyof typeof DISTRIBUTED_MAPS;

/** Where a state runs: the parent workflow, or the child of one of its Distributed Maps. */
export type RunsIn = 'parent' | DistributedMapName;

/**
 * The strategies a batch step works for. For the others, the child either never enters it (the
 * ChooseStrategy state routes around it: `skipped`), or enters it and the step returns its input
 * unchanged (`passes`: one state transition cheaper than a Choice for the common strategy).
 */
export interface StrategyScope {
  readonly only: readonly Strategy[];
  readonly otherwise: 'skipped' | 'passes';
}

/** The phases a batch step's progress records say (core/run-files/batch-progress.ts). */
export interface BatchStepProgress {
  /** While it runs: its mid-step records, and those of an invocation that continues. */
  readonly during: BatchPhase;
  /** Once it returned: where the batch is next. One phase, or one per strategy. */
  readonly after: BatchPhase | Readonly<Record<Strategy, BatchPhase>>;
}

interface StepCommon {
  /** Its code under `functions/`; the last segment names its bundled asset (infra/lambda-assets.ts). */
  readonly folder: string;
  /** One line, for the function's and the role's description. */
  readonly description: string;
  readonly calls: StepCalls;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly reservedConcurrency?: ReservedConcurrency;
}

/** A step of the parent workflow: the CLI names the phase the run is in while it runs. */
export interface ParentStep extends StepCommon {
  readonly runsIn: 'parent';
  readonly cliPhase: CliPhase;
}

/** A step of the PlanSlices or NativeBackfills child (the map's phase is what the CLI shows). */
export interface MapChildStep extends StepCommon {
  readonly runsIn: 'PlanSlices' | 'NativeBackfills';
}

/** A step of the BackfillImages child: it takes and returns the BatchState and records the batch's progress. */
export interface BatchStep extends StepCommon {
  readonly runsIn: 'BackfillImages';
  /**
   * Works to a time budget and continues itself: a WorkRemaining retrier in the state machine, a
   * continuation record in the run bucket (functions/step-kit/work-budget.ts).
   */
  readonly continues: boolean;
  /** Absent: it works for every strategy. */
  readonly strategies?: StrategyScope;
  readonly progress: BatchStepProgress;
}

export type StepDeclaration = ParentStep | MapChildStep | BatchStep;

/** Plan-side steps page through whole registries or merge whole plans: give them Lambda's full 15 minutes. */
const PLANNING = { memoryMb: 1024, timeoutSeconds: 15 * 60 } as const;
/** Batch steps handle one batch; pushes are paced by the PutImage share, so allow a few minutes. */
const PUSHING = { memoryMb: 512, timeoutSeconds: 10 * 60 } as const;
const CHECKING = { memoryMb: 512, timeoutSeconds: 5 * 60 } as const;

const NO_WRITES = { sourceWrites: [], destinationWrites: [] } as const;

/** Every Lambda step, keyed by its Task state's name. */
export const STEPS = {
  Plan: {
    runsIn: 'parent',
    folder: 'plan',
    description: 'Validates the input, resolves destinations, lists repositories, writes slices.jsonl',
    calls: {
      sourceReads: ['ecr:DescribeRepositories'],
      destinationReads: [],
      assumesDestinationRoles: true,
      describeRegistry: true,
      // Does each cross-account destination's registry policy allow replication from the source?
      readsDestinationRegistryPolicy: true,
      ...NO_WRITES,
      runData: ['read', 'write', 'stream'],
    },
    ...PLANNING,
    cliPhase: 'Planning',
  },
  PlanSlice: {
    runsIn: 'PlanSlices',
    folder: 'plan-slice',
    description: 'Compares one slice of repositories with every destination, writes its item file',
    calls: {
      sourceReads: ['ecr:DescribeImages', 'ecr:BatchGetImage'],
      destinationReads: ['ecr:DescribeImages'],
      assumesDestinationRoles: true,
      describeRegistry: false,
      ...NO_WRITES,
      runData: ['read', 'write', 'stream'],
    },
    ...PLANNING,
  },
  FinalizePlan: {
    runsIn: 'parent',
    folder: 'finalize-plan',
    description: 'Merges the slice item files into items.jsonl, chooses the engine, writes plan.json',
    calls: {
      sourceReads: [],
      destinationReads: [],
      assumesDestinationRoles: false,
      describeRegistry: false,
      ...NO_WRITES,
      runData: ['read', 'write', 'stream'],
      // Method auto: is the backfill API there, and is another backfill active in a destination Region?
      nativeBackfill: ['ecr:ListReplicationBackfills'],
    },
    ...PLANNING,
    cliPhase: 'Planning',
  },
  PushTempTags: {
    runsIn: 'BackfillImages',
    folder: 'push-temp-tags',
    description: 'Re-pushes each source manifest under a run-scoped temp tag so replication fires',
    calls: {
      sourceReads: ['ecr:DescribeImages', 'ecr:BatchGetImage'],
      destinationReads: ['ecr:BatchGetImage'],
      // Reads whether an unselected destination its push reaches holds the digest already, through
      // the role Plan chose for it (functions/plan/reached-destinations.ts).
      assumesDestinationRoles: true,
      // A push replicates to every destination the rules name, not only the selected ones: it reads the
      // rules so those copies are waited for and cleaned too (functions/step-kit/step-context.ts).
      describeRegistry: true,
      sourceWrites: ['ecr:PutImage'],
      destinationWrites: [],
      runData: [],
    },
    ...PUSHING,
    reservedConcurrency: 'pushers',
    continues: true,
    progress: {
      during: 'pushing temp tags',
      // retag-source re-puts the source tags next, which is still pushing.
      after: { promote: 'waiting for replication', 'retag-source': 'pushing temp tags' },
    },
  },
  RetagSourceTags: {
    runsIn: 'BackfillImages',
    folder: 'retag-source-tags',
    description: 'retag-source strategy: deletes and re-puts source tags so replication carries them',
    calls: {
      // DescribeImages: after each re-put, whether the owner deleted the image meanwhile (owners' deletes win).
      sourceReads: ['ecr:BatchGetImage', 'ecr:DescribeImages'],
      destinationReads: ['ecr:BatchGetImage', 'ecr:DescribeRepositories'],
      assumesDestinationRoles: true,
      describeRegistry: false,
      sourceWrites: ['ecr:PutImage', 'ecr:BatchDeleteImage'],
      destinationWrites: [],
      // Journals each tag it deletes (runs/<runId>/…) so a crash between delete and put is recovered.
      runData: ['read', 'write'],
    },
    ...PUSHING,
    reservedConcurrency: 'pushers',
    continues: true,
    strategies: { only: ['retag-source'], otherwise: 'skipped' },
    progress: { during: 'pushing temp tags', after: 'waiting for replication' },
  },
  CheckReplication: {
    runsIn: 'BackfillImages',
    folder: 'check-replication',
    description: 'Polls DescribeImageReplicationStatus; throws ReplicationPending while in progress',
    calls: {
      sourceReads: ['ecr:DescribeImageReplicationStatus'],
      destinationReads: ['ecr:BatchGetImage'],
      assumesDestinationRoles: true,
      describeRegistry: false,
      ...NO_WRITES,
      runData: [],
    },
    ...CHECKING,
    reservedConcurrency: 'batchStep',
    continues: false,
    // retag-source's tags travelled with the push: nothing to promote.
    progress: {
      during: 'waiting for replication',
      after: { promote: 'promoting', 'retag-source': 'verifying' },
    },
  },
  PromoteTags: {
    runsIn: 'BackfillImages',
    folder: 'promote-tags',
    description: 'Puts every original tag on the replicated manifest in each destination',
    calls: {
      sourceReads: ['ecr:BatchGetImage'],
      destinationReads: ['ecr:BatchGetImage', 'ecr:DescribeImages', 'ecr:DescribeRepositories'],
      assumesDestinationRoles: true,
      describeRegistry: false,
      sourceWrites: [],
      // BatchDeleteImage undoes a put whose source tag its owner deleted meanwhile (owners' deletes win).
      // The layer upload API copies the referrers a destination lacks (functions/promote-tags/copy-referrers.ts).
      destinationWrites: ['ecr:PutImage', 'ecr:BatchDeleteImage', ...LAYER_UPLOAD_ACTIONS],
      // Their blobs are downloaded from the source (never written there).
      sourceLayerReads: ['ecr:GetDownloadUrlForLayer'],
      runData: [],
    },
    ...PUSHING,
    reservedConcurrency: 'pushers',
    continues: true,
    strategies: { only: ['promote'], otherwise: 'passes' },
    progress: { during: 'promoting', after: 'verifying' },
  },
  VerifyDigests: {
    runsIn: 'BackfillImages',
    folder: 'verify-digests',
    description: 'Checks that every backfilled tag resolves to the source digest in each destination',
    calls: {
      sourceReads: ['ecr:BatchGetImage'],
      destinationReads: ['ecr:BatchGetImage'],
      assumesDestinationRoles: true,
      describeRegistry: false,
      ...NO_WRITES,
      runData: [],
    },
    ...CHECKING,
    reservedConcurrency: 'batchStep',
    continues: false,
    progress: { during: 'verifying', after: 'cleaning up' },
  },
  CleanupTempTags: {
    runsIn: 'BackfillImages',
    folder: 'cleanup-temp-tags',
    description: 'Deletes the temp tags in the destinations and the source (never an image last tag)',
    calls: {
      sourceReads: ['ecr:DescribeImages'],
      destinationReads: ['ecr:DescribeImages'],
      assumesDestinationRoles: true,
      describeRegistry: false,
      sourceWrites: ['ecr:BatchDeleteImage'],
      destinationWrites: ['ecr:BatchDeleteImage'],
      runData: [],
    },
    ...PUSHING,
    reservedConcurrency: 'batchStep',
    continues: false,
    progress: { during: 'cleaning up', after: 'finishing' },
  },
  FinishBatch: {
    runsIn: 'BackfillImages',
    folder: 'finish-batch',
    description: 'Re-evaluates failed items and fails the batch with ItemsFailed if any remain',
    calls: {
      sourceReads: ['ecr:BatchGetImage', 'ecr:DescribeImages', 'ecr:DescribeImageReplicationStatus'],
      destinationReads: ['ecr:BatchGetImage', 'ecr:DescribeImages', 'ecr:DescribeRepositories'],
      assumesDestinationRoles: true,
      describeRegistry: false,
      // Its second look finishes late items inline with the same logic as RetagSourceTags (journal in
      // the run bucket), PromoteTags and CleanupTempTags, so it needs what those steps need.
      sourceWrites: ['ecr:PutImage', 'ecr:BatchDeleteImage'],
      destinationWrites: ['ecr:PutImage', 'ecr:BatchDeleteImage', ...LAYER_UPLOAD_ACTIONS],
      sourceLayerReads: ['ecr:GetDownloadUrlForLayer'],
      runData: ['read', 'write'],
    },
    ...PUSHING,
    reservedConcurrency: 'pushers',
    // Its second look re-runs RetagSourceTags and PromoteTags for late items: it keeps their time
    // budget and continues itself the same way (functions/finish-batch/finish-batch.ts).
    continues: true,
    progress: { during: 'finishing', after: 'done' },
  },
  Summarize: {
    runsIn: 'parent',
    folder: 'summarize',
    description: 'Reads the map results and writes report.json and report.csv',
    calls: {
      sourceReads: [],
      destinationReads: [],
      assumesDestinationRoles: false,
      describeRegistry: false,
      ...NO_WRITES,
      runData: ['read', 'write'],
    },
    ...PLANNING,
    cliPhase: 'Summarizing',
  },
  // Native engine (statemachine/native-engine.ts), its steps together in functions/native-engine/
  NativeStartBackfill: {
    runsIn: 'NativeBackfills',
    folder: 'native-engine/native-start-backfill',
    description:
      'Native engine: starts (or adopts, or queues for) the replication backfill of one destination',
    calls: {
      sourceReads: [],
      destinationReads: [],
      assumesDestinationRoles: false,
      describeRegistry: false,
      ...NO_WRITES,
      // The backfill record: what this run started, across attempts and for the stop-on-abort rule.
      runData: ['read', 'write'],
      nativeBackfill: [
        'ecr:ListReplicationBackfills',
        'ecr:StartReplicationBackfill',
        'ecr:DescribeReplicationBackfillResults',
      ],
    },
    ...CHECKING,
  },
  NativeCheckBackfill: {
    runsIn: 'NativeBackfills',
    folder: 'native-engine/native-check-backfill',
    description:
      'Native engine: polls a replication backfill; pages its per-image results to S3 once it ends',
    calls: {
      sourceReads: [],
      destinationReads: [],
      assumesDestinationRoles: false,
      describeRegistry: false,
      ...NO_WRITES,
      runData: ['read', 'write'],
      nativeBackfill: ['ecr:DescribeReplicationBackfillResults'],
    },
    // Paging up to 1000 results per call through every image and tag of a registry.
    ...PLANNING,
  },
  NativeStopBackfill: {
    // Also the target of the rule that stops a run's backfills when its execution ends (infra/native-engine.ts).
    runsIn: 'NativeBackfills',
    folder: 'native-engine/native-stop-backfill',
    description:
      'Native engine: stops the backfills a run started (stalled, or the execution stopped or failed)',
    calls: {
      sourceReads: [],
      destinationReads: [],
      assumesDestinationRoles: false,
      describeRegistry: false,
      ...NO_WRITES,
      runData: ['read', 'write', 'list'],
      nativeBackfill: ['ecr:DescribeReplicationBackfillResults', 'ecr:StopReplicationBackfill'],
    },
    ...PLANNING,
  },
  NativeVerify: {
    runsIn: 'parent',
    folder: 'native-engine/native-verify',
    description:
      'Native engine: verifies every planned tag and referrer in every destination, copies the missing referrers, writes the repair items',
    calls: {
      // ecr:BatchGetImage also lists referrers (ListImageReferrers is authorized as it).
      sourceReads: ['ecr:BatchGetImage'],
      destinationReads: ['ecr:BatchGetImage'],
      assumesDestinationRoles: true,
      describeRegistry: false,
      sourceWrites: [],
      // PutImage undoes a backfill that put a moved tag back on its older digest (docs/architecture.md
      // §3.2 #3), and puts the referrers the backfill left out, untagged, after their blobs went up
      // with the layer upload API (functions/native-engine/native-verify/native-referrers.ts).
      // BatchDeleteImage removes a tag its owner deleted that the backfill copied anyway (#11).
      destinationWrites: ['ecr:PutImage', 'ecr:BatchDeleteImage', ...LAYER_UPLOAD_ACTIONS],
      // The referrers' blobs are downloaded from the source (never written there).
      sourceLayerReads: ['ecr:GetDownloadUrlForLayer'],
      runData: ['read', 'stream'],
    },
    ...PLANNING,
    cliPhase: 'Verifying',
  },
} as const satisfies Record<string, StepDeclaration>;

/** A Lambda step: the name of its Task state. */
export type LambdaStepName = keyof typeof STEPS;
/** A step of the BackfillImages child. */
export type BatchStepName = {
  [K in LambdaStepName]: (typeof STEPS)[K] extends { readonly runsIn: 'BackfillImages' } ? K : never;
}[LambdaStepName];

/**
 * The states that only route or wait (Choice, Wait, Succeed), where they run, and the CLI's phase for
 * those the parent can be seen in.
 */
export const ROUTING_STATES = {
  IsDryRun: { runsIn: 'parent' },
  DryRunSucceeded: { runsIn: 'parent' },
  ChooseEngine: { runsIn: 'parent', cliPhase: 'Planning' },
  NeedsRepair: { runsIn: 'parent', cliPhase: 'Verifying' },
  ChooseStrategy: { runsIn: 'BackfillImages' },
  WaitForReplication: { runsIn: 'BackfillImages' },
  IsBackfillStalled: { runsIn: 'NativeBackfills' },
  NativeBackfillSettled: { runsIn: 'NativeBackfills' },
} as const satisfies Record<string, { readonly runsIn: RunsIn; readonly cliPhase?: CliPhase }>;
export type RoutingStateName = keyof typeof ROUTING_STATES;

/** Every state of the workflow. CDK uses the construct id as the state name, so these are the ids. */
export type StateName = LambdaStepName | DistributedMapName | RoutingStateName;

// ---------------------------------------------------------------------------------------------
// Derived: what the other layers read
// ---------------------------------------------------------------------------------------------

/** The Lambda steps in the table's order. */
export const LAMBDA_STEP_NAMES = Object.keys(STEPS) as LambdaStepName[];

/** A step's row, as the general declaration (for code that handles every kind of step). */
export function stepOf(step: LambdaStepName): StepDeclaration {
  return STEPS[step];
}

/** Each row turned into something else, keyed by step (the construct's profiles, a test's expectations). */
export function mapSteps<T>(
  map: (step: StepDeclaration, name: LambdaStepName) => T,
): Record<LambdaStepName, T> {
  return Object.fromEntries(LAMBDA_STEP_NAMES.map((name) => [name, map(STEPS[name], name)])) as Record<
    LambdaStepName,
    T
  >;
}

/**
 * Each step's code folder under `functions/`. The state machine names its Tasks by step and the
 * local runner binds each one to the handler of the same step (refusing any other Task).
 */
export const LAMBDA_STEPS: Readonly<Record<LambdaStepName, string>> = mapSteps((step) => step.folder);

export const isBatchStep = (step: LambdaStepName): step is BatchStepName =>
  STEPS[step].runsIn === 'BackfillImages';

/** The steps of the BackfillImages child. */
export const BATCH_STEP_NAMES: readonly BatchStepName[] = LAMBDA_STEP_NAMES.filter(isBatchStep);

/** A batch step's row, as the general declaration. */
export function batchStepOf(step: BatchStepName): BatchStep {
  return STEPS[step];
}

/** The steps that work to a budget and continue themselves (WorkRemaining). */
export const CONTINUABLE_STEPS: readonly BatchStepName[] = BATCH_STEP_NAMES.filter(
  (step) => batchStepOf(step).continues,
);

export const continues = (step: BatchStepName): boolean => batchStepOf(step).continues;

/** Whether `step` does its work for `strategy` (entered or not: see StrategyScope). */
export function worksFor(step: BatchStepName, strategy: Strategy): boolean {
  const scope = batchStepOf(step).strategies;
  return scope === undefined || scope.only.includes(strategy);
}

/** The batch steps the child enters only for some strategies (ChooseStrategy), that `strategy` enters. */
export function strategyOnlyStepsOf(strategy: Strategy): BatchStepName[] {
  return BATCH_STEP_NAMES.filter(
    (step) => batchStepOf(step).strategies?.otherwise === 'skipped' && worksFor(step, strategy),
  );
}

/** The phase a batch step's records say while it runs. */
export function phaseDuring(step: BatchStepName): BatchPhase {
  return batchStepOf(step).progress.during;
}

/**
 * What the batch does next once `step` has returned: the record says where the batch *is*, so the
 * Wait before the first poll already reads "waiting for replication".
 */
export function phaseAfter(step: BatchStepName, strategy: Strategy): BatchPhase {
  const after = batchStepOf(step).progress.after;
  return typeof after === 'string' ? after : after[strategy];
}

/** Every state name, each mapped to itself: `STATE_NAMES.Plan === 'Plan'`. */
export const STATE_NAMES = Object.fromEntries(
  [...LAMBDA_STEP_NAMES, ...Object.keys(DISTRIBUTED_MAPS), ...Object.keys(ROUTING_STATES)].map((name) => [
    name,
    name,
  ]),
) as { readonly [K in StateName]: K };

/** The Distributed Map states, whose Label is their state name. */
export const DISTRIBUTED_MAP_STATES = Object.keys(DISTRIBUTED_MAPS) as DistributedMapName[];

export const isStateName = (name: string): name is StateName => Object.hasOwn(STATE_NAMES, name);
export const isLambdaStepName = (name: string): name is LambdaStepName => Object.hasOwn(STEPS, name);

const CLI_PHASE_OF_STATE: Readonly<Partial<Record<StateName, CliPhase>>> = {
  ...Object.fromEntries(
    LAMBDA_STEP_NAMES.flatMap((name) => {
      const step = stepOf(name);
      return step.runsIn === 'parent' ? [[name, step.cliPhase]] : [];
    }),
  ),
  ...Object.fromEntries(Object.entries(DISTRIBUTED_MAPS).map(([name, map]) => [name, map.cliPhase])),
  ...Object.fromEntries(
    Object.entries(ROUTING_STATES).flatMap(([name, state]) =>
      'cliPhase' in state ? [[name, state.cliPhase]] : [],
    ),
  ),
};

/**
 * The phase the CLI shows while the execution is in `state` (a name read from its history), or
 * undefined for a state that names none (a state of this workflow that only routes, or another's).
 */
export function cliPhaseOf(state: string): CliPhase | undefined {
  return isStateName(state) ? CLI_PHASE_OF_STATE[state] : undefined;
}

/**
 * What a step may call in a destination account through the destination's role: the session policy
 * of each of its AssumeRole calls (DESTINATION_ACTIONS), so a read-only step can never write there,
 * whatever the role allows. Empty for a step that assumes no destination role.
 */
export function destinationActionsOf(calls: StepCalls): string[] {
  if (!calls.assumesDestinationRoles) return [];
  return [
    ...calls.destinationReads,
    ...calls.destinationWrites,
    ...(calls.readsDestinationRegistryPolicy ? ['ecr:GetRegistryPolicy'] : []),
  ];
}

/** Every action any step calls through a destination role: what the documented role must allow. */
export const DESTINATION_ROLE_ACTIONS: readonly string[] = [
  ...new Set(LAMBDA_STEP_NAMES.flatMap((name) => destinationActionsOf(stepOf(name).calls))),
];
