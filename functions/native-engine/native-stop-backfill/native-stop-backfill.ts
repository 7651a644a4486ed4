/**
 * NativeStopBackfill: stops what this run started and no longer watches.
 *
 * Two callers:
 * - The workflow, after NativeCheckBackfill found the backfill stalled (no progress for
 *   `replicationTimeoutMinutes`): StopReplicationBackfill, then the results if it is already
 *   terminal (a backfill with replications still in flight is STOPPING for a while; our own
 *   verification decides what arrived either way).
 * - An EventBridge rule on the state machine's "Step Functions Execution Status Change" events with
 *   status ABORTED, TIMED_OUT or FAILED (infra/native-engine.ts). Step Functions runs no state
 *   when an execution is stopped or times out, so the rule is what stops the run's backfills then:
 *   it lists the run's backfill records and stops every one the run started that is still active.
 *   https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html
 *
 * An adopted backfill (running before this run, for the same destination) is never stopped: it is
 * not ours. Stopping is idempotent: a backfill that already ended is left as it is.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_StopReplicationBackfill.html
 */
import { z } from 'zod';
import type { NativeBackfillState } from '../../../core/contracts/contracts.ts';
import type { StepDeps } from '../../../core/deps.ts';
import { awsErrorName, toStepError } from '../../../core/errors/errors.ts';
import { runLogger } from '../../../core/logger.ts';
import {
  describeBackfill,
  describeBackfillDestination,
  isActiveStatus,
  isTerminalStatus,
  stopBackfill,
} from '../../../core/native/native-backfill-api.ts';
import { backfillField, collectResults, sourceClient } from '../../../core/native/native-backfill-state.ts';
import {
  nativeKeys,
  readBackfillRecord,
  runBackfillRecords,
  writeBackfillRecord,
  type NativeBackfillRecord,
} from '../../../core/native/native-run-files.ts';
import { runIdFromExecutionName, runPrefixFor } from '../../../core/run-files/run-layout.ts';
import {
  EXECUTION_STATUS_CHANGE,
  STEP_FUNCTIONS_EVENT_SOURCE,
  UNWATCHED_EXECUTION_STATUSES,
} from '../../../core/native/execution-end-event.ts';

export type NativeStopDeps = Pick<StepDeps, 'ecr' | 'runStore' | 'clock' | 'logger'>;

/** The part of a "Step Functions Execution Status Change" event the stop needs. */
export const ExecutionStatusChangeSchema = z.object({
  'detail-type': z.literal(EXECUTION_STATUS_CHANGE),
  source: z.literal(STEP_FUNCTIONS_EVENT_SOURCE),
  detail: z.object({
    executionArn: z.string(),
    name: z.string(),
    status: z.string(),
  }),
});
export type ExecutionStatusChange = z.infer<typeof ExecutionStatusChangeSchema>;

/** Stops ECR's backfill (already-ended is fine) and records that we asked. */
async function requestStop(
  deps: NativeStopDeps,
  record: NativeBackfillRecord,
  reason: string,
): Promise<'stopped' | 'already-ended'> {
  const client = deps.ecr({ region: record.source.region, registryId: record.source.registryId });
  try {
    await stopBackfill(client, record.source.registryId, record.backfillId ?? '');
  } catch (error) {
    // "You can't stop a replication backfill that has already reached a terminal status."
    if (awsErrorName(error) === 'ReplicationBackfillInvalidStatusException') return 'already-ended';
    throw error;
  }
  record.stopRequestedAt = deps.clock.now();
  record.stopReason = reason;
  return 'stopped';
}

