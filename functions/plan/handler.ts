import { PlanEventSchema, type RunContext } from '../../core/contracts/contracts.ts';
import type { StepDeps } from '../../core/deps.ts';
import type { StepHandler } from '../lambda/step-handler.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { plan } from './plan.ts';
import { parseStepEvent } from '../step-kit/step-event.ts';

export function createPlanHandler(deps: StepDeps): StepHandler<unknown, RunContext> {
  return async (event) => plan(parseStepEvent(PlanEventSchema, event, 'Plan'), deps);
}

export const handler = lambdaHandler(createPlanHandler);
