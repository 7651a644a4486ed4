import { NativeDestinationEventSchema, type NativeBackfillState } from '../shared/contracts.ts';
import type { StepDeps, StepHandler } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/handler-deps.ts';
import { parseStepEvent } from '../plan/step-event.ts';
import { nativeStartBackfill } from './native-start-backfill.ts';

export function createNativeStartBackfillHandler(deps: StepDeps): StepHandler<unknown, NativeBackfillState> {
  return async (event) =>
    nativeStartBackfill(parseStepEvent(NativeDestinationEventSchema, event, 'NativeStartBackfill'), deps);
}

export const handler = lambdaHandler(createNativeStartBackfillHandler);