/** The workflow's path: the backfill of one destination stalled. */
export async function stopStalledBackfill(
  state: NativeBackfillState,
  deps: NativeStopDeps,
): Promise<NativeBackfillState> {
  const current = state.backfill;
  if (!current) return { ...state, stalled: false };
  const logger = runLogger(deps.logger, state.runId, 'NativeStopBackfill');
  const where = describeBackfillDestination(state.destination);
  const reason = state.note ?? 'stalled';
  if (current.adopted) {
    logger.warn('adopted backfill stalled; left running', { destination: where, backfillId: current.id });
    return {
      ...state,
      note: `${reason}; adopted backfill left running (this run did not start it)`,
    };
  }
  try {
    const key = nativeKeys(state.runPrefix).backfill(state.destination);
    const record = (await readBackfillRecord(deps.runStore, state.bucket, key)) ?? {
      source: { region: state.sourceRegion, registryId: state.sourceRegistryId },
      destination: state.destination,
      backfillId: current.id,
      adopted: false,
    };
    let outcome: 'stopped' | 'already-ended' = 'already-ended';
    if (isActiveStatus(current.status) && current.status !== 'STOPPING') {
      record.backfillId = current.id;
      outcome = await requestStop(deps, record, reason);
      await writeBackfillRecord(deps.runStore, state.bucket, key, record);
    }
    const summary = await describeBackfill(sourceClient(deps, state), state.sourceRegistryId, current.id);
    const backfill = backfillField(summary, false);
    const results = isTerminalStatus(summary.status)
      ? await collectResults(deps, state, current.id)
      : undefined;
    logger.info('stalled backfill stopped', {
      destination: where,
      backfillId: current.id,
      outcome,
      status: summary.status,
    });
    return {
      ...state,
      backfill,
      ...(results && { results }),
      note:
        outcome === 'stopped'
          ? `${reason}; StopReplicationBackfill requested (${summary.status})`
          : `${reason}; the backfill had already ended (${summary.status})`,
    };
  } catch (error) {
    throw toStepError(error, `stopping native backfill ${current.id} for ${where}`);
  }
}

export interface RunStopReport {
  runId: string;
  executionStatus: string;
  /** Backfill ids this call asked ECR to stop. */
  stopped: string[];
  /** Backfills left as they are: adopted, already ended, or already being stopped. */
  left: Array<{ backfillId: string; why: string }>;
}

/**
 * Stops every backfill the run started that is still active (for the EventBridge rule, and for any
 * operator tool that stops an execution). `runPrefix` is `runs/<runId>`.
 */
export async function stopRunBackfills(
  deps: NativeStopDeps,
  bucket: string,
  runPrefix: string,
  reason: string,
): Promise<Pick<RunStopReport, 'stopped' | 'left'>> {
  const stopped: string[] = [];
  const left: RunStopReport['left'] = [];
  for await (const { key, record } of runBackfillRecords(deps.runStore, bucket, runPrefix)) {
    if (!record.backfillId) continue;
    if (record.adopted) {
      left.push({ backfillId: record.backfillId, why: 'adopted: this run did not start it' });
      continue;
    }
    const client = deps.ecr({ region: record.source.region, registryId: record.source.registryId });
    try {
      const summary = await describeBackfill(client, record.source.registryId, record.backfillId);
      if (!isActiveStatus(summary.status) || summary.status === 'STOPPING') {
        left.push({ backfillId: record.backfillId, why: summary.status });
        continue;
      }
      const outcome = await requestStop(deps, record, reason);
      if (outcome === 'stopped') {
        await writeBackfillRecord(deps.runStore, bucket, key, record);
        stopped.push(record.backfillId);
      } else {
        left.push({ backfillId: record.backfillId, why: 'already ended' });
      }
    } catch (error) {
      throw toStepError(error, `stopping native backfill ${record.backfillId}`);
    }
  }
  return { stopped, left };
}

/** The EventBridge path: the execution ended without watching its backfills to the end. */
export async function stopOnExecutionEnd(
  event: ExecutionStatusChange,
  deps: NativeStopDeps & { runBucket: string },
): Promise<RunStopReport> {
  const { name, status, executionArn } = event.detail;
  const runId = runIdFromExecutionName(name);
  const logger = runLogger(deps.logger, runId, 'NativeStopBackfill');
  if (!(UNWATCHED_EXECUTION_STATUSES as readonly string[]).includes(status)) {
    return { runId, executionStatus: status, stopped: [], left: [] };
  }
  const result = await stopRunBackfills(
    deps,
    deps.runBucket,
    runPrefixFor(runId),
    `execution ${status}: ${executionArn}`,
  );
  logger.info('execution ended: native backfills of the run handled', { status, ...result });
  return { runId, executionStatus: status, ...result };
}
