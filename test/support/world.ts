/**
 * The emulated world every emulator-backed suite builds on: the ECR emulator (the real SDK over
 * HTTP), the local S3 (s3rver), the source registry's replication and images, StepDeps for the steps
 * on them, the synthesized templates and a run of the workflow through the local runner, and the
 * teardown. One builder; each suite's own world (planning, step harness, native steps, workflow,
 * reliability) is a thin use of it, with options where the suites differ.
 */
import {
  PutReplicationConfigurationCommand,
  type ECRClient,
  type ReplicationRule,
} from '@aws-sdk/client-ecr';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { RunPolicy } from '../../core/contracts/run-policy.ts';
import { systemClock, type Clock, type EcrClientProvider, type StepDeps } from '../../core/deps.ts';
import { createEcrClientProvider } from '../../core/ecr/ecr.ts';
import { silentMetrics } from '../../core/metrics.ts';
import { S3RunStore } from '../../core/run-files/s3-run-store.ts';
import { createLogger } from '../../functions/lambda/powertools-logger.ts';
import { synthesizeBackfillStack } from '../../local/synth/synth.ts';
import {
  allowAccountsPolicy,
  startEcrEmulator,
  type BuiltImage,
  type EcrEmulator,
  type EcrEmulatorOptions,
  type Fixture,
} from '../../local/ecr-emulator/index.ts';
import { accountOfRole, emulatorCredentials } from '../../local/runner/backfill-deps.ts';
import { ALL_STRATEGIES_ALLOWED, LOCAL_DEPLOYMENT } from '../../local/runner/defaults.ts';
import {
  DEFAULT_TIME_SCALE,
  runBackfillLocally,
  type BackfillRunResult,
  type RunBackfillOptions,
} from '../../local/runner/run-backfill.ts';
import type { CfnTemplate } from '../../local/runner/template.ts';
import { startLocalS3, type LocalS3 } from '../../local/s3/index.ts';

// ---- the accounts, Regions and bucket the suites share ---------------------------------------------

export const SOURCE_ACCOUNT = '111111111111';
export const OTHER_ACCOUNT = '222222222222';
export const SOURCE_REGION = 'ap-south-1';
export const SEOUL = 'ap-northeast-2';
export const OREGON = 'us-west-2';
export const RUN_BUCKET = 'runs';
/** The role a destination in OTHER_ACCOUNT is written through. */
export const OTHER_ROLE = `arn:aws:iam::${OTHER_ACCOUNT}:role/ecr-backfill-writer`;

// ---- a registry to seed -----------------------------------------------------------------------------

/** A registry: an account and a Region. */
export interface Location {
  account: string;
  region: string;
}

export interface GeneratedRegistryOptions {
  /** @default SOURCE_ACCOUNT in SOURCE_REGION */
  source?: Location;
  /** One replication rule, every repository, to these registries. */
  destinations: readonly Location[];
  repositories: number;
  imagesPerRepository: number;
  /** Image `i` of repository `r` is built from the seed `<seed>/<r>/<i>` (one seed, one digest). */
  seed: string;
  tags(repository: number, image: number): string[];
  /**
   * Each other account among the destinations, with the registry policy its owner creates for a
   * backfill reached without a role: the source account may do these actions there
   * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-create-replication.html).
   * @default - other accounts' registries are not in the fixture
   */
  grantOtherAccounts?: readonly string[];
}

/** A fixture: `repositories` (`team-<r>/service`) × `imagesPerRepository` single-platform Docker images. */
export function generatedRegistry(options: GeneratedRegistryOptions): Fixture {
  const source = options.source ?? { account: SOURCE_ACCOUNT, region: SOURCE_REGION };
  const grant = options.grantOtherAccounts;
  const regionsByAccount = new Map<string, string[]>();
  for (const d of grant ? options.destinations : []) {
    if (d.account !== source.account)
      regionsByAccount.set(d.account, [...(regionsByAccount.get(d.account) ?? []), d.region]);
  }
  const registryPolicy = grant ? allowAccountsPolicy([source.account], grant) : undefined;
  return {
    defaultAccount: source.account,
    accounts: [
      {
        id: source.account,
        regions: [
          {
            region: source.region,
            replicationConfiguration: {
              rules: [
                {
                  destinations: options.destinations.map((d) => ({
                    region: d.region,
                    registryId: d.account,
                  })),
                },
              ],
            },
            repositories: Array.from({ length: options.repositories }, (_, r) => ({
              name: `team-${r}/service`,
              images: Array.from({ length: options.imagesPerRepository }, (_, i) => ({
                build: {
                  format: 'docker' as const,
                  seed: `${options.seed}/${r}/${i}`,
                  layers: 1,
                  layerSize: 64,
                },
                tags: options.tags(r, i),
              })),
            })),
          },
        ],
      },
      ...[...regionsByAccount].map(([id, regions]) => ({
        id,
        regions: regions.map((region) => ({ region, ...(registryPolicy ? { registryPolicy } : {}) })),
      })),
    ],
  };
}

