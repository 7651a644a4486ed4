/**
 * Outcome metrics, one way for every step: a `StepMetrics` in the step's deps. Deployed functions get
 * CloudWatch Embedded Metric Format through Powertools (functions/lambda/powertools-metrics.ts); the
 * local runner and tests get `silentMetrics` (or a recorder of their own), so no step asks where it
 * runs.
 */
import type { ItemResult, RunReportSummary } from './contracts/contracts.ts';

export interface StepMetrics {
  /** A batch step's tag outcomes (and, for retag-source, the longest source-tag gap). */
  publishOutcomes(step: string, results: readonly ItemResult[]): void;
  /** A run's report counts (Summarize). */
  publishReport(summary: RunReportSummary): void;
}

/** Counts per tag outcome over every (item, destination, tag). */
export function countTagOutcomes(results: readonly ItemResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of results) {
    for (const destination of result.destinations) {
      for (const outcome of Object.values(destination.tags)) counts[outcome] = (counts[outcome] ?? 0) + 1;
    }
  }
  return counts;
}

/** Publishes nothing: for the local runner and tests that do not look at metrics. */
export const silentMetrics: StepMetrics = {
  publishOutcomes: () => undefined,
  publishReport: () => undefined,
};
