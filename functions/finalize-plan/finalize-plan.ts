/**
 * FinalizePlan: joins the slices. Reads every `slice-<n>.summary.json` (authoritative: the PlanSlices
 * map's own output is discarded), concatenates the slice item files into `items.jsonl` as a stream,
 * totals the counts, sizes the batches (batch-sizing.ts), estimates duration and cost, writes
 * `plan.json` and returns the PlannedRun.
 *
 * Idempotent: it only reads the slices and rewrites the same two keys.
 */
import {
  PlanSliceResultSchema,
  type PlannedRun,
  type PlanSliceResult,
  type PlanSummary,
  type RunContext,
} from '../../core/contracts/contracts.ts';
import type { StepDeps, StepEnvironment } from '../../core/deps.ts';
import { NothingMatchedError, TransientError } from '../../core/errors/errors.ts';
import { NearbyNames } from '../../core/contracts/patterns.ts';
import { batchSizeForRun } from '../../core/contracts/batch-sizing.ts';
import { MAX_INPUT_BYTES_PER_BATCH, minBatchBytes } from '../../core/contracts/payload-bounds.ts';
import { estimateRun } from '../../core/contracts/estimate.ts';
import { runLogger } from '../../core/logger.ts';
import { chooseEngine } from '../native-engine/native-engine-choice.ts';
import {
  getJson,
  isNotFound,
  openObject,
  putJson,
  s3Url,
  withJsonLinesWriter,
} from '../../core/run-files/run-store.ts';
import { runKeys } from '../../core/run-files/run-layout.ts';

/** `ecr`: method native/auto asks ECR whether its backfill API answers (functions/native-engine/native-engine-choice.ts). */
export type FinalizePlanDeps = Pick<StepDeps, 'runStore' | 'logger' | 'ecr'> & {
  /** The deployment's whole PutImage rate (absent: ECR's default quota). */
  env?: Pick<StepEnvironment, 'putImageQuotaPerSecond'>;
};

const NEWLINE = 0x0a;

export async function finalizePlan(run: RunContext, deps: FinalizePlanDeps): Promise<PlannedRun> {
  const logger = runLogger(deps.logger, run.runId, 'FinalizePlan');
  const keys = runKeys(run.runPrefix);
  const summaries = await readSliceSummaries(run, deps);
  const unmatched = unmatchedTagFilter(run, summaries);
  if (unmatched) throw unmatched;

  const { count } = await withJsonLinesWriter(deps.runStore, run.bucket, keys.items, async (writer) => {
    for (const summary of summaries) {
      if (summary.items === 0) continue;
      let lines = 0;
      for await (const chunk of await openObject(deps.runStore, run.bucket, summary.itemsKey)) {
        const bytes = chunk as Buffer;
        const newlines = countNewlines(bytes);
        lines += newlines;
        await writer.writeRaw(bytes, newlines);
      }
      if (lines !== summary.items) {
        // The item file and its summary disagree (a slice rewritten mid-way?): retry after it settles.
        throw new TransientError(
          `${s3Url(run.bucket, summary.itemsKey)} holds ${lines} items, its summary says ${summary.items}`,
        );
      }
    }
  });

  // The Distributed Map reads the batch size from this output ($.config.batchSize).
  const batchSize = batchSizeForRun(count, run.config.batchSize, run.config.maxConcurrency);
  if (batchSize !== run.config.batchSize) {
    logger.info('Batches made smaller so that the run has as many as run at once', {
      items: count,
      batchSize,
      requestedBatchSize: run.config.batchSize,
      maxConcurrency: run.config.maxConcurrency,
    });
  }
  const sized: RunContext = { ...run, config: { ...run.config, batchSize } };
  const counted = summarize(sized, summaries, count, deps.env?.putImageQuotaPerSecond);
  const plan: PlanSummary = {
    ...counted,
    engine: await chooseEngine({
      config: sized.config,
      counts: counted.counts,
      ecr: deps.ecr,
      ...(run.nativeBarred !== undefined && { nativeBarred: run.nativeBarred }),
    }),
  };
  // The BackfillImages map reads its MaxInputBytesPerBatch from here ($.items.maxInputBytesPerBatch):
  // the smallest any slice's items allow, so that no child's state exceeds 256 KiB.
  const maxInputBytesPerBatch = summaries.reduce(
    (bound, summary) => minBatchBytes(bound, summary.maxInputBytesPerBatch),
    MAX_INPUT_BYTES_PER_BATCH,
  );
  const planned: PlannedRun = {
    ...sized,
    items: { key: keys.items, count, maxInputBytesPerBatch },
    plan,
  };
  await putJson(deps.runStore, run.bucket, keys.plan, planned);
  logger.info('Plan finalized', {
    items: count,
    counts: plan.counts,
    putImageCalls: plan.putImageCalls,
    engine: plan.engine,
  });
  return planned;
}

