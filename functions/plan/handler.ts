import { PlanEventSchema, type RunContext } from '../shared/contracts.ts';
import type { StepDeps, StepHandler } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/handler-deps.ts';
import { plan } from './plan.ts';
import { parseStepEvent } from './step-event.ts';

export function createPlanHandler(deps: StepDeps): StepHandler<unknown, RunContext> {
  return async (event) => plan(parseStepEvent(PlanEventSchema, event, 'Plan'), deps);
}

export const handler = lambdaHandler(createPlanHandler);
