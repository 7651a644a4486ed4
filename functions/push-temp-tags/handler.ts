import type { BatchState } from '../../core/contracts/contracts.ts';
import type { StepDeps } from '../../core/deps.ts';
import type { StepHandler } from '../lambda/step-handler.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { batchStepHandler } from '../step-kit/batch-step-handler.ts';
import { pushTempTags } from './push-temp-tags.ts';

export function createPushTempTagsHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('PushTempTags', deps, pushTempTags);
}

export const handler = lambdaHandler(createPushTempTagsHandler);
