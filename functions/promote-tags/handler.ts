import type { BatchState } from '../../core/contracts/contracts.ts';
import type { StepDeps } from '../../core/deps.ts';
import type { StepHandler } from '../lambda/step-handler.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { batchStepHandler } from '../step-kit/batch-step-handler.ts';
import { promoteTags } from './promote-tags.ts';

export function createPromoteTagsHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('PromoteTags', deps, promoteTags);
}

export const handler = lambdaHandler(createPromoteTagsHandler);
