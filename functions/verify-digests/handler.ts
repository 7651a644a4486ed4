import type { BatchState } from '../../core/contracts/contracts.ts';
import type { StepDeps } from '../../core/deps.ts';
import type { StepHandler } from '../lambda/step-handler.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { batchStepHandler } from '../step-kit/batch-step-handler.ts';
import { verifyDigests } from './verify-digests.ts';

export function createVerifyDigestsHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('VerifyDigests', deps, verifyDigests);
}

export const handler = lambdaHandler(createVerifyDigestsHandler);
