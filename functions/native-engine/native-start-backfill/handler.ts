import { NativeDestinationEventSchema, type NativeBackfillState } from '../../../core/contracts/contracts.ts';
import type { StepDeps } from '../../../core/deps.ts';
import type { StepHandler } from '../../lambda/step-handler.ts';
import { lambdaHandler } from '../../lambda/handler-deps.ts';
import { parseStepEvent } from '../../step-kit/step-event.ts';
import { nativeStartBackfill } from './native-start-backfill.ts';

export function createNativeStartBackfillHandler(deps: StepDeps): StepHandler<unknown, NativeBackfillState> {
  return async (event) =>
    nativeStartBackfill(parseStepEvent(NativeDestinationEventSchema, event, 'NativeStartBackfill'), deps);
}

export const handler = lambdaHandler(createNativeStartBackfillHandler);
