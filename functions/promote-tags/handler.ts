import type { BatchState } from '../shared/contracts.ts';
import type { StepDeps, StepHandler } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/handler-deps.ts';
import { batchStepHandler } from '../shared/step-handler.ts';
import { promoteTags } from './promote-tags.ts';

export function createPromoteTagsHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('PromoteTags', deps, promoteTags);
}

export const handler = lambdaHandler(createPromoteTagsHandler);
