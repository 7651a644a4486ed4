/**
 * Outcome metrics in CloudWatch Embedded Metric Format (Powertools Metrics): one count per tag outcome
 * and step, so dashboards and alarms need no log parsing. Published only inside Lambda (where stdout
 * goes to CloudWatch Logs) unless forced, so tests and the local runner are not flooded with EMF lines.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ItemResult } from './contracts.ts';
import { SERVICE_NAME } from './logger.ts';

export const METRICS_NAMESPACE = 'EcrBackfill';

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

let metrics: Metrics | undefined;

const inLambda = (): boolean => process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined;

/** Emits the outcome counts of a step as EMF (inside Lambda, or when `force` is set). */
export function publishOutcomeMetrics(step: string, results: readonly ItemResult[], force = false): void {
  if (!force && !inLambda()) return;
  const counts = Object.entries(countTagOutcomes(results));
  if (counts.length === 0) return;
  metrics ??= new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  metrics.addDimension('step', step);
  for (const [outcome, count] of counts) {
    metrics.addMetric(outcome, MetricUnit.Count, count);
  }
  // retag-source: the longest time a source tag was unavailable in this step (for an alarm).
  const windows = results.flatMap((r) => Object.values(r.sourceTagUnavailableMs ?? {}));
  if (windows.length > 0)
    metrics.addMetric('SourceTagUnavailableMs', MetricUnit.Milliseconds, Math.max(...windows));
  metrics.publishStoredMetrics();
}
