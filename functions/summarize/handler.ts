import { SummarizeEventSchema, type RunReportSummary } from '../contracts/contracts.ts';
import type { StepDeps, StepHandler } from '../lambda/deps.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { parseStepEvent } from '../lambda/step-event.ts';
import { summarize } from './summarize.ts';

export function createSummarizeHandler(deps: StepDeps): StepHandler<unknown, RunReportSummary> {
  return async (event) => summarize(parseStepEvent(SummarizeEventSchema, event, 'Summarize'), deps);
}

export const handler = lambdaHandler(createSummarizeHandler);
