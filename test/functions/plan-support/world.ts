/**
 * A registry to plan against: the shared world (test/support/world.ts: ECR emulator over HTTP,
 * s3rver) with the StepDeps the planning steps get, and a helper that runs the planning part of the
 * workflow the way the state machine does (Plan → one PlanSlice per line of slices.jsonl →
 * FinalizePlan).
 */
import { S3RunStore } from '../../../core/run-files/s3-run-store.ts';
import type { ReplicationRule } from '@aws-sdk/client-ecr';
import type { S3Client } from '@aws-sdk/client-s3';
import type { EcrEmulator, EcrEmulatorOptions } from '../../../local/ecr-emulator/index.ts';
import type { LocalS3 } from '../../../local/s3/index.ts';
import {
  PlanSliceItemSchema,
  WorkItemSchema,
  type PlannedRun,
  type PlanSliceResult,
  type RunContext,
  type WorkItem,
} from '../../../core/contracts/contracts.ts';
import type { RunPolicy } from '../../../core/contracts/run-policy.ts';
import type { StepDeps } from '../../../core/deps.ts';
import { listObjects, readJsonLines } from '../../../core/run-files/run-store.ts';
import { plan } from '../../../functions/plan/plan.ts';
import { planSlice } from '../../../functions/plan-slice/plan-slice.ts';
import { finalizePlan } from '../../../functions/finalize-plan/finalize-plan.ts';
import { writesIn } from '../../support/ecr-writes.ts';
import {
  OREGON,
  OTHER_ACCOUNT,
  OTHER_ROLE,
  RUN_BUCKET as BUCKET,
  SEOUL,
  SOURCE_ACCOUNT,
  SOURCE_REGION,
  startWorld,
  stepDeps,
  worldPerTest,
} from '../../support/world.ts';

export { BUCKET, OREGON, OTHER_ACCOUNT, OTHER_ROLE, SEOUL, SOURCE_ACCOUNT, SOURCE_REGION };

export interface PlanningWorld {
  emulator: EcrEmulator;
  s3: S3Client;
  deps: StepDeps;
  /** Sets the source registry's replication rules (through the API, before the test's calls). */
  replicate(rules: ReplicationRule[]): Promise<void>;
  /** Every key in the run bucket. */
  keys(prefix?: string): Promise<string[]>;
  /** ECR write calls the emulator saw (none may come from planning). */
  writeCalls(): number;
  close(): Promise<void>;
}

export interface PlanningWorldOptions extends EcrEmulatorOptions {
  s3: LocalS3;
  defaultInput?: Record<string, unknown>;
  /** The deployer's run policy. @default - the construct's default policy */
  runPolicy?: RunPolicy;
}

/** A deployment that allows every strategy, overwrites and the Step Functions maximum. */
export const PERMISSIVE_RUN_POLICY: RunPolicy = {
  allowedStrategies: ['promote', 'retag-source'],
  allowOverwriteConflicts: true,
  repositoryScope: [],
  maxConcurrencyLimit: 10_000,
  allowedMethods: ['repush', 'native', 'auto'],
  allowIncludeUntagged: true,
  allowIncludeArchived: true,
  maxReplicationTimeoutMinutes: 360,
};

/** Fresh emulator per test (cheap); the S3 emulator is shared by a test file (slower to start). */
export async function startPlanningWorld(options: PlanningWorldOptions): Promise<PlanningWorld> {
  const { s3: localS3, defaultInput, runPolicy, ...emulatorOptions } = options;
  const world = await startWorld({
    account: SOURCE_ACCOUNT,
    replicationLatencyMs: 0,
    quotaScale: Infinity,
    ...emulatorOptions,
    s3: localS3,
  });
  const deps = stepDeps(world, localS3.client, {
    maxAttempts: 1,
    ...(defaultInput ? { defaultInput } : {}),
    ...(runPolicy ? { runPolicy } : {}),
  });
  return {
    emulator: world.emulator,
    s3: localS3.client,
    deps,
    replicate: (rules) => world.replicate(rules),
    async keys(prefix = '') {
      const keys: string[] = [];
      for await (const object of listObjects(new S3RunStore(localS3.client), BUCKET, prefix))
        keys.push(object.key);
      return keys;
    },
    writeCalls() {
      return writesIn(world.emulator.callLog.entries()).length;
    },
    close: () => world.close(),
  };
}

/**
 * For a test file: one S3 for the file, a fresh planning world per test (closed after it). Call it
 * once at the top level; the function it returns starts a test's world.
 */
export const planningWorldPerTest = () =>
  worldPerTest(BUCKET, (s3, options: Omit<PlanningWorldOptions, 's3'> = {}) =>
    startPlanningWorld({ ...options, s3 }),
  );

export interface PlanningRun {
  context: RunContext;
  slices: PlanSliceResult[];
  planned: PlannedRun;
  items: WorkItem[];
}

/** Plan → PlanSlice per slice (as the PlanSlices map would) → FinalizePlan, then reads items.jsonl. */
export async function runPlanning(
  world: PlanningWorld,
  input: unknown,
  executionName: string,
): Promise<PlanningRun> {
  const context = await plan({ input, executionName }, world.deps);
  const slices: PlanSliceResult[] = [];
  for await (const slice of readJsonLines(
    new S3RunStore(world.s3),
    context.bucket,
    context.slices.key,
    PlanSliceItemSchema,
  )) {
    slices.push(
      await planSlice(
        {
          runId: context.runId,
          bucket: context.bucket,
          runPrefix: context.runPrefix,
          config: context.config,
          slice,
        },
        world.deps,
      ),
    );
  }
  const planned = await finalizePlan(context, world.deps);
  const items: WorkItem[] = [];
  for await (const item of readJsonLines(
    new S3RunStore(world.s3),
    planned.bucket,
    planned.items.key,
    WorkItemSchema,
  )) {
    items.push(item);
  }
  return { context, slices, planned, items };
}

/** The item of a repository and digest (fails the test when missing). */
export function itemFor(items: readonly WorkItem[], repositoryName: string, imageDigest: string): WorkItem {
  const item = items.find((i) => i.repositoryName === repositoryName && i.imageDigest === imageDigest);
  if (!item) throw new Error(`no work item for ${repositoryName}@${imageDigest}`);
  return item;
}
