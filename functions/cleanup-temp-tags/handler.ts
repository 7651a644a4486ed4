import type { BatchState } from '../shared/contracts.ts';
import type { StepDeps, StepHandler } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/handler-deps.ts';
import { batchStepHandler } from '../shared/step-handler.ts';
import { cleanupTempTags } from './cleanup-temp-tags.ts';

export function createCleanupTempTagsHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('CleanupTempTags', deps, cleanupTempTags);
}

export const handler = lambdaHandler(createCleanupTempTagsHandler);