/**
 * A `tags` filter no source image of the selected repositories carries a tag of: a typo is the usual
 * cause, and "nothing to backfill" would read as success. Thrown before `items.jsonl` is written.
 */
function unmatchedTagFilter(
  run: RunContext,
  summaries: readonly PlanSliceResult[],
): NothingMatchedError | undefined {
  const patterns = run.config.tags;
  // With includeUntagged the run still has its untagged images to do: not "nothing matched".
  if (patterns.length === 0 || summaries.length === 0 || run.config.includeUntagged) return undefined;
  if (summaries.some((s) => s.tagFilter === undefined || s.tagFilter.matches > 0)) return undefined;
  const nearest = new NearbyNames(patterns);
  for (const summary of summaries) for (const tag of summary.tagFilter?.nearby ?? []) nearest.offer(tag);
  const nearby = nearest.names();
  const excluded =
    run.config.excludeTags.length > 0 ? ` (after excludeTags ${run.config.excludeTags.join(', ')})` : '';
  return new NothingMatchedError(
    'tags',
    patterns,
    nearby,
    `tags: ${patterns.map((p) => JSON.stringify(p)).join(', ')}${excluded} matched no tag of the selected repositories' images. ` +
      `${nearby.length > 0 ? `Nearby: ${nearby.join(', ')}.` : 'Their images have no tags.'} ` +
      'Nothing was backfilled: fix the filter (a tag pattern is an exact tag unless it has * or ?) and start a new execution.',
  );
}

async function readSliceSummaries(run: RunContext, deps: FinalizePlanDeps): Promise<PlanSliceResult[]> {
  const keys = runKeys(run.runPrefix);
  const summaries: PlanSliceResult[] = [];
  for (let index = 0; index < run.slices.count; index++) {
    const key = keys.sliceSummary(index);
    try {
      summaries.push(await getJson(deps.runStore, run.bucket, key, PlanSliceResultSchema));
    } catch (error) {
      if (isNotFound(error)) {
        throw new TransientError(
          `Slice ${index} of ${run.slices.count} has no summary yet (${s3Url(run.bucket, key)}): its PlanSlice did not complete`,
        );
      }
      throw error;
    }
  }
  return summaries;
}

function countNewlines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(NEWLINE); i !== -1; i = bytes.indexOf(NEWLINE, i + 1)) n += 1;
  return n;
}

function summarize(
  run: RunContext,
  summaries: readonly PlanSliceResult[],
  items: number,
  putImagePerSecond: number | undefined,
): Omit<PlanSummary, 'engine'> {
  const counts: Record<string, number> = {};
  const putImageCalls: Record<string, number> = {};
  for (const summary of summaries) {
    for (const [outcome, n] of Object.entries(summary.counts)) counts[outcome] = (counts[outcome] ?? 0) + n;
    for (const [region, n] of Object.entries(summary.putImageCalls))
      putImageCalls[region] = (putImageCalls[region] ?? 0) + n;
  }
  if (run.notCoveredRepositories > 0) counts.NOT_COVERED_REPOSITORIES = run.notCoveredRepositories;

  const config = run.config;
  const estimate = estimateRun({
    items,
    batchSize: config.batchSize,
    slices: run.slices.count,
    // Upper bound (full slices): only the planning share of the cost depends on it.
    repositories: run.slices.count * config.planSliceSize,
    destinations: config.destinations.length,
    strategy: config.strategy,
    putImageCalls,
    replicationWaitSeconds: config.replicationWaitSeconds,
    // The deployed whole rate: a raised quota (putImageRatePerSecond) shortens the bound and the ETA.
    ...(putImagePerSecond !== undefined ? { putImagePerSecond } : {}),
  });
  return {
    items,
    // Work units: every (tag, destination) that is missing or diverged, plus untagged digests.
    tags: (counts.MISSING ?? 0) + (counts.DIVERGED ?? 0),
    counts,
    putImageCalls,
    quotaBoundSeconds: estimate.quotaBoundSeconds,
    estimatedCostUsd: estimate.estimatedCostUsd,
  };
}