// ---- the world --------------------------------------------------------------------------------------

export interface RegistryRef {
  region: string;
  registryId: string;
}

/** The source registry's replication rule, set directly before the test's calls. */
export interface ReplicationSetup {
  destinations: readonly RegistryRef[];
  /** PREFIX_MATCH filters of the rule. @default - every repository */
  repositoryPrefixes?: readonly string[];
  /**
   * What each destination in another account lets the source account do there, in the registry
   * policy its owner creates
   * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-create-replication.html).
   * @default - replicate there (ecr:ReplicateImage, ecr:CreateRepository)
   */
  grant?: readonly string[];
}

/** An image seeded directly (it "existed before replication": no push, no replication). */
export interface SeedImage {
  repository: string;
  image: BuiltImage;
  tags: string[];
  status?: 'ARCHIVED';
  /** @default - the source registry */
  registry?: { region: string; account?: string };
}

export interface EcrWorldOptions extends EcrEmulatorOptions {
  /** The source registry's Region (its account is the emulator's default account). @default SOURCE_REGION */
  sourceRegion?: string;
  replication?: ReplicationSetup;
  /** Seeded after the replication rule, in order. */
  images?: readonly SeedImage[];
}

/** The ECR emulator with the source registry set up, and what closes with it. */
export interface EcrWorld {
  emulator: EcrEmulator;
  source: { account: string; region: string };
  /** Sets the source registry's replication rules through the API, then clears the call log. */
  replicate(rules: ReplicationRule[]): Promise<void>;
  /** Runs `cleanup` when the world closes, before the emulator stops (last deferred first). */
  defer(cleanup: () => unknown): void;
  close(): Promise<void>;
}

export interface World extends EcrWorld {
  s3: LocalS3;
}

export interface WorldOptions extends EcrWorldOptions {
  /**
   * A local S3 the world uses but does not close (a test file's: s3rver is the slowest part to
   * start). Without it the world starts one of its own, with `buckets`, and closes it.
   */
  s3?: LocalS3;
  /** The buckets of the world's own S3. @default [] */
  buckets?: string[];
}

/** The emulator alone (a suite that brings its S3 to each run). */
export async function startEcrWorld(options: EcrWorldOptions = {}): Promise<EcrWorld> {
  const { sourceRegion = SOURCE_REGION, replication, images = [], ...emulatorOptions } = options;
  const emulator = await startEcrEmulator(emulatorOptions);
  const source = { account: emulator.defaultAccount, region: sourceRegion };
  if (replication) {
    const prefixes = replication.repositoryPrefixes;
    emulator.world.setReplicationConfiguration(source.account, source.region, {
      rules: [
        {
          destinations: replication.destinations.map((d) => ({ region: d.region, registryId: d.registryId })),
          ...(prefixes
            ? {
                repositoryFilters: prefixes.map((filter) => ({
                  filter,
                  filterType: 'PREFIX_MATCH' as const,
                })),
              }
            : {}),
        },
      ],
    });
    for (const d of replication.destinations) {
      if (d.registryId !== source.account)
        emulator.allowReplication(
          source.account,
          { account: d.registryId, region: d.region },
          replication.grant,
        );
    }
  }
  for (const seeded of images) {
    emulator.seedImage(
      { region: source.region, ...seeded.registry, repository: seeded.repository },
      seeded.image,
      { tags: seeded.tags, ...(seeded.status ? { status: seeded.status } : {}) },
    );
  }
  const cleanups: (() => unknown)[] = [];
  let admin: ECRClient | undefined;
  return {
    emulator,
    source,
    async replicate(rules) {
      admin ??= emulator.client(source.region, { account: source.account });
      await admin.send(new PutReplicationConfigurationCommand({ replicationConfiguration: { rules } }));
      emulator.callLog.clear();
    },
    defer(cleanup) {
      cleanups.push(cleanup);
    },
    async close() {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      admin?.destroy();
      await emulator.close();
    },
  };
}

/** The emulator and a local S3 (the file's, or one of its own). */
export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const { s3: shared, buckets = [], ...ecrOptions } = options;
  const world = await startEcrWorld(ecrOptions);
  const s3 = shared ?? (await startLocalS3({ buckets }));
  if (!shared) world.defer(() => s3.close());
  return { ...world, s3 };
}

export interface ClosableWorld {
  close(): Promise<void>;
}

/**
 * For a test file: one local S3 for the file (with `bucket` in it), a fresh world per test, and
 * every world a test started closed after it, pass or fail, so no test sees another's registry.
 * Call it once at the top level; the function it returns starts a world inside a test or a
 * `beforeEach`.
 */
