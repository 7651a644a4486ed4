import { NativeDestinationEventSchema, type NativeBackfillState } from '../../contracts/contracts.ts';
import type { StepDeps, StepHandler } from '../../lambda/deps.ts';
import { lambdaHandler } from '../../lambda/handler-deps.ts';
import { parseStepEvent } from '../../lambda/step-event.ts';
import { nativeStartBackfill } from './native-start-backfill.ts';

export function createNativeStartBackfillHandler(deps: StepDeps): StepHandler<unknown, NativeBackfillState> {
  return async (event) =>
    nativeStartBackfill(parseStepEvent(NativeDestinationEventSchema, event, 'NativeStartBackfill'), deps);
}

export const handler = lambdaHandler(createNativeStartBackfillHandler);
