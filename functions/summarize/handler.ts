import { SummarizeEventSchema, type RunReportSummary } from '../shared/contracts.ts';
import type { StepDeps, StepHandler } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/handler-deps.ts';
import { parseStepEvent } from '../plan/step-event.ts';
import { summarize } from './summarize.ts';

export function createSummarizeHandler(deps: StepDeps): StepHandler<unknown, RunReportSummary> {
  return async (event) => summarize(parseStepEvent(SummarizeEventSchema, event, 'Summarize'), deps);
}

export const handler = lambdaHandler(createSummarizeHandler);
