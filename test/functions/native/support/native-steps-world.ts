/**
 * A world for the native steps' tests: the planning world (ECR emulator over HTTP, s3rver, real
 * StepDeps) with two destinations in one Region, a controllable clock, and the events the state
 * machine would hand the steps.
 */
import { S3RunStore } from '../../../../core/run-files/s3-run-store.ts';
import { ListReplicationBackfillsCommand, StartReplicationBackfillCommand } from '@aws-sdk/client-ecr';
import type { NativeDestinationEvent } from '../../../../core/contracts/contracts.ts';
import type { Clock, StepDeps } from '../../../../core/deps.ts';
import { nativeKeys, readBackfillRecord } from '../../../../core/native/native-run-files.ts';
import type { EcrEmulatorOptions } from '../../../../local/ecr-emulator/index.ts';
import { buildDockerImage } from '../../../../local/ecr-emulator/images.ts';
import type { LocalS3 } from '../../../../local/s3/index.ts';
import {
  BUCKET,
  OTHER_ACCOUNT,
  SEOUL,
  SOURCE_ACCOUNT,
  SOURCE_REGION,
  startPlanningWorld,
  type PlanningWorld,
} from '../../plan-support/world.ts';
import { worldPerTest } from '../../../support/world.ts';

export { BUCKET, OTHER_ACCOUNT, SEOUL, SOURCE_ACCOUNT, SOURCE_REGION };

export const OURS = { region: SEOUL, registryId: SOURCE_ACCOUNT };
export const THEIRS = { region: SEOUL, registryId: OTHER_ACCOUNT };
export const TOKYO = { region: 'ap-northeast-1', registryId: SOURCE_ACCOUNT };

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(private time = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.time;
  }
  advanceMinutes(minutes: number): void {
    this.time += minutes * 60_000;
  }
}

export interface NativeStepsWorld extends PlanningWorld {
  clock: ManualClock;
  /** The steps' deps, on the manual clock. */
  stepDeps: StepDeps;
  event(runId: string, destination?: { region: string; registryId: string }): NativeDestinationEvent;
  /** Starts a backfill as someone else would (outside the run). */
  startOutside(destination: { region: string; registryId: string }): Promise<string>;
  backfillIds(): Promise<Array<{ id: string; status: string; destination: string }>>;
  record(
    runId: string,
    destination?: { region: string; registryId: string },
  ): ReturnType<typeof readBackfillRecord>;
  /** How many calls of an operation the emulator answered (any outcome). */
  calls(operation: string, outcome?: string): number;
}

export async function startNativeStepsWorld(
  s3: LocalS3,
  options: EcrEmulatorOptions & { images?: number } = {},
): Promise<NativeStepsWorld> {
  const { images = 3, ...emulatorOptions } = options;
  const world = await startPlanningWorld({ s3, replicationLatencyMs: 60_000, ...emulatorOptions });
  for (let i = 0; i < images; i++) {
    world.emulator.seedImage(
      { region: SOURCE_REGION, repository: 'shop/api' },
      buildDockerImage(`native-steps/${i}`, { layers: 1 }),
      { tags: [`v${i}`] },
    );
  }
  await world.replicate([{ destinations: [OURS, THEIRS, TOKYO] }]);
  const clock = new ManualClock();
  const admin = world.emulator.client(SOURCE_REGION, { account: SOURCE_ACCOUNT });
  return {
    ...world,
    clock,
    stepDeps: { ...world.deps, clock },
    event: (runId, destination = OURS) => ({
      runId,
      bucket: BUCKET,
      runPrefix: `runs/${runId}`,
      sourceRegion: SOURCE_REGION,
      sourceRegistryId: SOURCE_ACCOUNT,
      replicationTimeoutMinutes: 30,
      destination,
    }),
    async startOutside(destination) {
      const started = await admin.send(new StartReplicationBackfillCommand({ destination }));
      return started.replicationBackfillId ?? '';
    },
    async backfillIds() {
      const listed = await admin.send(new ListReplicationBackfillsCommand({}));
      return (listed.backfills ?? []).map((b) => ({
        id: b.replicationBackfillId ?? '',
        status: b.status ?? '',
        destination: `${b.destination?.registryId}/${b.destination?.region}`,
      }));
    },
    record: (runId, destination = OURS) =>
      readBackfillRecord(new S3RunStore(world.s3), BUCKET, nativeKeys(`runs/${runId}`).backfill(destination)),
    calls: (operation, outcome) =>
      world.emulator.callLog.count({ operation, ...(outcome !== undefined ? { outcome } : {}) }),
    async close() {
      admin.destroy();
      await world.close();
    },
  };
}

/**
 * For a test file: one S3 for the file, a fresh native-steps world per test (closed after it). Call
 * it once at the top level; the function it returns starts a test's world.
 */
export const nativeStepsWorldPerTest = () => worldPerTest(BUCKET, startNativeStepsWorld);
