import type { BatchState } from '../shared/contracts.ts';
import type { StepDeps, StepHandler } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/handler-deps.ts';
import { batchStepHandler } from '../shared/step-handler.ts';
import { verifyDigests } from './verify-digests.ts';

export function createVerifyDigestsHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('VerifyDigests', deps, verifyDigests);
}

export const handler = lambdaHandler(createVerifyDigestsHandler);
