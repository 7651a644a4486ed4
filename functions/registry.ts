/**
 * Every step of the step table (core/steps.ts), by state name, bound to its handler factory: the one
 * place a step meets its code. Typed by the table's step names, so a step missing here, or one the
 * table does not declare, fails the typecheck. The local runner binds the synthesized state machine's
 * Tasks through this map (and refuses any Task it does not list), so the same handler code runs in
 * Lambda and offline.
 */
import type { LambdaStepName } from '../core/steps.ts';
import type { StepDeps } from '../core/deps.ts';
import type { StepHandler } from './lambda/step-handler.ts';
import { createCheckReplicationHandler } from './check-replication/handler.ts';
import { createCleanupTempTagsHandler } from './cleanup-temp-tags/handler.ts';
import { createFinalizePlanHandler } from './finalize-plan/handler.ts';
import { createFinishBatchHandler } from './finish-batch/handler.ts';
import { createNativeCheckBackfillHandler } from './native-engine/native-check-backfill/handler.ts';
import { createNativeStartBackfillHandler } from './native-engine/native-start-backfill/handler.ts';
import { createNativeStopBackfillHandler } from './native-engine/native-stop-backfill/handler.ts';
import { createNativeVerifyHandler } from './native-engine/native-verify/handler.ts';
import { createPlanSliceHandler } from './plan-slice/handler.ts';
import { createPlanHandler } from './plan/handler.ts';
import { createPromoteTagsHandler } from './promote-tags/handler.ts';
import { createPushTempTagsHandler } from './push-temp-tags/handler.ts';
import { createRetagSourceTagsHandler } from './retag-source-tags/handler.ts';
import { createSummarizeHandler } from './summarize/handler.ts';
import { createVerifyDigestsHandler } from './verify-digests/handler.ts';

export function createStepHandlers(deps: StepDeps): Record<LambdaStepName, StepHandler> {
  return {
    Plan: createPlanHandler(deps),
    PlanSlice: createPlanSliceHandler(deps),
    FinalizePlan: createFinalizePlanHandler(deps),
    PushTempTags: createPushTempTagsHandler(deps),
    RetagSourceTags: createRetagSourceTagsHandler(deps),
    CheckReplication: createCheckReplicationHandler(deps),
    PromoteTags: createPromoteTagsHandler(deps),
    VerifyDigests: createVerifyDigestsHandler(deps),
    CleanupTempTags: createCleanupTempTagsHandler(deps),
    FinishBatch: createFinishBatchHandler(deps),
    Summarize: createSummarizeHandler(deps),
    NativeStartBackfill: createNativeStartBackfillHandler(deps),
    NativeCheckBackfill: createNativeCheckBackfillHandler(deps),
    NativeStopBackfill: createNativeStopBackfillHandler(deps),
    NativeVerify: createNativeVerifyHandler(deps),
  };
}
