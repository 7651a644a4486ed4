import { NativeBackfillStateSchema, type NativeBackfillState } from '../../contracts/contracts.ts';
import type { StepDeps, StepHandler } from '../../lambda/deps.ts';
import { lambdaHandler } from '../../lambda/handler-deps.ts';
import { parseStepEvent } from '../../lambda/step-event.ts';
import { nativeCheckBackfill } from './native-check-backfill.ts';

export function createNativeCheckBackfillHandler(deps: StepDeps): StepHandler<unknown, NativeBackfillState> {
  return async (event) =>
    nativeCheckBackfill(parseStepEvent(NativeBackfillStateSchema, event, 'NativeCheckBackfill'), deps);
}

export const handler = lambdaHandler(createNativeCheckBackfillHandler);
