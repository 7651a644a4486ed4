/**
 * `ecr-backfill bench`: the strategies side by side on the same generated registry, under the same
 * quotas and replication latency, each on a fresh emulator; then the planner at scale. Returns every
 * figure (the CLI prints a table or JSON) and how each target fared.
 *
 * Time model. The emulator's replication latency and the API quotas are real time. The runner
 * compresses the workflow's Wait and retry intervals by `timeScale`; the bench picks it so that the
 * workflow's default replication wait (30 s) lasts one emulated replication latency, i.e. the run
 * behaves like AWS with a 30-second replication latency, sped up. (With the runner's default 0.001 a
 * 300 ms latency would look like 5 minutes to the workflow, and it would poll ten times as often.)
 */
import { ALL_STRATEGIES_ALLOWED, LOCAL_DEPLOYMENT } from '../runner/defaults.ts';
import { cpus, loadavg } from 'node:os';
import { DEFAULTS } from 'ecr-backfill/core';
import { synthesizeBackfillStack } from '../synth/synth.ts';
import { startLocalS3, type LocalS3 } from '../s3/index.ts';
import { bucketsFromTemplate, TokenResolver } from '../runner/template.ts';
import { perUnit, referrerCallFigures, type ReferrerCallFigures } from './call-stats.ts';
import { per10kTags } from './cost.ts';
import {
  emptyExpectedWork,
  expectedWork,
  putImageNeeds,
  quotaBound,
  registryKey,
  type BenchStrategy,
  type ExpectedWork,
  type QuotaBound,
} from './expected-work.ts';
import { formatViolations } from './invariants.ts';
import { formatMissingReferrer } from './referrer-parity.ts';
import { runPlannerScale, type PlannerScaleResult } from './planner-scale.ts';
import { BENCH_SOURCE_ACCOUNT, BENCH_SOURCE_REGION, type RegistryShape } from './registry-generator.ts';
import { runStrategy, type StrategyRun } from './strategy-run.ts';

/** ECR's default PutImage quota per account and Region; the emulator scales it by quotaScale. */
export const PUT_IMAGE_QUOTA = 10;
export const BENCH_STRATEGIES: readonly BenchStrategy[] = ['promote', 'retag-source', 'classic', 'native'];
/** Run unless --strategies says otherwise (native falls back to re-push on a registry with conflicts). */
export const DEFAULT_STRATEGIES: readonly BenchStrategy[] = ['promote', 'retag-source', 'classic'];

export interface BenchOptions {
  seed: number;
  repositories: number;
  imagesPerRepository: number;
  tagsPerImage: number;
  destinations: number;
  /** Share of covered images with a tag held by another digest in a destination. Default 0.03. */
  conflictShare?: number;
  /** Share of images with a signature (an untagged OCI 1.1 referrer). */
  signedShare: number;
  /** Share of images with an SBOM referrer; an SBOM is itself signed with the probability signedShare. */
  sbomShare: number;
  quotaScale: number;
  replicationLatencyMs: number;
  /** Mean delay of every emulated ECR API call (ms, ±50 % seeded jitter). */
  apiLatencyMs: number;
  strategies: readonly BenchStrategy[];
  /** Images of the planner-scale run (0: skip it). */
  plannerImages: number;
  plannerRepositories: number;
  /** Execution input added to the runner's strategies (batchSize, maxConcurrency, ...). */
  input?: Record<string, unknown>;
  /** Overrides the derived time scale. */
  timeScale?: number;
  /** Called with a line of progress (which run is starting). */
  onProgress?: (line: string) => void;
}

export const BENCH_DEFAULTS: Omit<BenchOptions, 'onProgress'> = {
  seed: 1,
  repositories: 12,
  imagesPerRepository: 10,
  tagsPerImage: 3,
  destinations: 2,
  // Signed images are becoming the norm since ECR's managed signing (November 2025); SBOMs less so.
  signedShare: 0.4,
  sbomShare: 0.2,
  quotaScale: 5,
  replicationLatencyMs: 300,
  // Assumed: a real ECR API call takes about 25 ms in its Region (docs/benchmarks.md).
  apiLatencyMs: 25,
  strategies: DEFAULT_STRATEGIES,
  plannerImages: 10_000,
  plannerRepositories: 100,
};

