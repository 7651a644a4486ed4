import type { BatchState } from '../shared/contracts.ts';
import type { StepDeps, StepHandler } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/handler-deps.ts';
import { batchStepHandler } from '../shared/step-handler.ts';
import { retagSourceTags } from './retag-source-tags.ts';

export function createRetagSourceTagsHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('RetagSourceTags', deps, (ctx, state) => retagSourceTags(ctx, state));
}

export const handler = lambdaHandler(createRetagSourceTagsHandler);
