/**
 * Outcome metrics, one way for every step: a `StepMetrics` in the step's deps. Deployed functions
 * get `powertoolsMetrics()`, CloudWatch Embedded Metric Format through Powertools Metrics (one count
 * per tag outcome and step, so dashboards and alarms need no log parsing); the local runner and
 * tests get `silentMetrics` (or a recorder of their own), so nothing here asks where it runs.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format.html
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ItemResult, RunReportSummary } from '../../core/contracts/contracts.ts';
import { SERVICE_NAME } from './logger.ts';

export const METRICS_NAMESPACE = 'EcrBackfill';

type MetricUnitValue = (typeof MetricUnit)[keyof typeof MetricUnit];

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

/** EMF on stdout (CloudWatch Logs inside Lambda), one document per publish, dimension `step`. */
export function powertoolsMetrics(): StepMetrics {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  const publish = (step: string, values: Record<string, [MetricUnitValue, number]>): void => {
    const entries = Object.entries(values);
    if (entries.length === 0) return;
    metrics.addDimension('step', step);
    for (const [name, [unit, value]] of entries) metrics.addMetric(name, unit, value);
    metrics.publishStoredMetrics();
  };
  return {
    publishOutcomes(step, results) {
      const counts = Object.entries(countTagOutcomes(results));
      if (counts.length === 0) return;
      const values: Record<string, [MetricUnitValue, number]> = {};
      for (const [outcome, count] of counts) values[outcome] = [MetricUnit.Count, count];
      // retag-source: the longest time a source tag was unavailable in this step (for an alarm).
      const windows = results.flatMap((r) => Object.values(r.sourceTagUnavailableMs ?? {}));
      if (windows.length > 0) values.SourceTagUnavailableMs = [MetricUnit.Milliseconds, Math.max(...windows)];
      publish(step, values);
    },
    publishReport(summary) {
      const values: Record<string, [MetricUnitValue, number]> = {};
      for (const [outcome, n] of Object.entries(summary.counts)) values[outcome] = [MetricUnit.Count, n];
      values.FailedItems = [MetricUnit.Count, summary.failedItems];
      publish('Summarize', values);
    },
  };
}
