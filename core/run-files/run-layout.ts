/**
 * Where a run keeps its files in the run bucket. Every key derives from the run prefix carried in
 * the payloads (`runs/<runId>`), so the planner, the state machine (ItemReader/ResultWriter), the
 * report and the CLI agree on one layout:
 *
 *   runs/<runId>/execution.json               Plan: the execution that owns the folder (run-owner.ts)
 *   runs/<runId>/slices.jsonl                 Plan: one PlanSliceItem per line (PlanSlices map input)
 *   runs/<runId>/replication.json             Plan: the replication rules the run was planned with
 *   runs/<runId>/plan/slice-<n>.jsonl         PlanSlice: the work items of slice n
 *   runs/<runId>/plan/slice-<n>.summary.json  PlanSlice: its PlanSliceResult (FinalizePlan reads it)
 *   runs/<runId>/plan/slice-<n>.rows.jsonl    PlanSlice: a report row per tag it leaves alone (Summarize)
 *   runs/<runId>/items.jsonl                  FinalizePlan: every work item (BackfillImages map input)
 *   runs/<runId>/plan.json                    FinalizePlan: the PlannedRun
 *   runs/<runId>/results/…                    BackfillImages ResultWriter (manifest.json, SUCCEEDED_n…)
 *   runs/<runId>/progress/<batchId>.json      every child step: the batch's progress (batch-progress.ts)
 *   runs/<runId>/report.json, report.csv      Summarize
 */
import { createHash } from 'node:crypto';

/** At most 40 characters: it is part of every temp tag (ECR tags are ≤ 128 characters). */
export const MAX_RUN_ID_LENGTH = 40;

/**
 * The run id of an execution: its name when that is already short, lowercase and tag-safe;
 * otherwise a sanitized head plus a hash of the full name (distinct names stay distinct). Derived
 * only from the name, so a redrive (same execution, same name) finds the same run.
 */
export function runIdFromExecutionName(executionName: string): string {
  const sanitized = executionName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (sanitized === executionName && sanitized.length > 0 && sanitized.length <= MAX_RUN_ID_LENGTH) {
    return sanitized;
  }
  const hash = createHash('sha256').update(executionName).digest('hex').slice(0, 8);
  const head = sanitized.slice(0, MAX_RUN_ID_LENGTH - hash.length - 1).replace(/-+$/, '');
  return head.length > 0 ? `${head}-${hash}` : `run-${hash}`;
}

export function runPrefixFor(runId: string): string {
  return `runs/${runId}`;
}

export function runKeys(runPrefix: string) {
  const base = runPrefix.replace(/\/+$/, '');
  return {
    execution: `${base}/execution.json`,
    slices: `${base}/slices.jsonl`,
    replication: `${base}/replication.json`,
    sliceItems: (sliceIndex: number) => `${base}/plan/slice-${sliceIndex}.jsonl`,
    sliceSummary: (sliceIndex: number) => `${base}/plan/slice-${sliceIndex}.summary.json`,
    /** The report rows of what a slice leaves alone (ALREADY_PRESENT, NOT_COVERED, CONFLICT...). */
    sliceRows: (sliceIndex: number) => `${base}/plan/slice-${sliceIndex}.rows.jsonl`,
    items: `${base}/items.jsonl`,
    plan: `${base}/plan.json`,
    results: `${base}/results`,
    progress: `${base}/progress/`,
    batchProgress: (batchId: string) => `${base}/progress/${batchId}.json`,
    /** A paced step's partial results when it stopped at its time budget (core/run-files/continuation.ts). */
    continuation: (step: string, batchId: string) => `${base}/continuations/${step}/${batchId}.json`,
    reportJson: `${base}/report.json`,
    reportCsv: `${base}/report.csv`,
  };
}
