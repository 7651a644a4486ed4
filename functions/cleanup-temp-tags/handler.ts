import type { BatchState } from '../../core/contracts/contracts.ts';
import type { StepDeps } from '../../core/deps.ts';
import type { StepHandler } from '../lambda/step-handler.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { batchStepHandler } from '../step-kit/batch-step-handler.ts';
import { cleanupTempTags } from './cleanup-temp-tags.ts';

export function createCleanupTempTagsHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('CleanupTempTags', deps, cleanupTempTags);
}

export const handler = lambdaHandler(createCleanupTempTagsHandler);
