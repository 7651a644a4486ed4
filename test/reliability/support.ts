/**
 * A world for the reliability suites: the shared world (test/support/world.ts) holding a generated
 * registry (local/bench), s3rver with the template's buckets, and a run of the real workflow through
 * the local runner watched by an independent observer of the source registry, followed by the
 * invariant checks of design §3.2 on the emulator's own snapshots and call log.
 *
 * Sizes come from `SOAK`: unset (CI), small registries and few seeds; `SOAK=1`, larger ones and more
 * seeds (the same tests, longer).
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  CROSS_ACCOUNT_BACKFILL_ACTIONS,
  type CallLogEntry,
  type EcrEmulatorOptions,
  type EmulatorSnapshot,
} from '../../local/ecr-emulator/index.ts';
import {
  checkInvariants,
  type InvariantInput,
  type InvariantViolation,
} from '../../local/bench/invariants.ts';
import { SourceEventObserver } from '../../local/bench/observer.ts';
import {
  resolveShape,
  seedGeneratedRegistry,
  type GeneratedRegistry,
  type RegistryShape,
} from '../../local/bench/registry-generator.ts';
import { DEFAULT_TEMP_TAG_PREFIX } from '../../core/contracts/input-schema.ts';
import { isTempTag } from '../../core/ecr/temp-tags.ts';
import type { BackfillRunResult, RunBackfillOptions } from '../../local/runner/run-backfill.ts';
import { bucketsFromTemplate, TokenResolver } from '../../local/runner/template.ts';
import { startLocalS3, type LocalS3 } from '../../local/s3/index.ts';
import {
  OTHER_ACCOUNT,
  permissiveBackfillTemplate as backfillTemplate,
  runWorkflow,
  SOURCE_ACCOUNT,
  SOURCE_REGION,
  startEcrWorld,
  type EcrWorld,
  type SeedImage,
} from '../support/world.ts';

export { scaledClock } from '../support/world.ts';

export const SOAK = process.env.SOAK === '1' || process.env.SOAK === 'true';

/** s3rver with the (permissive) template's buckets; one per test file. */
export async function startRunS3(region: string, account: string): Promise<LocalS3> {
  const t = backfillTemplate();
  const buckets = Object.values(bucketsFromTemplate(t, new TokenResolver(t, { region, account })));
  return startLocalS3({ buckets, region });
}

