import type { BatchResult } from '../../core/contracts/contracts.ts';
import type { StepDeps } from '../../core/deps.ts';
import type { StepHandler } from '../lambda/step-handler.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { batchStepHandler } from '../step-kit/batch-step-handler.ts';
import { finishBatch } from './finish-batch.ts';

export function createFinishBatchHandler(deps: StepDeps): StepHandler<unknown, BatchResult> {
  return batchStepHandler('FinishBatch', deps, (ctx, state) => finishBatch(ctx, state));
}

export const handler = lambdaHandler(createFinishBatchHandler);
