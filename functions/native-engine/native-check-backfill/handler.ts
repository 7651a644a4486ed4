import { NativeBackfillStateSchema, type NativeBackfillState } from '../../../core/contracts/contracts.ts';
import type { StepDeps } from '../../../core/deps.ts';
import type { StepHandler } from '../../lambda/step-handler.ts';
import { lambdaHandler } from '../../lambda/handler-deps.ts';
import { parseStepEvent } from '../../step-kit/step-event.ts';
import { nativeCheckBackfill } from './native-check-backfill.ts';

export function createNativeCheckBackfillHandler(deps: StepDeps): StepHandler<unknown, NativeBackfillState> {
  return async (event) =>
    nativeCheckBackfill(parseStepEvent(NativeBackfillStateSchema, event, 'NativeCheckBackfill'), deps);
}

export const handler = lambdaHandler(createNativeCheckBackfillHandler);
