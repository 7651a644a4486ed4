import { NativeVerifyEventSchema, type PlannedRun } from '../../../core/contracts/contracts.ts';
import type { StepDeps } from '../../../core/deps.ts';
import type { StepHandler } from '../../lambda/step-handler.ts';
import { lambdaHandler } from '../../lambda/handler-deps.ts';
import { parseStepEvent } from '../../step-kit/step-event.ts';
import { nativeVerify } from './native-verify.ts';

export function createNativeVerifyHandler(deps: StepDeps): StepHandler<unknown, PlannedRun> {
  return async (event) => nativeVerify(parseStepEvent(NativeVerifyEventSchema, event, 'NativeVerify'), deps);
}

export const handler = lambdaHandler(createNativeVerifyHandler);
