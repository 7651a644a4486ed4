import type { BatchState } from '../../core/contracts/contracts.ts';
import type { StepDeps } from '../../core/deps.ts';
import type { StepHandler } from '../lambda/step-handler.ts';
import { lambdaHandler } from '../lambda/handler-deps.ts';
import { batchStepHandler } from '../step-kit/batch-step-handler.ts';
import { checkReplication } from './check-replication.ts';

export function createCheckReplicationHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('CheckReplication', deps, (ctx, state) => checkReplication(ctx, state));
}

export const handler = lambdaHandler(createCheckReplicationHandler);
