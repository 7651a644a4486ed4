import { PlanSliceEventSchema, type PlanSliceResult } from '../shared/contracts.ts';
import type { StepDeps, StepHandler } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/handler-deps.ts';
import { parseStepEvent } from '../plan/step-event.ts';
import { planSlice } from './plan-slice.ts';

export function createPlanSliceHandler(deps: StepDeps): StepHandler<unknown, PlanSliceResult> {
  return async (event) => planSlice(parseStepEvent(PlanSliceEventSchema, event, 'PlanSlice'), deps);
}

export const handler = lambdaHandler(createPlanSliceHandler);
