/**
 * What each Lambda step may do and how it is sized: one row per step, so a reviewer can check least
 * privilege in one place. The construct turns these rows into IAM statements and function settings.
 */
import { Duration } from 'aws-cdk-lib';
import type { LambdaStepName } from '../core/contracts/contracts.ts';

/** ECR actions that change a repository. Granted on repository ARNs only, to the steps that write. */
export type EcrWriteAction = 'ecr:PutImage' | 'ecr:BatchDeleteImage';

/** Reads every ECR step needs, on repository ARNs in the source and destination Regions. */
export const ECR_READ_ACTIONS = [
  'ecr:DescribeRepositories',
  'ecr:DescribeImages',
  'ecr:ListImages',
  'ecr:BatchGetImage',
  'ecr:DescribeImageReplicationStatus',
] as const;

/**
 * ECR's replication backfill actions (the native engine). Registry-level operations: see
 * infra/native-engine.ts for why they are granted on "*".
 */
export type NativeBackfillAction =
  | 'ecr:ListReplicationBackfills'
  | 'ecr:StartReplicationBackfill'
  | 'ecr:DescribeReplicationBackfillResults'
  | 'ecr:StopReplicationBackfill';

export interface StepProfile {
  readonly description: string;
  /** Reads repositories and images (source and destinations). */
  readonly ecrRead: boolean;
  /** Reads the registry's replication configuration (no resource-level permission exists). */
  readonly describeRegistry: boolean;
  readonly sourceWrites: readonly EcrWriteAction[];
  readonly destinationWrites: readonly EcrWriteAction[];
  /** Reads and writes run data under `runs/` in the run bucket. */
  readonly runBucket: boolean;
  /**
   * A child step of BackfillImages: writes its batch's progress record (`runs/<runId>/progress/`,
   * core/run-files/batch-progress.ts), and nothing else in the bucket unless `runBucket`.
   */
  readonly recordsProgress?: boolean;
  /**
   * A paced step that stops at its time budget and continues itself (functions/step-kit/work-budget.ts):
   * reads and writes its batch's continuation record (`runs/<runId>/continuations/`,
   * core/run-files/continuation.ts). Implied by `runBucket`.
   */
  readonly continues?: boolean;
  /**
   * Reads a cross-account destination's registry permissions policy (`ecr:GetRegistryPolicy`)
   * through the destination's role: added to the role session's policy (DESTINATION_ACTIONS) only,
   * since the call runs as the destination role, never as this step's own role.
   */
  readonly readsDestinationRegistryPolicy?: boolean;
  /** The native engine's backfill actions this step calls (none when absent). */
  readonly nativeBackfill?: readonly NativeBackfillAction[];
  readonly memorySize: number;
  readonly timeout: Duration;
  /**
   * Batch steps (one invocation per backfill child at a time) reserve concurrency, so a backfill can
   * never take the account's Lambda pool: `pushers` reserve `concurrentPushers` (what the PutImage
   * pacing assumes), `batchStep` the construct's `batchStepReservedConcurrency`.
   */
  readonly reservedConcurrency?: 'pushers' | 'batchStep';
}

/** Plan-side steps page through whole registries or merge whole plans: give them Lambda's full 15 minutes. */
const PLANNING = { memorySize: 1024, timeout: Duration.minutes(15) } as const;
/** Batch steps handle one batch; pushes are paced by the PutImage share, so allow a few minutes. */
const PUSHING = { memorySize: 512, timeout: Duration.minutes(10) } as const;
const CHECKING = { memorySize: 512, timeout: Duration.minutes(5) } as const;

const NO_WRITES = { sourceWrites: [], destinationWrites: [] } as const;

