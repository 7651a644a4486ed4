/**
 * The deployed functions' `StepMetrics` (core/metrics.ts): CloudWatch Embedded Metric Format through
 * Powertools Metrics, one count per tag outcome and step, so dashboards and alarms need no log
 * parsing.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format.html
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { countTagOutcomes, type StepMetrics } from '../../core/metrics.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../core/deployment.ts';

type MetricUnitValue = (typeof MetricUnit)[keyof typeof MetricUnit];

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
