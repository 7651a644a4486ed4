/**
 * A small ECR world for the step tests: the ECR emulator (real SDK over HTTP), the local S3 (s3rver)
 * for the retag journal, and StepDeps whose ECR clients can be made to "crash" after the k-th call.
 */
import { silentMetrics } from '../../../../core/metrics.ts';
import { S3RunStore } from '../../../../core/run-files/s3-run-store.ts';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  startEcrEmulator,
  type BuiltImage,
  type EcrEmulator,
  type EcrEmulatorOptions,
} from '../../../../local/ecr-emulator/index.ts';
import { startLocalS3, type LocalS3 } from '../../../../local/s3/index.ts';
import type {
  BatchInput,
  BatchState,
  Destination,
  Strategy,
  WorkItem,
} from '../../../../core/contracts/contracts.ts';
import type { Clock, EcrTarget, StepDeps } from '../../../../core/deps.ts';
import { createEcrClientProvider } from '../../../../core/ecr/ecr.ts';
import { createLogger } from '../../../../functions/lambda/powertools-logger.ts';
import { worldPerTest } from '../../support/world-per-test.ts';

export const SOURCE_ACCOUNT = '111111111111';
export const OTHER_ACCOUNT = '222222222222';
export const SOURCE_REGION = 'ap-south-1';
export const RUN_BUCKET = 'runs';
export const TEMP_TAG_PREFIX = 'ecr-backfill-';

/** Same account, another Region. */
export const DEST_SAME: Destination = { region: 'ap-northeast-2', registryId: SOURCE_ACCOUNT };
/** Another account, written through a role. */
export const DEST_OTHER: Destination = {
  region: 'us-west-2',
  registryId: OTHER_ACCOUNT,
  roleArn: `arn:aws:iam::${OTHER_ACCOUNT}:role/ecr-backfill-writer`,
};
export const DESTINATIONS: readonly Destination[] = [DEST_SAME, DEST_OTHER];

/** Thrown by a crashed client: the Lambda died; every later call (ECR or S3) fails too. */
export class SimulatedCrash extends Error {
  constructor() {
    super('simulated Lambda crash');
    this.name = 'SimulatedCrash';
  }
}

/**
 * Kills the "Lambda" after its k-th ECR call: `before` = call k+1 never leaves (the process died
 * between calls); `after` = call k took effect in ECR but its response was lost (died mid-call).
 */
export class CrashSwitch {
  calls = 0;
  dead = false;
  private armed: { k: number; mode: 'before' | 'after' } | undefined;

  arm(k: number, mode: 'before' | 'after'): void {
    this.calls = 0;
    this.dead = false;
    this.armed = { k, mode };
  }

  disarm(): void {
    this.armed = undefined;
    this.dead = false;
  }

  /** Attaches the switch to a client's middleware stack (once per client). */
  attach(client: ECRClient | S3Client, countsAsEcr: boolean): void {
    // Both clients share Smithy's middleware stack; one cast keeps a single implementation.
    (client as ECRClient).middlewareStack.add(
      (next) => async (args) => {
        if (this.dead) throw new SimulatedCrash();
        if (!countsAsEcr) return next(args);
        this.calls += 1;
        if (this.armed?.mode === 'before' && this.calls > this.armed.k) {
          this.dead = true;
          throw new SimulatedCrash();
        }
        const output = await next(args);
        if (this.armed?.mode === 'after' && this.calls >= this.armed.k) {
          this.dead = true;
          throw new SimulatedCrash();
        }
        return output;
      },
      { step: 'initialize', name: 'simulatedCrash' },
    );
  }
}

export class TestClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

export interface Harness {
  emulator: EcrEmulator;
  s3: LocalS3;
  deps: StepDeps;
  crash: CrashSwitch;
  clock: TestClock;
  /** Every target the ECR client provider was asked for (roles included). */
  targets: EcrTarget[];
  close(): Promise<void>;
}

