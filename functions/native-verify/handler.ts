import { NativeVerifyEventSchema, type PlannedRun } from '../shared/contracts.ts';
import type { StepDeps, StepHandler } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/handler-deps.ts';
import { parseStepEvent } from '../plan/step-event.ts';
import { nativeVerify } from './native-verify.ts';

export function createNativeVerifyHandler(deps: StepDeps): StepHandler<unknown, PlannedRun> {
  return async (event) => nativeVerify(parseStepEvent(NativeVerifyEventSchema, event, 'NativeVerify'), deps);
}

export const handler = lambdaHandler(createNativeVerifyHandler);