/** Every object key in every bucket of the local S3. */
export async function allObjectKeys(s3: LocalS3, buckets: readonly string[]): Promise<string[]> {
  const keys: string[] = [];
  for (const bucket of buckets) {
    let token: string | undefined;
    do {
      const page = await s3.client.send(
        new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(`${bucket}/${object.Key}`);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  return keys;
}

export function runBuckets(region: string, account: string): string[] {
  const t = backfillTemplate();
  return Object.values(bucketsFromTemplate(t, new TokenResolver(t, { region, account })));
}

/** The emulator and its source registry; each run brings the file's S3 (startRunS3). */
export type ReliabilityWorld = EcrWorld;

export interface GeneratedWorld extends ReliabilityWorld {
  registry: GeneratedRegistry;
}

/** A small registry by default: 5 repositories (one outside the rules) × 3 images, 2 destinations. */
export const SMALL_SHAPE: Omit<RegistryShape, 'seed'> = {
  repositories: SOAK ? 18 : 6,
  imagesPerRepository: SOAK ? 8 : 3,
  tagsPerImage: 2,
  destinations: 2,
};

export async function startReliabilityWorld(
  shape: RegistryShape,
  options: EcrEmulatorOptions = {},
): Promise<GeneratedWorld> {
  const { sourceAccount, sourceRegion } = resolveShape(shape);
  const world = await startEcrWorld({
    account: sourceAccount,
    sourceRegion,
    replicationLatencyMs: 20,
    quotaScale: 1000,
    ...options,
  });
  return { ...world, registry: seedGeneratedRegistry(world.emulator, shape) };
}

/**
 * The source (SOURCE_ACCOUNT in ap-south-1) replicating its `shop/` repositories to Seoul, in its own
 * account, and Ireland, in another account reached without a role: Ireland's owner lets this account
 * replicate there and make the backfill's calls. `images` are seeded in the source.
 */
export function startShopWorld(
  replicationLatencyMs: number,
  images: readonly SeedImage[],
): Promise<ReliabilityWorld> {
  return startEcrWorld({
    account: SOURCE_ACCOUNT,
    sourceRegion: SOURCE_REGION,
    replicationLatencyMs,
    quotaScale: 1000,
    replication: {
      destinations: [
        { region: 'ap-northeast-2', registryId: SOURCE_ACCOUNT },
        { region: 'eu-west-1', registryId: OTHER_ACCOUNT },
      ],
      repositoryPrefixes: ['shop/'],
      grant: CROSS_ACCOUNT_BACKFILL_ACTIONS,
    },
    images,
  });
}

export interface ObservedRun {
  result: BackfillRunResult;
  before: EmulatorSnapshot;
  after: EmulatorSnapshot;
  calls: CallLogEntry[];
  observer: SourceEventObserver;
  /** Violations of docs/architecture.md §3.2 (1–6) found in the emulator's state. */
  violations: InvariantViolation[];
}

export interface ObservedRunOptions extends Partial<RunBackfillOptions> {
  s3: LocalS3;
  /** Extra options for the invariant checks (external moves, selection, ...). */
  invariants?: Partial<InvariantInput>;
  /** Called once the observer is in place and the before-snapshot taken. */
  beforeRun?: (observer: SourceEventObserver) => void;
  /** Taken before the run when not given (e.g. the state before an earlier, failed run). */
  before?: EmulatorSnapshot;
  /** Awaited after the run, before the after-snapshot (e.g. a third party's pushes still in flight). */
  settle?: () => Promise<unknown>;
}

/**
 * Runs the real workflow against the world, with an event observer on the source registry, and
 * checks the invariants from the before/after snapshots and the call log. Waits for replication
 * scheduled by the run to settle before the after-snapshot.
 */
export async function runObserved(
  world: ReliabilityWorld,
  options: ObservedRunOptions,
): Promise<ObservedRun> {
  const { s3, invariants, beforeRun, before: givenBefore, settle, ...runOptions } = options;
  const given = runOptions.input ?? {};
  // These suites are about the re-push engine: pin it, whatever the default `method` becomes.
  const runInput: unknown =
    typeof given === 'object' && given !== null && !Array.isArray(given) && !('method' in given)
      ? { method: 'repush', ...given }
      : given;
  const input = runInput as { strategy?: 'promote' | 'retag-source'; tempTagPrefix?: string };
  const tempTagPrefix = input.tempTagPrefix ?? DEFAULT_TEMP_TAG_PREFIX;
  const observer = new SourceEventObserver(world.emulator.world, {
    ...world.source,
    ignoreTag: (tag) => isTempTag(tag, tempTagPrefix),
  });
  const before = givenBefore ?? world.emulator.snapshot();
  const firstCall = world.emulator.callLog.size;
  beforeRun?.(observer);
  const result = await runWorkflow(world, {
    s3,
    template: backfillTemplate(),
    ...runOptions,
    input: runInput,
  });
  await settle?.();
  await world.emulator.whenReplicationIdle();
  observer.stop();
  const after = world.emulator.snapshot();
  const calls = world.emulator.callLog.entries().slice(firstCall);
  const violations = checkInvariants({
    before,
    after,
    calls,
    source: world.source,
    tempTagPrefix,
    strategy: input.strategy ?? 'promote',
    succeeded: result.status === 'SUCCEEDED',
    observed: { unavailability: observer.report(), changes: observer.changes },
    ...invariants,
  });
  return { result, before, after, calls, observer, violations };
}

/** Report rows by outcome. */
export function outcomesOf(result: BackfillRunResult): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of result.report?.rows ?? []) counts[row.outcome] = (counts[row.outcome] ?? 0) + 1;
  return counts;
}
