/**
 * NativeStartBackfill: gets one destination a replication backfill to watch — never two.
 *
 * 1. Already recorded for this run (a retry, a redrive): the same backfill, described again.
 * 2. An active backfill for this very destination exists: adopted (watched, never stopped by us).
 * 3. The destination Region is held by a backfill for another destination, or the registry has 10
 *    active backfills: ECR would refuse ours, so it waits its turn — BackfillQueued, whose Retry is
 *    the queue. While the backfill(s) ahead make progress it keeps waiting; once nothing ahead has
 *    moved for `replicationTimeoutMinutes`, it gives up on the native engine for this destination
 *    (no backfill: verification finds its images missing and the re-push engine takes them).
 * 4. Otherwise StartReplicationBackfill. A start that races another (ReplicationBackfillInProgress,
 *    LimitExceeded) queues like case 3.
 *
 * The record (core/native/native-run-files.ts) is written before the start and after it, so a
 * crash between the two finds the started backfill on the next attempt instead of starting another.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_StartReplicationBackfill.html
 */
import type { Logger } from '../../../core/logger.ts';
import type { NativeBackfillState, NativeDestinationEvent } from '../../../core/contracts/contracts.ts';
import type { StepDeps } from '../../../core/deps.ts';
import { awsErrorName, toStepError } from '../../../core/errors/errors.ts';
import { runLogger } from '../../../core/logger.ts';
import {
  describeBackfill,
  describeBackfillDestination,
  isActiveStatus,
  listBackfills,
  MAX_ACTIVE_BACKFILLS_PER_REGISTRY,
  sameDestination,
  startBackfill,
  type BackfillSummary,
} from '../../../core/native/native-backfill-api.ts';
import { backfillField, sourceClient } from '../../../core/native/native-backfill-state.ts';
import { BackfillQueuedError } from '../../../core/errors/native-errors.ts';
import {
  nativeKeys,
  observeProgress,
  progressFingerprint,
  readBackfillRecord,
  writeBackfillRecord,
  type NativeBackfillRecord,
} from '../../../core/native/native-run-files.ts';

export type NativeStartDeps = Pick<StepDeps, 'ecr' | 'runStore' | 'clock' | 'logger'>;

/** ECR's answers to a start it will not do now; both clear once a backfill ahead ends. */
const START_REFUSALS = new Set(['ReplicationBackfillInProgressException', 'LimitExceededException']);

export async function nativeStartBackfill(
  event: NativeDestinationEvent,
  deps: NativeStartDeps,
): Promise<NativeBackfillState> {
  const logger = runLogger(deps.logger, event.runId, 'NativeStartBackfill');
  const key = nativeKeys(event.runPrefix).backfill(event.destination);
  const record: NativeBackfillRecord = (await readBackfillRecord(deps.runStore, event.bucket, key)) ?? {
    source: { region: event.sourceRegion, registryId: event.sourceRegistryId },
    destination: event.destination,
    adopted: false,
  };
  const save = () => writeBackfillRecord(deps.runStore, event.bucket, key, record);
  const client = sourceClient(deps, event);
  const registryId = event.sourceRegistryId;
  const where = describeBackfillDestination(event.destination);

  try {
    if (record.backfillId !== undefined) {
      const summary = await describeBackfill(client, registryId, record.backfillId);
      return { ...event, backfill: backfillField(summary, record.adopted) };
    }

    const active = (await listBackfills(client, registryId)).filter((b) => isActiveStatus(b.status));
    const mine = active.find((b) => sameDestination(b.destination, event.destination));
    if (mine) {
      // Started by this run right before a crash (startRequestedAt, no id), or by someone else.
      const ours = record.startRequestedAt !== undefined;
      record.backfillId = mine.id;
      record.adopted = !ours;
      await save();
      logger.info(ours ? 'backfill started by this run found' : 'active backfill adopted', {
        destination: where,
        backfillId: mine.id,
        status: mine.status,
      });
      return { ...event, backfill: backfillField(mine, record.adopted) };
    }

    const ahead = blockersOf(active, event.destination);
    if (ahead.length > 0) return await queue(event, record, ahead, deps, logger, save);

    record.startRequestedAt = deps.clock.now();
    await save();
    let started: BackfillSummary;
    try {
      started = await startBackfill(client, registryId, event.destination);
    } catch (error) {
      if (!START_REFUSALS.has(awsErrorName(error) ?? '')) {
        // A 4xx answer started nothing, so a backfill found later is not ours; after a 5xx or a
        // lost connection it may be (the mark stays, and the next attempt takes it as ours).
        if (refusedByService(error)) {
          delete record.startRequestedAt;
          await save();
        }
        throw error;
      }
      // Someone started one first: not ours, whatever List shows next.
      delete record.startRequestedAt;
      const now = (await listBackfills(client, registryId)).filter((b) => isActiveStatus(b.status));
      return await queue(event, record, blockersOf(now, event.destination), deps, logger, save);
    }
    record.backfillId = started.id;
    record.adopted = false;
    await save();
    logger.info('backfill started', { destination: where, backfillId: started.id });
    return { ...event, backfill: backfillField(started, false) };
  } catch (error) {
    throw toStepError(error, `native backfill for ${where}`);
  }
}

function refusedByService(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  return status !== undefined && status >= 400 && status < 500;
}

/** What keeps ECR from starting a backfill for `destination` now. */
function blockersOf(
  active: readonly BackfillSummary[],
  destination: NativeDestinationEvent['destination'],
): BackfillSummary[] {
  const sameRegion = active.filter((b) => b.destination.region === destination.region);
  if (sameRegion.length > 0) return sameRegion;
  return active.length >= MAX_ACTIVE_BACKFILLS_PER_REGISTRY ? [...active] : [];
}

/**
 * Waits behind `ahead` (throws BackfillQueued) while any of it makes progress; gives up once nothing
 * ahead has moved for replicationTimeoutMinutes (returns no backfill: the re-push engine takes over).
 */
async function queue(
  event: NativeDestinationEvent,
  record: NativeBackfillRecord,
  ahead: readonly BackfillSummary[],
  deps: NativeStartDeps,
  logger: Logger,
  save: () => Promise<void>,
): Promise<NativeBackfillState> {
  const now = deps.clock.now();
  const describe = ahead
    .map((b) => `${b.id} (${b.status}, ${describeBackfillDestination(b.destination)})`)
    .join(', ');
  if (ahead.length === 0) {
    // The backfill ahead ended between our calls: the next attempt starts ours.
    await save();
    throw new BackfillQueuedError(`the backfill ahead just ended; starting on the next attempt`);
  }
  record.queuedSince ??= now;
  const fingerprint = ahead
    .map((b) => `${b.id}=${progressFingerprint(b)}`)
    .sort()
    .join(',');
  const idleMs = observeProgress(record, fingerprint, now);
  const limitMs = event.replicationTimeoutMinutes * 60_000;
  if (idleMs >= limitMs) {
    const note = `queued ${Math.round((now - record.queuedSince) / 60_000)} min behind ${describe}, which made no progress for ${event.replicationTimeoutMinutes} min: no native backfill for this destination, the re-push engine takes its images`;
    record.gaveUpReason = note;
    await save();
    logger.warn('giving up the queue', { destination: describeBackfillDestination(event.destination), note });
    return { ...event, note };
  }
  await save();
  throw new BackfillQueuedError(
    `${describeBackfillDestination(event.destination)} waits behind ${describe} (ECR allows one active backfill per destination Region and ${MAX_ACTIVE_BACKFILLS_PER_REGISTRY} per registry)`,
  );
}
