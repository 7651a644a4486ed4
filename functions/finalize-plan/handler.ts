import { RunContextSchema, type PlannedRun } from '../../core/contracts/contracts.ts';
import type { StepDeps } from '../../core/deps.ts';
import type { StepHandler } from '../lambda/step-handler.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { parseStepEvent } from '../step-kit/step-event.ts';
import { finalizePlan } from './finalize-plan.ts';

export function createFinalizePlanHandler(deps: StepDeps): StepHandler<unknown, PlannedRun> {
  return async (event) => finalizePlan(parseStepEvent(RunContextSchema, event, 'FinalizePlan'), deps);
}

export const handler = lambdaHandler(createFinalizePlanHandler);
