/**
 * Runs the workflow's planning steps in-process, read-only: the same `plan` → `planSlice` (one per
 * repository slice) → `finalizePlan` code the state machine runs, against the user's registry (or
 * the emulator), with their credentials.
 *
 * Those steps write their intermediate files (slices, item files, plan.json) to the run store. For
 * the CLI that store is in memory and thrown away after, so planning touches no S3 and needs no
 * deployed stack. ECR is only read: Describe*, List* and BatchGetImage.
 */
import type { WorkItem } from '../../core/contracts/contracts.ts';
import { PlanSliceItemSchema, WorkItemSchema, type PlannedRun } from '../../core/contracts/contracts.ts';
import type { EcrClientProvider, StepEnvironment } from '../../core/deps.ts';
import { silentLogger } from '../../core/logger.ts';
import { MemoryRunStore } from '../../core/run-files/memory-run-store.ts';
import { getText, readJsonLines } from '../../core/run-files/run-store.ts';
import { ECR_DEFAULT_PUT_IMAGE_PER_SECOND } from '../../core/quotas.ts';
import { plan } from '../../functions/plan/plan.ts';
import { planSlice } from '../../functions/plan-slice/plan-slice.ts';
import { finalizePlan } from '../../functions/finalize-plan/finalize-plan.ts';
import { buildRunReport } from '../../functions/summarize/summarize.ts';

const PLAN_BUCKET = 'ecr-backfill-local-plan';
/** Slices planned at once: each reads its repositories' images page by page. */
const SLICE_CONCURRENCY = 4;

/** Per destination: what the backfill would have to do there. */
export interface DestinationWork {
  region: string;
  registryId: string;
  /** Image digests to replicate there (not present yet). */
  imagesToReplicate: number;
  /** Image digests already there that only need tags. */
  imagesToTag: number;
  /** Tags to put there (missing or diverged; an untagged image counts its marker tag). */
  tagsToPut: number;
}

export interface LocalPlan {
  planned: PlannedRun;
  destinations: DestinationWork[];
  /**
   * The plan as a dry run's report (report.json and report.csv, Summarize's own writer): a PLANNED
   * row per tag to put in a destination, and a row per tag the plan leaves alone (ALREADY_PRESENT,
   * NOT_COVERED, CONFLICT). Built on demand, in memory.
   */
  report(): Promise<{ json: string; csv: string }>;
}

async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(workers);
}

async function tallyDestinations(
  planned: PlannedRun,
  items: WorkItem[] | AsyncIterable<WorkItem>,
): Promise<DestinationWork[]> {
  const byKey = new Map<string, DestinationWork>();
  for (const d of planned.config.destinations) {
    byKey.set(`${d.registryId}/${d.region}`, {
      region: d.region,
      registryId: d.registryId,
      imagesToReplicate: 0,
      imagesToTag: 0,
      tagsToPut: 0,
    });
  }
  for await (const item of items) {
    for (const d of item.destinations) {
      const entry = byKey.get(`${d.registryId}/${d.region}`);
      if (!entry) continue;
      if (d.digestPresent) entry.imagesToTag += 1;
      else entry.imagesToReplicate += 1;
      entry.tagsToPut += item.tags.length === 0 ? 1 : d.tags.length;
    }
  }
  return [...byKey.values()];
}

export async function planLocally(options: {
  input: Record<string, unknown>;
  executionName: string;
  sourceRegion: string;
  ecr: EcrClientProvider;
  putImageRatePerSecond?: number;
  /**
   * What the deployment gives its Plan step (accounts it reaches directly, the roles it may assume,
   * its run policy), for a planner that stands in for a known deployment. Absent: the construct's
   * defaults (no other account, the default run policy).
   */
  deployment?: Pick<StepEnvironment, 'directAccounts' | 'destinationRoleArns' | 'runPolicy'>;
  onProgress?: (message: string) => void;
}): Promise<LocalPlan> {
  const runStore = new MemoryRunStore();
  const deps = {
    ecr: options.ecr,
    runStore,
    logger: silentLogger,
    env: {
      runBucket: PLAN_BUCKET,
      sourceRegion: options.sourceRegion,
      defaultInput: {},
      putImageRatePerSecond: options.putImageRatePerSecond ?? ECR_DEFAULT_PUT_IMAGE_PER_SECOND,
      // The plan's quota bound is at the whole rate the user says the deployment has.
      putImageQuotaPerSecond: options.putImageRatePerSecond ?? ECR_DEFAULT_PUT_IMAGE_PER_SECOND,
      ...options.deployment,
    },
  };
  const context = await plan({ input: options.input, executionName: options.executionName }, deps);
  const slices = [];
  for await (const slice of readJsonLines(
    runStore,
    context.bucket,
    context.slices.key,
    PlanSliceItemSchema,
  )) {
    slices.push(slice);
  }
  let done = 0;
  await forEachLimited(slices, SLICE_CONCURRENCY, async (slice) => {
    await planSlice({ ...context, slice }, deps);
    done += 1;
    options.onProgress?.(`planned slice ${done}/${slices.length}`);
  });
  const planned = await finalizePlan(context, deps);
  const items =
    planned.items.count > 0 ? readJsonLines(runStore, planned.bucket, planned.items.key, WorkItemSchema) : [];
  const destinations = await tallyDestinations(planned, items);
  const report = async () => {
    const summary = await buildRunReport({
      runStore,
      logger: silentLogger,
      now: () => Date.now(),
      run: { ...planned, config: { ...planned.config, dryRun: true } },
    });
    return {
      json: await getText(runStore, summary.reportJson.bucket, summary.reportJson.key),
      csv: await getText(runStore, summary.reportCsv.bucket, summary.reportCsv.key),
    };
  };
  return { planned, destinations, report };
}