export interface HarnessOptions extends EcrEmulatorOptions {
  /** Share one S3 emulator between harnesses (it is the slowest part to start). */
  s3?: LocalS3;
  /** Replication rules' destinations; default both test destinations, every repository. */
  replicateTo?: readonly Destination[];
  /** PREFIX_MATCH filters of the replication rule (default: every repository). */
  repositoryPrefixes?: string[];
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const emulator = await startEcrEmulator({
    account: SOURCE_ACCOUNT,
    replicationLatencyMs: 5,
    quotaScale: Infinity,
    ...options,
  });
  emulator.world.setReplicationConfiguration(SOURCE_ACCOUNT, SOURCE_REGION, {
    rules: [
      {
        destinations: (options.replicateTo ?? DESTINATIONS).map((d) => ({
          region: d.region,
          registryId: d.registryId,
        })),
        ...(options.repositoryPrefixes
          ? {
              repositoryFilters: options.repositoryPrefixes.map((filter) => ({
                filter,
                filterType: 'PREFIX_MATCH' as const,
              })),
            }
          : {}),
      },
    ],
  });
  // What a deployer creates in each other account: its registry policy lets the source replicate in
  // (https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-create-replication.html).
  for (const d of options.replicateTo ?? DESTINATIONS) {
    if (d.registryId !== SOURCE_ACCOUNT)
      emulator.allowReplication(SOURCE_ACCOUNT, { account: d.registryId, region: d.region });
  }
  const ownS3 = options.s3 === undefined;
  const s3 = options.s3 ?? (await startLocalS3({ buckets: [RUN_BUCKET] }));
  const crash = new CrashSwitch();
  const clock = new TestClock();
  const targets: EcrTarget[] = [];
  const credentials = { accessKeyId: `AKIA${SOURCE_ACCOUNT}`, secretAccessKey: 'emulator-secret-key' };
  const base = createEcrClientProvider({
    endpoint: emulator.endpoint,
    credentials,
    // The emulator has no STS: a role's credentials name the role's account, as assumed ones would.
    credentialsForRole: (roleArn) => ({
      accessKeyId: `AKIA${/::(\d{12}):/.exec(roleArn)?.[1] ?? SOURCE_ACCOUNT}`,
      secretAccessKey: 'emulator-secret-key',
    }),
  });
  const seen = new Set<ECRClient>();
  const s3Client = s3.clientFor();
  crash.attach(s3Client, false);
  const deps: StepDeps = {
    ecr: (target) => {
      targets.push(target);
      const client = base(target);
      if (!seen.has(client)) {
        seen.add(client);
        crash.attach(client, true);
      }
      return client;
    },
    runStore: new S3RunStore(s3Client),
    clock,
    logger: createLogger({ logLevel: 'SILENT' }),
    metrics: silentMetrics,
    env: {
      runBucket: RUN_BUCKET,
      sourceRegion: SOURCE_REGION,
      defaultInput: {},
      putImageRatePerSecond: Number.POSITIVE_INFINITY,
    },
  };
  return {
    emulator,
    s3,
    deps,
    crash,
    clock,
    targets,
    async close() {
      for (const client of seen) client.destroy();
      await emulator.close();
      if (ownS3) await s3.close();
    },
  };
}

/**
 * For a test file: one S3 for the file, a fresh harness per test (closed after it). Call it once at
 * the top level; the function it returns starts a test's harness.
 */
export const harnessPerTest = () =>
  worldPerTest(RUN_BUCKET, (s3, options: Omit<HarnessOptions, 's3'> = {}) =>
    startHarness({ ...options, s3 }),
  );

// ---- seeding and items --------------------------------------------------------------------------

export function seedSource(
  h: Harness,
  repository: string,
  image: BuiltImage,
  tags: string[],
  status?: 'ARCHIVED',
): void {
  h.emulator.seedImage({ region: SOURCE_REGION, repository }, image, { tags, ...(status ? { status } : {}) });
}

export function seedDestination(
  h: Harness,
  destination: Destination,
  repository: string,
  image: BuiltImage,
  tags: string[],
): void {
  h.emulator.seedImage({ region: destination.region, repository, account: destination.registryId }, image, {
    tags,
  });
}

export interface ItemDestinationSpec {
  destination: Destination;
  tags?: string[];
  digestPresent?: boolean;
}

export interface ItemSpec {
  repository: string;
  image: BuiltImage;
  tags: string[];
  /** Per destination, the tags the plan found missing or diverged (default: all tags, digest missing). */
  destinations?: ItemDestinationSpec[];
}

export function workItem(spec: ItemSpec): WorkItem {
  return {
    repositoryName: spec.repository,
    imageDigest: spec.image.digest,
    imageManifestMediaType: spec.image.mediaType,
    ...(spec.image.artifactMediaType ? { artifactMediaType: spec.image.artifactMediaType } : {}),
    tags: spec.tags,
    destinations: (
      spec.destinations ?? DESTINATIONS.map((destination): ItemDestinationSpec => ({ destination }))
    ).map((d) => ({
      ...d.destination,
      tags: d.tags ?? spec.tags,
      digestPresent: d.digestPresent ?? false,
    })),
  };
}

let runCounter = 0;

export function batchInput(overrides: Partial<BatchInput> & { strategy: Strategy }): BatchInput {
  runCounter += 1;
  const runId = overrides.runId ?? `run-${process.pid}-${runCounter}`;
  return {
    runId,
    bucket: RUN_BUCKET,
    runPrefix: `runs/${runId}/`,
    sourceRegion: SOURCE_REGION,
    sourceRegistryId: SOURCE_ACCOUNT,
    tempTagPrefix: TEMP_TAG_PREFIX,
    overwriteConflicts: false,
    includeUntagged: true,
    replicationTimeoutMinutes: 30,
    replicationWaitSeconds: 0,
    ...overrides,
  };
}

export const batchState = (input: BatchInput, items: WorkItem[]): BatchState => ({
  BatchInput: input,
  Items: items,
});

// ---- reading the world -----------------------------------------------------------------------------

export interface RegistryLocation {
  region: string;
  registryId: string;
}
export const SOURCE: RegistryLocation = { region: SOURCE_REGION, registryId: SOURCE_ACCOUNT };

/** tag → digest of a repository (empty when it does not exist). */
export function tagsOf(h: Harness, where: RegistryLocation, repository: string): Map<string, string> {
  return new Map(h.emulator.world.getRepository(where.registryId, where.region, repository)?.tags ?? []);
}

export function imageExists(
  h: Harness,
  where: RegistryLocation,
  repository: string,
  digest: string,
): boolean {
  return h.emulator.world.getImage(where.registryId, where.region, repository, digest) !== undefined;
}

/** Successful-or-not PutImage calls the emulator received (optionally in one Region). */
export const putImageCalls = (h: Harness, region?: string): number =>
  h.emulator.callLog.count({ operation: 'PutImage', ...(region ? { region } : {}) });
