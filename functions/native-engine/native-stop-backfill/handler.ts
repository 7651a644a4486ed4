import { NativeBackfillStateSchema, type NativeBackfillState } from '../../../core/contracts/contracts.ts';
import type { StepDeps } from '../../../core/deps.ts';
import type { StepHandler } from '../../lambda/step-handler.ts';
import { lambdaHandler } from '../../lambda/handler-deps.ts';
import { parseStepEvent } from '../../step-kit/step-event.ts';
import {
  ExecutionStatusChangeSchema,
  stopOnExecutionEnd,
  stopStalledBackfill,
  type RunStopReport,
} from './native-stop-backfill.ts';

/**
 * Invoked by the workflow (a stalled backfill: the state of one destination) and by the EventBridge
 * rule on the execution's end (a "Step Functions Execution Status Change" event).
 */
export function createNativeStopBackfillHandler(
  deps: StepDeps,
): StepHandler<unknown, NativeBackfillState | RunStopReport> {
  return async (event) => {
    const statusChange = ExecutionStatusChangeSchema.safeParse(event);
    if (statusChange.success) {
      return stopOnExecutionEnd(statusChange.data, { ...deps, runBucket: deps.env.runBucket });
    }
    return stopStalledBackfill(parseStepEvent(NativeBackfillStateSchema, event, 'NativeStopBackfill'), deps);
  };
}

export const handler = lambdaHandler(createNativeStopBackfillHandler);
