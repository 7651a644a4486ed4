/**
 * Summarize (docs/architecture.md §3.1 step 4): turns the BackfillImages map results into the run's report —
 * `report.json` (rows + summary) and `report.csv` (one row per repository, digest, tag, destination:
 * the work's outcomes, and what the plan left alone, already there or not covered) next to the run's other files — emits outcome metrics and returns the counts.
 *
 * `buildRunReport` is the whole logic with its inputs spelled out, so the CLI can build the same
 * report for a run whose map failed (the state machine never reached Summarize).
 */
import type { RunStore } from '../../core/run-files/run-store.ts';
import type { Logger } from '../../core/logger.ts';
import {
  FAILURE_OUTCOMES,
  isReferrerRow,
  NO_ARTIFACT_TYPE,
  ReportRowSchema,
  WorkItemSchema,
  type ReportRow,
  type TagOutcome,
  type PlannedRun,
  type RunReportSummary,
  type SummarizeEvent,
} from '../../core/contracts/contracts.ts';
import type { StepDeps } from '../../core/deps.ts';
import { runLogger } from '../../core/logger.ts';
import { isNotFound, readJsonLines } from '../../core/run-files/run-store.ts';
import { runKeys } from '../../core/run-files/run-layout.ts';
import {
  locateResultManifest,
  readManifest,
  readResultFile,
  RESULT_STATUSES,
  type ResultStatus,
} from './map-results.ts';
import { ReportWriter } from './report-writer.ts';
import {
  BATCH_FAILED,
  NOT_STARTED,
  PLANNED,
  itemResultsOfSucceeded,
  rowsOfFailedRecord,
  rowsOfItemResult,
  rowsOfWorkItem,
  type ItemRows,
} from './rows.ts';

/** Planner counts that the backfill resolves into row outcomes (so they are not added twice). */
const RESOLVED_BY_BACKFILL = new Set(['MISSING', 'DIVERGED', 'REFERRERS_MISSING']);

export interface BuildReportOptions {
  runStore: RunStore;
  logger: Logger;
  now: () => number;
  run: PlannedRun;
  backfill?: SummarizeEvent['backfill'];
  /** Without ResultWriterDetails, use the newest manifest under the run's results prefix (CLI). */
  locateManifest?: boolean;
}

export async function summarize(
  event: SummarizeEvent,
  deps: Pick<StepDeps, 'runStore' | 'logger' | 'clock' | 'metrics'>,
): Promise<RunReportSummary> {
  const { backfill, ...run } = event;
  const summary = await buildRunReport({
    runStore: deps.runStore,
    logger: runLogger(deps.logger, event.runId, 'Summarize'),
    now: () => deps.clock.now(),
    run,
    ...(backfill !== undefined && { backfill }),
  });
  deps.metrics.publishReport(summary);
  return summary;
}