export interface StrategyFigures {
  strategy: BenchStrategy;
  status: 'SUCCEEDED' | 'FAILED';
  error?: string;
  wallSeconds: number;
  tagsPerSecond: number;
  /** Null for native: ECR copies by itself and AWS publishes no rate for it. */
  quotaBound: QuotaBound | null;
  /** quotaBound.seconds / wallSeconds: 1 means as fast as the quota physically allows. */
  boundRatio: number | null;
  /** Runner strategies: the engine that ran. */
  engine?: 'repush' | 'native';
  /** The strategy's temp tags left anywhere after the run (and its replication) settled. */
  tempTagsLeft: number;
  putImage: {
    /** Source PutImage calls that reached ECR, per tag to backfill. */
    sourcePerTag: number;
    /** ... per digest the destinations lacked (promote's target: exactly 1). */
    sourcePerDigest: number;
    /** Per destination registry: its PutImage calls per tag it had to receive. */
    perDestinationPerTag: Record<string, number>;
    byRegistry: Record<string, number>;
    throttled: number;
    /** When each registry's PutImage calls happened (seconds from the start). */
    windows: Record<string, { first: number; last: number }>;
  };
  apiCalls: { total: number; perTag: number; perTagByOperation: Record<string, number>; throttled: number };
  stateTransitions: number;
  stateTransitionsPerTag: number;
  lambda: {
    invocations: number;
    gbSeconds: number;
    /** The longest invocation per step (ms), to compare with the step's timeout. */
    maxMsByStep: Record<string, number>;
  };
  usdPer10kTags: number;
  usdBreakdown: { stepFunctions: number; lambdaRequests: number; lambdaCompute: number };
  sourceUnavailability: { windows: number; maxMs: number; totalMs: number };
  /**
   * promote and native (the engines that copy referrers): the referrer calls per referrer copied,
   * from the call log, and the source referrers a destination lacks after the run (empty = parity).
   */
  referrers?: ReferrerCallFigures & { missing: string[] };
  /** Runner strategies: violations of docs/architecture.md §3.2 found in the emulator's state (empty = all hold). */
  invariantViolations?: string[];
  phasesSeconds?: Record<string, number>;
  outcomes?: Record<string, number>;
  /** This process's CPU time over wall time (1 = one core busy the whole run). */
  cpuShare: number;
}

export interface TargetCheck {
  target: string;
  met: boolean;
  /** A correctness check (safety invariants, referrer parity): missing it fails the bench. */
  correctness?: boolean;
  measured: string;
}

export interface BenchResult {
  machine: { cpus: number; cpuModel: string; node: string; platform: string; loadAverage: number[] };
  options: Omit<BenchOptions, 'onProgress'> & { timeScale: number; putImageRatePerSecond: number };
  registry: ExpectedWork & {
    repositories: number;
    coveredRepositories: number;
    images: number;
    /** OCI 1.1 referrers in the source (signatures, SBOMs, signatures of SBOMs), not counted in images. */
    referrers: number;
    destinations: string[];
  };
  strategies: StrategyFigures[];
  planner?: PlannerScaleResult;
  /** The planner on a tenth of the images: the reference the memory target compares with. */
  plannerReference?: PlannerScaleResult;
  targets: TargetCheck[];
  totalSeconds: number;
}

/** Wait multiplier so that the default replication wait lasts one emulated replication latency. */
export function benchTimeScale(replicationLatencyMs: number): number {
  return Math.max(1e-6, replicationLatencyMs / 1000 / DEFAULTS.replicationWaitSeconds);
}