export const STEP_PROFILES: Readonly<Record<LambdaStepName, StepProfile>> = {
  Plan: {
    description: 'Validates the input, resolves destinations, lists repositories, writes slices.jsonl',
    ecrRead: true,
    describeRegistry: true,
    // Does each cross-account destination's registry policy allow replication from the source?
    readsDestinationRegistryPolicy: true,
    ...NO_WRITES,
    runBucket: true,
    ...PLANNING,
  },
  PlanSlice: {
    description: 'Compares one slice of repositories with every destination, writes its item file',
    ecrRead: true,
    describeRegistry: false,
    ...NO_WRITES,
    runBucket: true,
    ...PLANNING,
  },
  FinalizePlan: {
    description: 'Merges the slice item files into items.jsonl, chooses the engine, writes plan.json',
    ecrRead: false,
    describeRegistry: false,
    ...NO_WRITES,
    runBucket: true,
    // Method auto: is the backfill API there, and is another backfill active in a destination Region?
    nativeBackfill: ['ecr:ListReplicationBackfills'],
    ...PLANNING,
  },
  PushTempTags: {
    description: 'Re-pushes each source manifest under a run-scoped temp tag so replication fires',
    ecrRead: true,
    // A push replicates to every destination the rules name, not only the selected ones: it reads the
    // rules so those copies are waited for and cleaned too (functions/step-kit/step-context.ts).
    describeRegistry: true,
    sourceWrites: ['ecr:PutImage'],
    destinationWrites: [],
    recordsProgress: true,
    continues: true,
    runBucket: false,
    ...PUSHING,
    reservedConcurrency: 'pushers',
  },
  RetagSourceTags: {
    description: 'retag-source strategy: deletes and re-puts source tags so replication carries them',
    ecrRead: true,
    describeRegistry: false,
    sourceWrites: ['ecr:PutImage', 'ecr:BatchDeleteImage'],
    destinationWrites: [],
    // Journals each tag it deletes (runs/<runId>/…) so a crash between delete and put is recovered.
    recordsProgress: true,
    continues: true,
    runBucket: true,
    ...PUSHING,
    reservedConcurrency: 'pushers',
  },
  CheckReplication: {
    description: 'Polls DescribeImageReplicationStatus; throws ReplicationPending while in progress',
    ecrRead: true,
    describeRegistry: false,
    ...NO_WRITES,
    recordsProgress: true,
    runBucket: false,
    ...CHECKING,
    reservedConcurrency: 'batchStep',
  },
  PromoteTags: {
    description: 'Puts every original tag on the replicated manifest in each destination',
    ecrRead: true,
    describeRegistry: false,
    sourceWrites: [],
    destinationWrites: ['ecr:PutImage'],
    recordsProgress: true,
    continues: true,
    runBucket: false,
    ...PUSHING,
    reservedConcurrency: 'pushers',
  },
  VerifyDigests: {
    description: 'Checks that every backfilled tag resolves to the source digest in each destination',
    ecrRead: true,
    describeRegistry: false,
    ...NO_WRITES,
    recordsProgress: true,
    runBucket: false,
    ...CHECKING,
    reservedConcurrency: 'batchStep',
  },
  CleanupTempTags: {
    description: 'Deletes the temp tags in the destinations and the source (never an image last tag)',
    ecrRead: true,
    describeRegistry: false,
    sourceWrites: ['ecr:BatchDeleteImage'],
    destinationWrites: ['ecr:BatchDeleteImage'],
    recordsProgress: true,
    runBucket: false,
    ...PUSHING,
    reservedConcurrency: 'batchStep',
  },
  FinishBatch: {
    description: 'Re-evaluates failed items and fails the batch with ItemsFailed if any remain',
    ecrRead: true,
    describeRegistry: false,
    // Its second look finishes late items inline with the same logic as RetagSourceTags (journal in
    // the run bucket), PromoteTags and CleanupTempTags, so it needs what those steps need.
    sourceWrites: ['ecr:PutImage', 'ecr:BatchDeleteImage'],
    destinationWrites: ['ecr:PutImage', 'ecr:BatchDeleteImage'],
    recordsProgress: true,
    runBucket: true,
    ...PUSHING,
    reservedConcurrency: 'pushers',
  },
  Summarize: {
    description: 'Reads the map results and writes report.json and report.csv',
    ecrRead: false,
    describeRegistry: false,
    ...NO_WRITES,
    runBucket: true,
    ...PLANNING,
  },
  NativeStartBackfill: {
    description:
      'Native engine: starts (or adopts, or queues for) the replication backfill of one destination',
    ecrRead: false,
    describeRegistry: false,
    ...NO_WRITES,
    // The backfill record: what this run started, across attempts and for the stop-on-abort rule.
    runBucket: true,
    nativeBackfill: [
      'ecr:ListReplicationBackfills',
      'ecr:StartReplicationBackfill',
      'ecr:DescribeReplicationBackfillResults',
    ],
    ...CHECKING,
  },
  NativeCheckBackfill: {
    description:
      'Native engine: polls a replication backfill; pages its per-image results to S3 once it ends',
    ecrRead: false,
    describeRegistry: false,
    ...NO_WRITES,
    runBucket: true,
    nativeBackfill: ['ecr:DescribeReplicationBackfillResults'],
    // Paging up to 1000 results per call through every image and tag of a registry.
    ...PLANNING,
  },
  NativeStopBackfill: {
    description:
      'Native engine: stops the backfills a run started (stalled, or the execution stopped or failed)',
    ecrRead: false,
    describeRegistry: false,
    ...NO_WRITES,
    runBucket: true,
    nativeBackfill: ['ecr:DescribeReplicationBackfillResults', 'ecr:StopReplicationBackfill'],
    ...PLANNING,
  },
  NativeVerify: {
    description: 'Native engine: verifies every planned tag in every destination, writes the repair items',
    ecrRead: true,
    describeRegistry: false,
    sourceWrites: [],
    // Only to undo a backfill that put a moved tag back on its older digest (docs/architecture.md §3.2 #3).
    destinationWrites: ['ecr:PutImage'],
    runBucket: true,
    ...PLANNING,
  },
};
