/**
 * NativeCheckBackfill: the poll. One DescribeReplicationBackfillResults per attempt.
 *
 * - No backfill for this destination (the queue gave up): nothing to watch.
 * - Terminal (COMPLETE, FAILED — e.g. ECR's automatic failure once ≥ 100 replications were
 *   processed and ≥ 50 % failed — or STOPPED): pages every per-image result into the run bucket.
 * - Active and moving (status or counts changed within `replicationTimeoutMinutes`): throws
 *   BackfillPending; the state's Retry is the poll. PREPARING reports no progress at all, so a long
 *   preparation counts as moving only until the same window has passed.
 * - Active and idle for longer than that: returns `stalled: true`, and the workflow goes to
 *   NativeStopBackfill. Our own verification decides afterwards what arrived; the rest is re-pushed.
 *
 * The step decides, not an exhausted retrier: the poll's static bound is only a safety net.
 */
import type { NativeBackfillState } from '../../../core/contracts/contracts.ts';
import type { StepDeps } from '../../../core/deps.ts';
import { toStepError } from '../../../core/errors/errors.ts';
import { runLogger } from '../../../core/logger.ts';
import {
  describeBackfill,
  describeBackfillDestination,
  isTerminalStatus,
} from '../../../core/native/native-backfill-api.ts';
import { backfillField, collectResults, sourceClient } from '../../../core/native/native-backfill-state.ts';
import { BackfillPendingError } from '../../../core/errors/native-errors.ts';
import {
  nativeKeys,
  observeProgress,
  progressFingerprint,
  readBackfillRecord,
  writeBackfillRecord,
} from '../../../core/native/native-run-files.ts';

export type NativeCheckDeps = Pick<StepDeps, 'ecr' | 'runStore' | 'clock' | 'logger'>;

export async function nativeCheckBackfill(
  state: NativeBackfillState,
  deps: NativeCheckDeps,
): Promise<NativeBackfillState> {
  const current = state.backfill;
  if (!current) return { ...state, stalled: false };
  const logger = runLogger(deps.logger, state.runId, 'NativeCheckBackfill');
  const where = describeBackfillDestination(state.destination);
  try {
    const summary = await describeBackfill(sourceClient(deps, state), state.sourceRegistryId, current.id);
    const backfill = backfillField(summary, current.adopted);
    if (isTerminalStatus(summary.status)) {
      const results = await collectResults(deps, state, current.id);
      logger.info('backfill ended', { destination: where, backfillId: current.id, ...backfill, results });
      return { ...state, backfill, results, stalled: false };
    }

    const key = nativeKeys(state.runPrefix).backfill(state.destination);
    const record = (await readBackfillRecord(deps.runStore, state.bucket, key)) ?? {
      source: { region: state.sourceRegion, registryId: state.sourceRegistryId },
      destination: state.destination,
      backfillId: current.id,
      adopted: current.adopted,
    };
    const now = deps.clock.now();
    const idleMs = observeProgress(record, progressFingerprint(summary), now);
    // Written only when something moved: a long poll costs one S3 write per change, not per attempt.
    if (idleMs === 0) await writeBackfillRecord(deps.runStore, state.bucket, key, record);
    const limitMs = state.replicationTimeoutMinutes * 60_000;
    const p = summary.progress;
    if (idleMs >= limitMs) {
      const note = `no progress for ${state.replicationTimeoutMinutes} min (${summary.status}, ${p.completed + p.failed}/${p.total} processed)`;
      logger.warn('backfill stalled', { destination: where, backfillId: current.id, note });
      return { ...state, backfill, stalled: true, note };
    }
    throw new BackfillPendingError(
      `backfill ${current.id} for ${where} is ${summary.status}: ${p.completed} completed, ${p.failed} failed of ${p.total}`,
    );
  } catch (error) {
    throw toStepError(error, `native backfill ${current.id} for ${where}`);
  }
}