function figures(
  run: StrategyRun,
  work: ExpectedWork,
  bound: QuotaBound | null,
  cpuShare: number,
): StrategyFigures {
  const wallSeconds = run.wallMs / 1000;
  const registry = run.registry;
  const source = registryKey({ registryId: registry.sourceAccount, region: registry.sourceRegion });
  const sourcePuts = run.calls.putImageByRegistry[source] ?? 0;
  const perDestinationPerTag: Record<string, number> = {};
  registry.destinations.forEach((d, i) => {
    perDestinationPerTag[registryKey(d)] = perUnit(
      run.calls.putImageByRegistry[registryKey(d)] ?? 0,
      work.deliveriesPerDestination[i] ?? 0,
    );
  });
  const perTagByOperation: Record<string, number> = {};
  for (const [operation, count] of Object.entries(run.calls.byOperation).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    perTagByOperation[operation] = perUnit(count, work.tags);
  }
  const windows: Record<string, { first: number; last: number }> = {};
  for (const [key, window] of Object.entries(run.calls.putImageWindows)) {
    windows[key] = { first: window.firstMs / 1000, last: window.lastMs / 1000 };
  }
  const throttledPuts = Object.entries(run.calls.putImageAttemptsByRegistry).reduce(
    (sum, [key, attempts]) => sum + attempts - (run.calls.putImageByRegistry[key] ?? 0),
    0,
  );
  return {
    strategy: run.strategy,
    status: run.status,
    ...(run.error !== undefined ? { error: run.error } : {}),
    wallSeconds,
    tagsPerSecond: perUnit(work.tags, wallSeconds),
    quotaBound: bound,
    boundRatio: bound ? perUnit(bound.seconds, wallSeconds) : null,
    ...(run.engine ? { engine: run.engine } : {}),
    tempTagsLeft: run.tempTagsLeft,
    putImage: {
      sourcePerTag: perUnit(sourcePuts, work.tags),
      sourcePerDigest: perUnit(
        sourcePuts,
        run.strategy === 'promote' ? work.digestsToReplicate : work.digestsWithWork,
      ),
      perDestinationPerTag,
      byRegistry: run.calls.putImageByRegistry,
      throttled: throttledPuts,
      windows,
    },
    apiCalls: {
      total: run.calls.total,
      perTag: perUnit(run.calls.total, work.tags),
      perTagByOperation,
      throttled: run.calls.throttled,
    },
    stateTransitions: run.transitions,
    stateTransitionsPerTag: perUnit(run.transitions, work.tags),
    lambda: {
      invocations: run.lambda.invocations,
      gbSeconds: run.lambda.gbSeconds,
      maxMsByStep: run.lambda.maxMsByStep,
    },
    usdPer10kTags: per10kTags(run.cost, work.tags),
    usdBreakdown: {
      stepFunctions: perUnit(run.cost.stepFunctionsUsd * 10_000, work.tags),
      lambdaRequests: perUnit(run.cost.lambdaRequestsUsd * 10_000, work.tags),
      lambdaCompute: perUnit(run.cost.lambdaComputeUsd * 10_000, work.tags),
    },
    sourceUnavailability: {
      windows: run.unavailability.windows,
      maxMs: run.unavailability.maxMs,
      totalMs: run.unavailability.totalMs,
    },
    ...(run.missingReferrers
      ? {
          referrers: {
            ...referrerCallFigures(run.calls, work.referrersToCopy),
            missing: run.missingReferrers.map(formatMissingReferrer),
          },
        }
      : {}),
    ...(run.violations
      ? { invariantViolations: formatViolations(run.violations).split('\n').filter(Boolean) }
      : {}),
    ...(run.phases
      ? {
          phasesSeconds: Object.fromEntries(
            Object.entries(run.phases).map(([state, ms]) => [state, ms / 1000]),
          ),
        }
      : {}),
    ...(run.outcomes ? { outcomes: run.outcomes } : {}),
    cpuShare,
  };
}

