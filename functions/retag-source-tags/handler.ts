import type { BatchState } from '../../core/contracts/contracts.ts';
import type { StepDeps } from '../../core/deps.ts';
import type { StepHandler } from '../lambda/step-handler.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { batchStepHandler } from '../step-kit/batch-step-handler.ts';
import { retagSourceTags } from './retag-source-tags.ts';

export function createRetagSourceTagsHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('RetagSourceTags', deps, (ctx, state) => retagSourceTags(ctx, state));
}

export const handler = lambdaHandler(createRetagSourceTagsHandler);
