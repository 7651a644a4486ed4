import type { BatchResult } from '../shared/contracts.ts';
import type { StepDeps, StepHandler } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/handler-deps.ts';
import { batchStepHandler } from '../shared/step-handler.ts';
import { finishBatch } from './finish-batch.ts';

export function createFinishBatchHandler(deps: StepDeps): StepHandler<unknown, BatchResult> {
  return batchStepHandler('FinishBatch', deps, (ctx, state) => finishBatch(ctx, state));
}

export const handler = lambdaHandler(createFinishBatchHandler);
