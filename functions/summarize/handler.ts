import { SummarizeEventSchema, type RunReportSummary } from '../../core/contracts/contracts.ts';
import type { StepDeps } from '../../core/deps.ts';
import type { StepHandler } from '../lambda/step-handler.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { parseStepEvent } from '../step-kit/step-event.ts';
import { summarize } from './summarize.ts';

export function createSummarizeHandler(deps: StepDeps): StepHandler<unknown, RunReportSummary> {
  return async (event) => summarize(parseStepEvent(SummarizeEventSchema, event, 'Summarize'), deps);
}

export const handler = lambdaHandler(createSummarizeHandler);