/** How the measured figures compare with the targets of issue 6. */
export function checkTargets(
  strategies: StrategyFigures[],
  planner: PlannerScaleResult | undefined,
  smallPlanner?: PlannerScaleResult,
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const promote = strategies.find((s) => s.strategy === 'promote');
  const classic = strategies.find((s) => s.strategy === 'classic');
  if (promote) {
    checks.push({
      target: 'promote at ≥ 0.9 of the quota bound',
      met: (promote.boundRatio ?? 0) >= 0.9,
      measured: `${(promote.boundRatio ?? 0).toFixed(2)} (bound ${(promote.quotaBound?.seconds ?? 0).toFixed(1)} s, actual ${promote.wallSeconds.toFixed(1)} s)`,
    });
    checks.push({
      target: 'promote: source PutImage calls per digest = 1',
      met: Math.abs(promote.putImage.sourcePerDigest - 1) < 1e-9,
      measured: promote.putImage.sourcePerDigest.toFixed(3),
    });
    checks.push({
      target: 'promote: 0 ms source-tag unavailability',
      met: promote.sourceUnavailability.windows === 0,
      measured: `${promote.sourceUnavailability.windows} windows, max ${promote.sourceUnavailability.maxMs.toFixed(1)} ms`,
    });
  }
  if (promote && classic) {
    const speedup = perUnit(promote.tagsPerSecond, classic.tagsPerSecond);
    checks.push({
      target: 'promote ≥ 2× the classic trick’s throughput',
      met: speedup >= 2,
      measured: `${speedup.toFixed(2)}× (${promote.tagsPerSecond.toFixed(1)} vs ${classic.tagsPerSecond.toFixed(1)} tags/s)`,
    });
  }
  for (const s of strategies) {
    if (s.invariantViolations === undefined) continue;
    checks.push({
      target: `${s.strategy}: safety invariants 1–6 hold`,
      correctness: true,
      met: s.invariantViolations.length === 0 && s.status === 'SUCCEEDED',
      measured:
        s.invariantViolations.length === 0
          ? `${s.status}, no violation`
          : s.invariantViolations.slice(0, 3).join('; '),
    });
  }
  for (const s of strategies) {
    if (s.referrers === undefined) continue;
    checks.push({
      target: `${s.strategy}: every destination’s referrers match the source’s (by digest)`,
      correctness: true,
      met: s.referrers.missing.length === 0 && s.status === 'SUCCEEDED',
      measured:
        s.referrers.missing.length === 0
          ? `${s.status}, ${s.referrers.referrersToCopy} referrer copies, none missing`
          : `${s.referrers.missing.length} missing: ${s.referrers.missing.slice(0, 3).join('; ')}`,
    });
  }
  if (planner && smallPlanner) {
    const grow = (r: PlannerScaleResult) => r.memory.peakRetainedHeapBytes - r.memory.baselineHeapBytes;
    const big = grow(planner);
    const small = grow(smallPlanner);
    const factor = planner.images / Math.max(1, smallPlanner.images);
    // Bounded: ten times the registry may not cost anywhere near ten times the retained memory.
    const met = big <= Math.max(2 * small, 0) + 16 * 1024 * 1024;
    checks.push({
      target: 'planner memory bounded (does not grow with the registry)',
      met,
      measured: `retained heap +${mb(big)} MB at ${planner.images} images vs +${mb(small)} MB at ${smallPlanner.images} (${factor.toFixed(0)}× the images)`,
    });
  }
  return checks;
}

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

