import { SummarizeEventSchema, type RunReportSummary } from '../shared/contracts.ts';
import type { StepDeps, StepHandler } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/handler-deps.ts';
import { parseStepEvent } from '../plan/step-event.ts';
import { powertoolsReportMetrics, summarize, type ReportMetrics } from './summarize.ts';

export function createSummarizeHandler(
  deps: StepDeps,
  metrics: ReportMetrics = powertoolsReportMetrics(),
): StepHandler<unknown, RunReportSummary> {
  return async (event) => summarize(parseStepEvent(SummarizeEventSchema, event, 'Summarize'), deps, metrics);
}

export const handler = lambdaHandler((deps) => createSummarizeHandler(deps));
