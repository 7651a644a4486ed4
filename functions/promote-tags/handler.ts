import type { BatchState } from '../contracts/contracts.ts';
import type { StepDeps, StepHandler } from '../lambda/deps.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { batchStepHandler } from '../lambda/step-handler.ts';
import { promoteTags } from './promote-tags.ts';

export function createPromoteTagsHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('PromoteTags', deps, promoteTags);
}

export const handler = lambdaHandler(createPromoteTagsHandler);
