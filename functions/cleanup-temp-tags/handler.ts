import type { BatchState } from '../../core/contracts/contracts.ts';
import type { StepDeps, StepHandler } from '../../core/deps.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { batchStepHandler } from '../step-kit/batch-step-handler.ts';
import { cleanupTempTags } from './cleanup-temp-tags.ts';

export function createCleanupTempTagsHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('CleanupTempTags', deps, cleanupTempTags);
}

export const handler = lambdaHandler(createCleanupTempTagsHandler);
