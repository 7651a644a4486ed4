import type { BatchState } from '../contracts/contracts.ts';
import type { StepDeps, StepHandler } from '../lambda/deps.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { batchStepHandler } from '../lambda/step-handler.ts';
import { pushTempTags } from './push-temp-tags.ts';

export function createPushTempTagsHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('PushTempTags', deps, pushTempTags);
}

export const handler = lambdaHandler(createPushTempTagsHandler);
