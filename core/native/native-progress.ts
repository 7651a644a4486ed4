/**
 * Where a run's native backfills stand right now, for `ecr-backfill watch` and `report`: the run's
 * destination records (what it started, adopted or queued for) and, for each backfill, ECR's live
 * status and progress counts (DescribeReplicationBackfillResults, one call each).
 */
import type { NativeBackfillProgress, NativeBackfillStatus } from '../contracts/contracts.ts';
import type { StepDeps } from '../deps.ts';
import { describeBackfill, describeBackfillDestination } from './native-backfill-api.ts';
import { runBackfillRecords } from './native-run-files.ts';

export interface NativeBackfillView {
  /** `<registryId>/<region>` */
  destination: string;
  backfillId?: string;
  adopted: boolean;
  /** ECR's status, or QUEUED (waiting for the destination Region) / NOT_STARTED. */
  status: NativeBackfillStatus | 'QUEUED' | 'NOT_STARTED';
  progress?: NativeBackfillProgress;
  failureCode?: string;
  /** Epoch ms since when the run waits for the destination Region, while queued. */
  queuedSince?: number;
  stopReason?: string;
  /** Why no backfill ran for this destination (the queue gave up). */
  note?: string;
}

export async function nativeBackfillViews(
  deps: Pick<StepDeps, 'ecr' | 'runStore'>,
  bucket: string,
  runPrefix: string,
): Promise<NativeBackfillView[]> {
  const views: NativeBackfillView[] = [];
  for await (const { record } of runBackfillRecords(deps.runStore, bucket, runPrefix)) {
    const base = {
      destination: describeBackfillDestination(record.destination),
      adopted: record.adopted,
      ...(record.stopReason !== undefined && { stopReason: record.stopReason }),
    };
    if (!record.backfillId) {
      const queued = record.queuedSince !== undefined && record.gaveUpReason === undefined;
      views.push({
        ...base,
        status: queued ? 'QUEUED' : 'NOT_STARTED',
        ...(queued && { queuedSince: record.queuedSince }),
        ...(record.gaveUpReason !== undefined && { note: record.gaveUpReason }),
      });
      continue;
    }
    const client = deps.ecr({ region: record.source.region, registryId: record.source.registryId });
    const summary = await describeBackfill(client, record.source.registryId, record.backfillId);
    views.push({
      ...base,
      backfillId: record.backfillId,
      status: summary.status,
      ...(summary.prepared && { progress: summary.progress }),
      ...(summary.failureCode !== undefined && { failureCode: summary.failureCode }),
    });
  }
  return views.sort((a, b) => a.destination.localeCompare(b.destination));
}
