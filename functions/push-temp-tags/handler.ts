import type { BatchState } from '../shared/contracts.ts';
import type { StepDeps, StepHandler } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/handler-deps.ts';
import { batchStepHandler } from '../shared/step-handler.ts';
import { pushTempTags } from './push-temp-tags.ts';

export function createPushTempTagsHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('PushTempTags', deps, pushTempTags);
}

export const handler = lambdaHandler(createPushTempTagsHandler);
