/**
 * One strategy of the bench, on a fresh emulator holding the generated registry: `promote` and
 * `retag-source` through the local runner (the synthesized state machine, the real handlers), or the
 * classic single-loop trick. Measures wall time, the call log, the Lambda usage and the source
 * tags' availability, and checks the safety invariants from the emulator's own state. The emulator
 * and its observer run in a child process (emulator-process.ts), as ECR is not in the client's.
 */
import type { LocalS3 } from '../s3/index.ts';
import type { EcrEmulatorOptions, EmulatorSnapshot } from '../ecr-emulator/index.ts';
import { createStepHandlers } from 'ecr-backfill/functions';
import { DEFAULT_TEMP_TAG_PREFIX } from 'ecr-backfill/core';
import { runBackfillLocally } from '../runner/run-backfill.ts';
import type { CfnTemplate } from '../runner/template.ts';
import { callStats, type CallStats } from './call-stats.ts';
import { runClassicTrick } from './classic-trick.ts';
import { ownTempTag } from './own-temp-tags.ts';
import { startEmulatorProcess, type Observed, type Settled } from './emulator-process.ts';
import { estimateCost, meteredStepHandlers, type CostEstimate, type LambdaUsage } from './cost.ts';
import type { BenchStrategy } from './expected-work.ts';
import { checkInvariants, type InvariantViolation } from './invariants.ts';
import type { UnavailabilityReport } from './observer.ts';
import { checkReferrerParity, type MissingReferrer } from './referrer-parity.ts';
import type { GeneratedRegistry, RegistryShape } from './registry-generator.ts';

export interface StrategyRunOptions {
  strategy: BenchStrategy;
  shape: RegistryShape;
  emulator: Pick<
    EcrEmulatorOptions,
    'quotaScale' | 'replicationLatencyMs' | 'apiLatencyMs' | 'faultRate' | 'seed'
  >;
  /** PutImage calls per second the steps may make (the client-side limiter); the emulator's quota. */
  putImageRatePerSecond: number;
  /** Runner only: Wait and retry intervals multiplier. */
  timeScale: number;
  /** Runner only: extra execution input (batchSize, maxConcurrency, ...). */
  input?: Record<string, unknown>;
  /** Classic only: pause between replication polls of one image. */
  classicPollIntervalMs: number;
  template: CfnTemplate;
  s3: LocalS3;
}

export interface StrategyRun {
  strategy: BenchStrategy;
  status: 'SUCCEEDED' | 'FAILED';
  error?: string;
  wallMs: number;
  /** Runner only: milliseconds from the start to each top-level state of the execution. */
  phases?: Record<string, number>;
  calls: CallStats;
  /** Runner: Step Functions transitions; classic: none. */
  transitions: number;
  lambda: LambdaUsage;
  cost: CostEstimate;
  unavailability: UnavailabilityReport;
  /** Runner only: violations of docs/architecture.md §3.2 (1–6). */
  violations?: InvariantViolation[];
  /**
   * promote and native only: source referrers missing in a destination that holds their image
   * (empty = parity). retag-source writes no destination, so it copies no referrer by design.
   */
  missingReferrers?: MissingReferrer[];
  /** Runner only: tag outcomes of the report. */
  outcomes?: Record<string, number>;
  /** Runner only: the engine that ran (a native run falls back to re-push when native would be unsafe). */
  engine?: 'repush' | 'native';
  /** Temp tags (the strategy's own kind) left anywhere once replication settled. */
  tempTagsLeft: number;
  registry: GeneratedRegistry;
}

/** What the observer beside the emulator saw (it is always started for a strategy run). */
function observed(settled: Settled): Observed {
  if (!settled.observed) throw new Error('the emulator process ran without its source-tag observer');
  return settled.observed;
}

/** The classic trick as one Lambda function: its memory, and the 15-minute limit forcing re-invocations. */
export const CLASSIC_LAMBDA = { memoryGb: 0.5, maxSeconds: 900 } as const;

