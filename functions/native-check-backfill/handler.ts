import { NativeBackfillStateSchema, type NativeBackfillState } from '../shared/contracts.ts';
import type { StepDeps, StepHandler } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/handler-deps.ts';
import { parseStepEvent } from '../plan/step-event.ts';
import { nativeCheckBackfill } from './native-check-backfill.ts';

export function createNativeCheckBackfillHandler(deps: StepDeps): StepHandler<unknown, NativeBackfillState> {
  return async (event) =>
    nativeCheckBackfill(parseStepEvent(NativeBackfillStateSchema, event, 'NativeCheckBackfill'), deps);
}

export const handler = lambdaHandler(createNativeCheckBackfillHandler);
