/**
 * A small ECR world for the step tests: the shared world (test/support/world.ts: the ECR emulator,
 * real SDK over HTTP, and the local S3 for the retag journal), and StepDeps whose ECR clients can be
 * made to "crash" after the k-th call.
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { S3Client } from '@aws-sdk/client-s3';
import type { BuiltImage, EcrEmulator, EcrEmulatorOptions } from '../../../../local/ecr-emulator/index.ts';
import type { LocalS3 } from '../../../../local/s3/index.ts';
import type {
  BatchInput,
  BatchState,
  Destination,
  Strategy,
  WorkItem,
} from '../../../../core/contracts/contracts.ts';
import type { Clock, EcrTarget, StepDeps } from '../../../../core/deps.ts';
import {
  OTHER_ACCOUNT,
  OTHER_ROLE,
  RUN_BUCKET,
  SOURCE_ACCOUNT,
  SOURCE_REGION,
  startWorld,
  stepDeps,
  worldPerTest,
} from '../../../support/world.ts';

export { OTHER_ACCOUNT, RUN_BUCKET, SOURCE_ACCOUNT, SOURCE_REGION };
export const TEMP_TAG_PREFIX = 'ecr-backfill-';

/** Same account, another Region. */
export const DEST_SAME: Destination = { region: 'ap-northeast-2', registryId: SOURCE_ACCOUNT };
/** Another account, written through a role. */
export const DEST_OTHER: Destination = {
  region: 'us-west-2',
  registryId: OTHER_ACCOUNT,
  roleArn: OTHER_ROLE,
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
  const { s3: shared, replicateTo = DESTINATIONS, repositoryPrefixes, ...emulatorOptions } = options;
  const world = await startWorld({
    account: SOURCE_ACCOUNT,
    replicationLatencyMs: 5,
    quotaScale: Infinity,
    ...emulatorOptions,
    // Every other account's registry policy lets the source replicate in, as its deployer creates it.
    replication: { destinations: replicateTo, ...(repositoryPrefixes ? { repositoryPrefixes } : {}) },
    ...(shared ? { s3: shared } : { buckets: [RUN_BUCKET] }),
  });
  const crash = new CrashSwitch();
  const clock = new TestClock();
  const targets: EcrTarget[] = [];
  const seen = new Set<ECRClient>();
  const s3Client = world.s3.clientFor();
  crash.attach(s3Client, false);
  const deps = stepDeps(world, s3Client, {
    clock,
    putImageRatePerSecond: Number.POSITIVE_INFINITY,
    wrapEcr: (provider) => (target) => {
      targets.push(target);
      const client = provider(target);
      if (!seen.has(client)) {
        seen.add(client);
        crash.attach(client, true);
      }
      return client;
    },
  });
  return {
    emulator: world.emulator,
    s3: world.s3,
    deps,
    crash,
    clock,
    targets,
    close: () => world.close(),
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
    // What Plan gives a run whose pushes replicate to the other account (the harness's rules do by
    // default) without every item listing it: the role it is reached through
    // (functions/plan/reached-destinations.ts).
    reachedDestinations: [DEST_OTHER],
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