export async function runStrategy(options: StrategyRunOptions): Promise<StrategyRun> {
  const strategy = options.strategy;
  const ownTempTags = strategy === 'classic' ? 'classic' : 'run';
  const emulator = await startEmulatorProcess({ ...options.emulator }, options.shape, { ownTempTags });
  try {
    const { registry } = emulator;
    const source = { account: registry.sourceAccount, region: registry.sourceRegion };
    const isOwnTempTag = ownTempTag(ownTempTags);
    const tempTagsLeft = (snapshot: EmulatorSnapshot) =>
      snapshot.registries
        .flatMap((r) => r.repositories.flatMap((repo) => repo.images.flatMap((i) => i.tags)))
        .filter(isOwnTempTag).length;
    const before = emulator.seeded;
    const started = performance.now();
    const startedAt = Date.now();

    if (strategy === 'classic') {
      const result = await runClassicTrick({
        endpoint: emulator.endpoint,
        sourceRegion: registry.sourceRegion,
        account: registry.sourceAccount,
        pollIntervalMs: options.classicPollIntervalMs,
      });
      const wallMs = performance.now() - started;
      const settled = await emulator.settle();
      const invocations = Math.max(1, Math.ceil(wallMs / 1000 / CLASSIC_LAMBDA.maxSeconds));
      const lambda: LambdaUsage = {
        invocations,
        gbSeconds: (Math.ceil(wallMs) / 1000) * CLASSIC_LAMBDA.memoryGb,
        msByStep: { ClassicLoop: Math.ceil(wallMs) },
        maxMsByStep: { ClassicLoop: Math.ceil(wallMs) },
      };
      return {
        strategy: 'classic',
        status: result.errors.length === 0 && result.replicationTimeouts === 0 ? 'SUCCEEDED' : 'FAILED',
        ...(result.errors.length > 0
          ? {
              error: result.errors
                .slice(0, 3)
                .map((e) => e.message)
                .join('; '),
            }
          : {}),
        wallMs,
        calls: callStats(settled.calls, startedAt),
        transitions: 0,
        lambda,
        cost: estimateCost(0, lambda),
        unavailability: observed(settled).unavailability,
        tempTagsLeft: tempTagsLeft(settled.snapshot),
        registry,
      };
    }

    const metered = meteredStepHandlers(createStepHandlers);
    const phases: Record<string, number> = {};
    let rootArn: string | undefined;
    const run = await runBackfillLocally({
      ecrEndpoint: emulator.endpoint,
      s3: options.s3,
      template: options.template,
      sourceRegion: registry.sourceRegion,
      account: registry.sourceAccount,
      input:
        strategy === 'native'
          ? { method: 'native', ...options.input }
          : { method: 'repush', strategy, ...options.input },
      timeScale: options.timeScale,
      putImageRatePerSecond: options.putImageRatePerSecond,
      stepHandlers: metered.factory,
      onProgress: (_snapshot, event) => {
        if (event.type === 'execution-started' && event.root) rootArn = event.executionArn;
        if (
          event.type === 'state-entered' &&
          event.executionArn === rootArn &&
          phases[event.stateName] === undefined
        ) {
          phases[event.stateName] = Math.round(performance.now() - started);
        }
      },
    });
    const wallMs = performance.now() - started;
    phases.End = Math.round(wallMs);
    const settled = await emulator.settle();
    const after = settled.snapshot;
    const { calls } = settled;
    const succeeded = run.status === 'SUCCEEDED';
    return {
      strategy,
      status: run.status,
      ...(run.error !== undefined ? { error: `${run.error}: ${(run.cause ?? '').slice(0, 300)}` } : {}),
      wallMs,
      phases,
      calls: callStats(calls, startedAt),
      transitions: run.transitions,
      lambda: metered.usage,
      cost: estimateCost(run.transitions, metered.usage),
      unavailability: observed(settled).unavailability,
      violations: checkInvariants({
        before,
        after,
        calls,
        source,
        tempTagPrefix: DEFAULT_TEMP_TAG_PREFIX,
        // The native engine leaves source tags alone, like promote.
        strategy: strategy === 'retag-source' ? 'retag-source' : 'promote',
        succeeded,
        observed: observed(settled),
      }),
      ...(strategy !== 'retag-source'
        ? {
            missingReferrers: checkReferrerParity({
              before,
              after,
              source,
              tempTagPrefix: DEFAULT_TEMP_TAG_PREFIX,
              succeeded,
            }),
          }
        : {}),
      ...(run.report ? { outcomes: run.report.summary.counts } : {}),
      engine: calls.some((c) => c.operation === 'StartReplicationBackfill') ? 'native' : 'repush',
      tempTagsLeft: tempTagsLeft(after),
      registry,
    };
  } finally {
    await emulator.close();
  }
}
