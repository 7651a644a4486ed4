import type { BatchResult } from '../contracts/contracts.ts';
import type { StepDeps, StepHandler } from '../lambda/deps.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { batchStepHandler } from '../lambda/step-handler.ts';
import { finishBatch } from './finish-batch.ts';

export function createFinishBatchHandler(deps: StepDeps): StepHandler<unknown, BatchResult> {
  return batchStepHandler('FinishBatch', deps, (ctx, state) => finishBatch(ctx, state));
}

export const handler = lambdaHandler(createFinishBatchHandler);
