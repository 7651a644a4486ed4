import { PlanSliceEventSchema, type PlanSliceResult } from '../../core/contracts/contracts.ts';
import type { StepDeps } from '../../core/deps.ts';
import type { StepHandler } from '../lambda/step-handler.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { parseStepEvent } from '../step-kit/step-event.ts';
import { planSlice } from './plan-slice.ts';

export function createPlanSliceHandler(deps: StepDeps): StepHandler<unknown, PlanSliceResult> {
  return async (event) => planSlice(parseStepEvent(PlanSliceEventSchema, event, 'PlanSlice'), deps);
}

export const handler = lambdaHandler(createPlanSliceHandler);