export function worldPerTest<W extends ClosableWorld, Options extends unknown[]>(
  bucket: string,
  start: (s3: LocalS3, ...options: Options) => Promise<W>,
): (...options: Options) => Promise<W> {
  let s3: LocalS3 | undefined;
  const started: W[] = [];
  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: [bucket] });
  });
  afterEach(async () => {
    for (const world of started.splice(0)) await world.close();
  });
  afterAll(async () => {
    await s3?.close();
  });
  return async (...options) => {
    if (!s3) throw new Error('Start a world inside a test or a beforeEach hook, not at collection');
    const world = await start(s3, ...options);
    started.push(world);
    return world;
  };
}

// ---- the steps' dependencies ------------------------------------------------------------------------

export interface StepDepsOptions {
  /** @default systemClock */
  clock?: Clock;
  /** SDK attempts per ECR call. @default - the product's (SDK_MAX_ATTEMPTS) */
  maxAttempts?: number;
  /** @default 10 (ECR's default PutImage quota) */
  putImageRatePerSecond?: number;
  /** @default RUN_BUCKET */
  runBucket?: string;
  defaultInput?: Record<string, unknown>;
  runPolicy?: RunPolicy;
  /** Wraps the ECR client provider (to watch or break the clients the steps get). */
  wrapEcr?: (provider: EcrClientProvider) => EcrClientProvider;
}

/**
 * What the steps get in Lambda, pointed at the world: ECR clients that act as the source account (a
 * role's as the role's account, as assumed credentials would: the emulator has no STS), the run
 * store on `s3`, a silent logger and metrics. The ECR clients are closed with the world.
 */
export function stepDeps(world: EcrWorld, s3: S3Client, options: StepDepsOptions = {}): StepDeps {
  const provider = createEcrClientProvider({
    endpoint: world.emulator.endpoint,
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    credentials: emulatorCredentials(world.source.account),
    credentialsForRole: (roleArn) => emulatorCredentials(accountOfRole(roleArn) ?? world.source.account),
  });
  const created = new Set<ECRClient>();
  world.defer(() => {
    for (const client of created) client.destroy();
  });
  const tracked: EcrClientProvider = (target) => {
    const client = provider(target);
    created.add(client);
    return client;
  };
  return {
    ecr: options.wrapEcr ? options.wrapEcr(tracked) : tracked,
    runStore: new S3RunStore(s3),
    clock: options.clock ?? systemClock,
    logger: createLogger({ logLevel: 'SILENT' }),
    metrics: silentMetrics,
    env: {
      runBucket: options.runBucket ?? RUN_BUCKET,
      sourceRegion: world.source.region,
      defaultInput: options.defaultInput ?? {},
      putImageRatePerSecond: options.putImageRatePerSecond ?? 10,
      ...(options.runPolicy ? { runPolicy: options.runPolicy } : {}),
      // The local deployment's: it reaches the demo's other account directly.
      directAccounts: [...LOCAL_DEPLOYMENT.directAccounts],
    },
  };
}

// ---- the workflow through the local runner ----------------------------------------------------------

let template: CfnTemplate | undefined;
/** The synthesized stack with the construct's defaults, once per test file (a synth takes about a second). */
export function backfillTemplate(): CfnTemplate {
  template ??= synthesizeBackfillStack({ backfill: LOCAL_DEPLOYMENT });
  return template;
}

let permissiveTemplate: CfnTemplate | undefined;
/** A deployment whose run policy allows every strategy and overwriting conflicts (the default allows promote only). */
export function permissiveBackfillTemplate(): CfnTemplate {
  permissiveTemplate ??= synthesizeBackfillStack({
    backfill: { ...LOCAL_DEPLOYMENT, ...ALL_STRATEGIES_ALLOWED },
  });
  return permissiveTemplate;
}

/**
 * Runs the synthesized workflow against the world's source registry through the local runner, with
 * the quota out of the way (1000 PutImage/s) and the defaults' template unless told otherwise.
 */
export function runWorkflow(
  world: EcrWorld,
  options: Partial<RunBackfillOptions> & { s3: LocalS3 },
): Promise<BackfillRunResult> {
  return runBackfillLocally({
    ecrEndpoint: world.emulator.endpoint,
    sourceRegion: world.source.region,
    account: world.source.account,
    putImageRatePerSecond: 1000,
    ...options,
    // Synthesized only when the run brings no template of its own.
    template: options.template ?? backfillTemplate(),
  });
}

/**
 * Time for the steps, as fast as the runner's waits: with the default time scale (0.001) a minute of
 * `replicationTimeoutMinutes` passes in 60 ms, as a one-minute Wait or retry interval does.
 */
export function scaledClock(timeScale = DEFAULT_TIME_SCALE): Clock {
  const origin = Date.now();
  return { now: () => origin + (Date.now() - origin) / timeScale };
}
