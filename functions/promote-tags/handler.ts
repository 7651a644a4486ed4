import type { BatchState } from '../../core/contracts/contracts.ts';
import type { StepDeps, StepHandler } from '../../core/deps.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { batchStepHandler } from '../step-kit/batch-step-handler.ts';
import { promoteTags } from './promote-tags.ts';

export function createPromoteTagsHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('PromoteTags', deps, promoteTags);
}

export const handler = lambdaHandler(createPromoteTagsHandler);
