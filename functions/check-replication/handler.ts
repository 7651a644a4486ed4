import type { BatchState } from '../shared/contracts.ts';
import type { StepDeps, StepHandler } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/handler-deps.ts';
import { batchStepHandler } from '../shared/step-handler.ts';
import { checkReplication } from './check-replication.ts';

export function createCheckReplicationHandler(deps: StepDeps): StepHandler<unknown, BatchState> {
  return batchStepHandler('CheckReplication', deps, (ctx, state) => checkReplication(ctx, state));
}

export const handler = lambdaHandler(createCheckReplicationHandler);
