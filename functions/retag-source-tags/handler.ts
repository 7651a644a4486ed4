import type { BatchState } from '../contracts/contracts.ts';
import type { StepDeps, StepHandler } from '../lambda/deps.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { batchStepHandler } from '../lambda/step-handler.ts';
import { retagSourceTags } from './retag-source-tags.ts';

export function createRetagSourceTagsHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('RetagSourceTags', deps, (ctx, state) => retagSourceTags(ctx, state));
}

export const handler = lambdaHandler(createRetagSourceTagsHandler);