async function startBenchS3(): Promise<{
  s3: LocalS3;
  template: ReturnType<typeof synthesizeBackfillStack>;
}> {
  const template = synthesizeBackfillStack({
    backfill: { ...LOCAL_DEPLOYMENT, ...ALL_STRATEGIES_ALLOWED },
    localRun: true,
  });
  const resolver = new TokenResolver(template, {
    region: BENCH_SOURCE_REGION,
    account: BENCH_SOURCE_ACCOUNT,
  });
  const s3 = await startLocalS3({
    buckets: Object.values(bucketsFromTemplate(template, resolver)),
    region: BENCH_SOURCE_REGION,
  });
  return { s3, template };
}

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const started = performance.now();
  const say = options.onProgress ?? (() => undefined);
  const timeScale = options.timeScale ?? benchTimeScale(options.replicationLatencyMs);
  const putImageRatePerSecond = PUT_IMAGE_QUOTA * options.quotaScale;
  const shape: RegistryShape = {
    seed: options.seed,
    repositories: options.repositories,
    imagesPerRepository: options.imagesPerRepository,
    tagsPerImage: options.tagsPerImage,
    destinations: options.destinations,
    signedShare: options.signedShare,
    sbomShare: options.sbomShare,
    ...(options.conflictShare !== undefined ? { conflictShare: options.conflictShare } : {}),
  };
  const { s3, template } = await startBenchS3();
  const strategies: StrategyFigures[] = [];
  const common = {
    emulator: {
      quotaScale: options.quotaScale,
      replicationLatencyMs: options.replicationLatencyMs,
      apiLatencyMs: options.apiLatencyMs,
    },
    putImageRatePerSecond,
    timeScale,
    ...(options.input ? { input: options.input } : {}),
    classicPollIntervalMs: Math.max(5, options.replicationLatencyMs / 10),
  };
  let registrySummary: BenchResult['registry'] | undefined;
  let planner: PlannerScaleResult | undefined;
  let smallPlanner: PlannerScaleResult | undefined;
  try {
    if (options.strategies.some((s) => s !== 'classic')) {
      // One throwaway run first: loading the handlers and JIT-compiling the runner costs about a
      // second once per process (a cold start), which would otherwise land on the first strategy.
      say('warming up…');
      await runStrategy({
        ...common,
        strategy: 'promote',
        shape: {
          seed: options.seed + 1,
          repositories: 1,
          imagesPerRepository: 2,
          tagsPerImage: 1,
          destinations: 1,
        },
        template,
        s3,
      });
    }
    for (const strategy of options.strategies) {
      say(`running ${strategy}…`);
      const cpuBefore = process.cpuUsage();
      const run = await runStrategy({ ...common, strategy, shape, template, s3 });
      const cpu = process.cpuUsage(cpuBefore);
      const work = expectedWork(run.registry);
      registrySummary ??= {
        ...work,
        repositories: run.registry.repositories.length,
        coveredRepositories: run.registry.repositories.filter((r) => r.coveredBy.length > 0).length,
        images: run.registry.repositories.reduce((sum, r) => sum + r.images.length, 0),
        referrers: run.registry.repositories.reduce(
          (sum, r) => sum + r.images.reduce((n, i) => n + i.referrers.length, 0),
          0,
        ),
        destinations: run.registry.destinations.map(registryKey),
      };
      const bound =
        strategy === 'native'
          ? null
          : quotaBound(
              putImageNeeds(run.registry, work, strategy),
              putImageRatePerSecond,
              options.replicationLatencyMs,
            );
      strategies.push(figures(run, work, bound, (cpu.user + cpu.system) / 1000 / run.wallMs));
    }
    if (options.plannerImages > 0) {
      const plannerOptions = {
        repositories: options.plannerRepositories,
        destinations: options.destinations,
        quotaScale: options.quotaScale,
        apiLatencyMs: options.apiLatencyMs,
        seed: options.seed,
        template,
        s3,
      };
      // A tenth of the registry first: comparing the two shows whether memory grows with it.
      const smallImages = Math.max(options.plannerRepositories, Math.round(options.plannerImages / 10));
      say(`planning ${smallImages} images (memory reference)…`);
      smallPlanner = await runPlannerScale({ ...plannerOptions, images: smallImages });
      say(`planning ${options.plannerImages} images in ${options.plannerRepositories} repositories…`);
      planner = await runPlannerScale({ ...plannerOptions, images: options.plannerImages });
    }
  } finally {
    await s3.close();
  }
  const { onProgress: _ignored, ...recorded } = options;
  return {
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      loadAverage: loadavg().map((n) => Math.round(n * 100) / 100),
    },
    options: { ...recorded, timeScale, putImageRatePerSecond },
    registry: registrySummary ?? {
      ...emptyExpectedWork(0),
      repositories: 0,
      coveredRepositories: 0,
      images: 0,
      referrers: 0,
      destinations: [],
    },
    strategies,
    ...(planner ? { planner } : {}),
    ...(smallPlanner ? { plannerReference: smallPlanner } : {}),
    targets: checkTargets(strategies, planner, smallPlanner),
    totalSeconds: (performance.now() - started) / 1000,
  };
}
