/**
 * What `watch` (and `start --watch`, `redrive --watch`) print when the execution has ended: the
 * status and duration, the run's counts (its output), and for a failure what happened and what to
 * do next.
 */
import type { DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import {
  PlannedRunSchema,
  RunReportSummarySchema,
  type PlannedRun,
  type PlanSummary,
  type RunReportSummary,
} from '../../core/contracts/contracts.ts';
import { executionConsoleUrl } from '../aws/arn.ts';
import { describeFailure, failureAdvice } from './failure.ts';
import { referrerTable } from '../report/report-format.ts';
import { formatDuration, formatUsd, renderTable } from '../kit/format.ts';
import type { WatchResult } from './watch-execution.ts';

function parseJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The execution's output as a run report summary, a dry-run plan, or neither. */
export function parseExecutionOutput(output: string | undefined): {
  report?: RunReportSummary;
  /** A dry run ends with the PlannedRun as its output. */
  planned?: PlannedRun;
  plan?: PlanSummary;
  runId?: string;
} {
  const value = parseJson(output);
  const report = RunReportSummarySchema.safeParse(value);
  if (report.success) return { report: report.data, runId: report.data.runId };
  const planned = PlannedRunSchema.safeParse(value);
  if (planned.success) return { planned: planned.data, plan: planned.data.plan, runId: planned.data.runId };
  return {};
}

export function renderCounts(counts: Record<string, number>): string {
  const rows = Object.entries(counts)
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([outcome, count]) => [outcome, count]);
  return rows.length > 0 ? renderTable(['Outcome', 'Count'], rows) : '(no items)\n';
}

export function renderPlanSummary(plan: PlanSummary): string {
  const lines = [
    `Items (image digests to backfill): ${plan.items.toLocaleString('en-US')}; tags: ${plan.tags.toLocaleString('en-US')}`,
    `Engine: ${plan.engine.method} (${plan.engine.reason})`,
    `Duration at current quotas: at least ${formatDuration(plan.quotaBoundSeconds)}`,
    `Estimated Step Functions + Lambda cost: ${formatUsd(plan.estimatedCostUsd)}`,
  ];
  const calls = Object.entries(plan.putImageCalls).map(([region, count]) => [region, count]);
  return [
    renderCounts(plan.counts),
    calls.length > 0 ? renderTable(['Region', 'PutImage calls'], calls) : '',
    `${lines.join('\n')}\n`,
  ]
    .filter(Boolean)
    .join('\n');
}

export function renderExecutionEnd(execution: DescribeExecutionCommandOutput, result?: WatchResult): string {
  const executionArn = execution.executionArn ?? '';
  const status = execution.status ?? 'UNKNOWN';
  const seconds =
    execution.startDate && execution.stopDate
      ? (execution.stopDate.getTime() - execution.startDate.getTime()) / 1000
      : undefined;
  const parts = [`Execution ${status}${seconds !== undefined ? ` after ${formatDuration(seconds)}` : ''}.`];
  if (status === 'SUCCEEDED') {
    const { report, plan } = parseExecutionOutput(execution.output);
    if (report) {
      parts.push(renderCounts(report.counts).trimEnd());
      const referrers = referrerTable(report.referrers);
      if (referrers) parts.push('Referrers:', renderTable(referrers.headers, referrers.rows).trimEnd());
      parts.push(`Report: s3://${report.reportJson.bucket}/${report.reportJson.key} (and report.csv)`);
      parts.push(`Details: ecr-backfill report ${executionArn}`);
    } else if (plan) {
      parts.push('Dry run: nothing was written. The plan:', renderPlanSummary(plan).trimEnd());
    }
  } else {
    const failure = { error: execution.error, cause: execution.cause };
    parts.push(...describeFailure(failure));
    if (result && result.failedChildren.length > 0) {
      parts.push(
        `${result.failedChildren.filter((child) => child.name !== '(more)').length} failed batch(es) shown above.`,
      );
    }
    parts.push(...failureAdvice(failure, { executionArn }));
    const url = executionConsoleUrl(executionArn);
    parts.push(
      `Details: ${url ?? `ecr-backfill report ${executionArn}`} (the execution's history, each failed batch)`,
    );
  }
  return `${parts.join('\n')}\n`;
}
