import type { BatchState } from '../contracts/contracts.ts';
import type { StepDeps, StepHandler } from '../lambda/deps.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { batchStepHandler } from '../lambda/step-handler.ts';
import { cleanupTempTags } from './cleanup-temp-tags.ts';

export function createCleanupTempTagsHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('CleanupTempTags', deps, cleanupTempTags);
}

export const handler = lambdaHandler(createCleanupTempTagsHandler);
