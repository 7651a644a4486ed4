/**
 * Planner scale: plan a large registry (100,000 images in 1,000 repositories in the documented run)
 * with the real planning steps through the local runner (`dryRun: true`: Plan → PlanSlices →
 * FinalizePlan on the synthesized state machine), and measure wall time, ECR read calls against the
 * fewest pages possible, and memory.
 *
 * The emulator runs in a child process, so this process's heap holds only the runner and the
 * planning Lambdas: the retained-heap figure is the planner's own. A planner that kept the whole
 * registry in memory would show a retained heap growing with it; ours holds one repository's images
 * per slice being planned.
 */
import type { LocalS3 } from '../s3/index.ts';
import { runBackfillLocally } from '../runner/run-backfill.ts';
import type { CfnTemplate } from '../runner/template.ts';
import { startEmulatorProcess } from './emulator-process.ts';
import { startMemorySampler, type MemoryReport } from './memory-sampler.ts';

export interface PlannerScaleOptions {
  images: number;
  repositories: number;
  destinations: number;
  quotaScale: number;
  /** Mean delay of every emulated ECR API call (ms). */
  apiLatencyMs: number;
  seed: number;
  template: CfnTemplate;
  s3: LocalS3;
}

export interface PlannerScaleResult {
  images: number;
  repositories: number;
  destinations: number;
  status: 'SUCCEEDED' | 'FAILED';
  error?: string;
  wallSeconds: number;
  /** Work items (digests) the plan found. */
  plannedItems?: number;
  calls: {
    total: number;
    byOperation: Record<string, number>;
    throttled: number;
    /** The fewest read calls any planner could make (see RegistrySummary.minimumCalls). */
    minimum: number;
  };
  memory: MemoryReport;
}

export async function runPlannerScale(options: PlannerScaleOptions): Promise<PlannerScaleResult> {
  const imagesPerRepository = Math.max(1, Math.round(options.images / options.repositories));
  const emulator = await startEmulatorProcess(
    { quotaScale: options.quotaScale, replicationLatencyMs: 0, apiLatencyMs: options.apiLatencyMs },
    {
      seed: options.seed,
      repositories: options.repositories,
      imagesPerRepository,
      tagsPerImage: 2,
      destinations: options.destinations,
      mix: 'single-arch',
      allCovered: true,
    },
  );
  try {
    const sampler = startMemorySampler();
    const started = performance.now();
    const run = await runBackfillLocally({
      ecrEndpoint: emulator.endpoint,
      s3: options.s3,
      template: options.template,
      sourceRegion: 'ap-south-1',
      account: '111111111111',
      // The re-push planner; method auto would add one ListReplicationBackfills probe to the calls.
      input: { dryRun: true, method: 'repush' },
      timeScale: 0.001,
    });
    const wallSeconds = (performance.now() - started) / 1000;
    const memory = sampler.stop();
    const stats = await emulator.stats();
    const output = run.output as { items?: { count?: number } } | undefined;
    return {
      images: emulator.summary.sourceImages,
      repositories: emulator.summary.repositories,
      destinations: options.destinations,
      status: run.status,
      ...(run.error !== undefined ? { error: `${run.error}: ${(run.cause ?? '').slice(0, 300)}` } : {}),
      wallSeconds,
      ...(typeof output?.items?.count === 'number' ? { plannedItems: output.items.count } : {}),
      calls: {
        total: stats.total,
        byOperation: stats.byOperation,
        throttled: stats.throttled,
        minimum: emulator.summary.minimumCalls,
      },
      memory,
    };
  } finally {
    await emulator.close();
  }
}