export async function buildRunReport(options: BuildReportOptions): Promise<RunReportSummary> {
  const { runStore, run, logger } = options;
  const keys = runKeys(run.runPrefix);
  const manifestRef = await manifestLocation(options);
  const writer = new ReportWriter(runStore, run.bucket, keys.reportJson, keys.reportCsv, {
    runId: run.runId,
    generatedAt: new Date(options.now()).toISOString(),
  });

  const counts: Record<string, number> = {};
  const referrers: Record<string, Record<string, number>> = {};
  const seen = new Set<string>();
  const resultFiles: Partial<Record<ResultStatus, number>> = {};
  let failedItems = 0;
  // A tag's row counts under summary.counts, a referrer's under summary.referrers (by artifact type).
  const count = (row: ReportRow) => {
    if (!isReferrerRow(row)) {
      counts[row.outcome] = (counts[row.outcome] ?? 0) + 1;
      return;
    }
    const byOutcome = (referrers[row.artifactType ?? NO_ARTIFACT_TYPE] ??= {});
    byOutcome[row.outcome] = (byOutcome[row.outcome] ?? 0) + 1;
  };
  const emit = async (item: ItemRows) => {
    // A redriven child can appear in more than one file; its first (succeeded-first) record wins.
    if (seen.has(item.key)) return;
    seen.add(item.key);
    if (item.failed) failedItems += 1;
    for (const row of item.rows) {
      count(row);
      await writer.writeRow(row);
    }
  };

  try {
    if (run.config.dryRun) {
      for await (const item of readJsonLines(runStore, run.bucket, run.items.key, WorkItemSchema)) {
        await emit(rowsOfWorkItem(item, PLANNED));
      }
    } else if (manifestRef) {
      const manifest = await readManifest(runStore, manifestRef.bucket, manifestRef.key);
      const bucket = manifest.DestinationBucket ?? manifestRef.bucket;
      for (const status of RESULT_STATUSES) {
        const files = manifest.ResultFiles[status] ?? [];
        resultFiles[status] = files.length;
        for (const file of files) {
          for await (const record of readResultFile(runStore, bucket, file.Key)) {
            if (status === 'SUCCEEDED') {
              const results = itemResultsOfSucceeded(record);
              if (results.length > 0) {
                for (const result of results) await emit(rowsOfItemResult(result));
              } else for (const item of rowsOfFailedRecord(record, 'RESULT_UNREADABLE')) await emit(item);
            } else {
              const outcome = status === 'FAILED' ? BATCH_FAILED : NOT_STARTED;
              for (const item of rowsOfFailedRecord(record, outcome)) await emit(item);
            }
          }
        }
      }
    }
    if (!run.config.dryRun && run.native) {
      // The native engine's verification rows (NATIVE_BACKFILLED; MOVED/SOURCE_GONE for tags that
      // changed in the source during the run; the referrers it found or copied). Its misses were the
      // map's items (run.items = the repair items), so these rows never overlap the map's.
      const failed = new Set<string>();
      for await (const row of readJsonLines(runStore, run.bucket, run.native.verifiedKey, ReportRowSchema)) {
        count(row);
        if (FAILURE_OUTCOMES.has(row.outcome as TagOutcome))
          failed.add(`${row.repositoryName}@${row.referrerOf ?? row.imageDigest}`);
        await writer.writeRow(row);
      }
      failedItems += failed.size;
    }
    if (!run.config.dryRun && seen.size < run.items.count) {
      // Items no child reported on (the map stopped early, or never ran): a redrive would run them.
      for await (const item of readJsonLines(runStore, run.bucket, run.items.key, WorkItemSchema)) {
        await emit(rowsOfWorkItem(item, NOT_STARTED, 'no result for this item in the map results'));
      }
    }
    // What the plan left alone (already there, not covered, in conflict): counted by the plan
    // already (run.plan.counts, added below), so written without counting again.
    for await (const row of planRows(runStore, run)) await writer.writeRow(row);
  } catch (error) {
    await writer.abort();
    throw error;
  }

  for (const [outcome, n] of Object.entries(run.plan.counts)) {
    if (run.config.dryRun || !RESOLVED_BY_BACKFILL.has(outcome)) counts[outcome] = (counts[outcome] ?? 0) + n;
  }
  const summary: RunReportSummary = {
    runId: run.runId,
    status: run.config.dryRun ? 'DRY_RUN' : failedItems > 0 ? 'FAILED' : 'SUCCEEDED',
    counts,
    failedItems,
    reportJson: { bucket: run.bucket, key: keys.reportJson },
    reportCsv: { bucket: run.bucket, key: keys.reportCsv },
    ...(Object.keys(referrers).length > 0 && { referrers }),
  };
  await writer.close({
    ...summary,
    rows: writer.rows,
    items: run.items.count,
    plan: run.plan,
    // Which rules replay source deletes in their destinations (docs/architecture.md §3.2 #9).
    ...(run.deleteReplicatingRules && { deleteReplicatingRules: run.deleteReplicatingRules }),
    ...(manifestRef && { mapResults: { ...manifestRef, files: resultFiles } }),
    ...(options.backfill?.MapRunArn !== undefined && { mapRunArn: options.backfill.MapRunArn }),
    ...(run.native && { native: run.native }),
  });
  logger.info('Run report written', { status: summary.status, counts, failedItems, rows: writer.rows });
  return summary;
}

async function manifestLocation(
  options: BuildReportOptions,
): Promise<{ bucket: string; key: string } | undefined> {
  const details = options.backfill?.ResultWriterDetails;
  if (details) return { bucket: details.Bucket, key: details.Key };
  if (!options.locateManifest) return undefined;
  const key = await locateResultManifest(
    options.runStore,
    options.run.bucket,
    runKeys(options.run.runPrefix).results,
  );
  return key === undefined ? undefined : { bucket: options.run.bucket, key };
}

/**
 * The report rows every slice wrote for what it left alone (`plan/slice-<n>.rows.jsonl`), in slice
 * order. Read by index rather than listed, so Summarize needs no `s3:ListBucket` (core/steps.ts). A
 * run planned before these files existed has none: its report holds the work rows only.
 */
async function* planRows(runStore: RunStore, run: PlannedRun): AsyncGenerator<ReportRow> {
  const keys = runKeys(run.runPrefix);
  for (let slice = 0; slice < run.slices.count; slice++) {
    try {
      yield* readJsonLines(runStore, run.bucket, keys.sliceRows(slice), ReportRowSchema);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}
