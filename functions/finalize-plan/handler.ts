import { RunContextSchema, type PlannedRun } from '../shared/contracts.ts';
import type { StepDeps, StepHandler } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/handler-deps.ts';
import { parseStepEvent } from '../plan/step-event.ts';
import { finalizePlan } from './finalize-plan.ts';

export function createFinalizePlanHandler(deps: StepDeps): StepHandler<unknown, PlannedRun> {
  return async (event) => finalizePlan(parseStepEvent(RunContextSchema, event, 'FinalizePlan'), deps);
}

export const handler = lambdaHandler(createFinalizePlanHandler);
