/**
 * Where the native engine keeps its files in the run bucket, next to the run's others
 * (core/run-files/run-layout.ts):
 *
 *   runs/<runId>/native/backfills/<registryId>-<region>.json   the destination's backfill record
 *   runs/<runId>/native/results/<registryId>-<region>.jsonl    its per-image results (terminal only)
 *   runs/<runId>/native/verified.jsonl                         ReportRows NATIVE_BACKFILLED
 *   runs/<runId>/native/repair-items.jsonl                     WorkItems for the re-push map
 *
 * The record is how the steps remember across Retry-as-poll attempts (each attempt gets the same
 * input) and how the stop-on-abort path finds the backfills a run started.
 */
import type { RunStore } from '../run-files/run-store.ts';
import { z } from 'zod';
import { DestinationSchema, type Destination } from '../contracts/contracts.ts';
import { getJson, isNotFound, listObjects, putJson } from '../run-files/run-store.ts';

const destinationFile = (d: Pick<Destination, 'region' | 'registryId'>): string =>
  `${d.registryId}-${d.region}`;

export function nativeKeys(runPrefix: string) {
  const base = `${runPrefix.replace(/\/+$/, '')}/native`;
  return {
    backfillsPrefix: `${base}/backfills/`,
    backfill: (d: Pick<Destination, 'region' | 'registryId'>) =>
      `${base}/backfills/${destinationFile(d)}.json`,
    results: (d: Pick<Destination, 'region' | 'registryId'>) => `${base}/results/${destinationFile(d)}.jsonl`,
    verified: `${base}/verified.jsonl`,
    repairItems: `${base}/repair-items.jsonl`,
  };
}

/** What the run knows about one destination's backfill, across invocations and attempts. */
export const NativeBackfillRecordSchema = z.object({
  /** The source registry the backfill runs in (StartReplicationBackfill is called there). */
  source: z.object({ region: z.string(), registryId: z.string() }),
  destination: DestinationSchema,
  backfillId: z.string().optional(),
  /** True when the backfill was already running for this destination: we watch it, we never stop it. */
  adopted: z.boolean().default(false),
  /** Epoch ms: when this run first found the destination Region (or the registry) busy. */
  queuedSince: z.number().optional(),
  /** A fingerprint of the last progress seen (ours, or the backfill we queue behind), and since when. */
  lastProgress: z.string().optional(),
  lastProgressAt: z.number().optional(),
  /**
   * Epoch ms: just before StartReplicationBackfill. With no `backfillId` yet, an active backfill for
   * this destination found later is the one this run started (the step died before recording it).
   */
  startRequestedAt: z.number().optional(),
  /** Set when the run gave up waiting for the destination Region: the re-push engine takes over. */
  gaveUpReason: z.string().optional(),
  /** Set when we asked ECR to stop the backfill (stall, abort, timeout). */
  stopRequestedAt: z.number().optional(),
  stopReason: z.string().optional(),
});
export type NativeBackfillRecord = z.infer<typeof NativeBackfillRecordSchema>;

export async function readBackfillRecord(
  store: RunStore,
  bucket: string,
  key: string,
): Promise<NativeBackfillRecord | undefined> {
  try {
    return await getJson(store, bucket, key, NativeBackfillRecordSchema);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function writeBackfillRecord(
  store: RunStore,
  bucket: string,
  key: string,
  record: NativeBackfillRecord,
): Promise<void> {
  await putJson(store, bucket, key, record);
}

/**
 * Progress that counts as movement: the status and the processed counts. A backfill whose fingerprint
 * does not change for `replicationTimeoutMinutes` is stalled (e.g. PREPARING forever, or replications
 * that never finish).
 */
export function progressFingerprint(summary: {
  status: string;
  progress: { total: number; completed: number; failed: number };
}): string {
  const p = summary.progress;
  return `${summary.status}:${p.total}:${p.completed}:${p.failed}`;
}

/**
 * Updates the record's "last progress" with what was just observed; returns how long (ms) nothing
 * has moved, 0 when something just did.
 */
export function observeProgress(record: NativeBackfillRecord, fingerprint: string, now: number): number {
  if (record.lastProgress !== fingerprint || record.lastProgressAt === undefined) {
    record.lastProgress = fingerprint;
    record.lastProgressAt = now;
    return 0;
  }
  return now - record.lastProgressAt;
}

/** Every destination record of a run (`runPrefix` is `runs/<runId>`), with its key. */
export async function* runBackfillRecords(
  store: RunStore,
  bucket: string,
  runPrefix: string,
): AsyncGenerator<{ key: string; record: NativeBackfillRecord }> {
  for await (const object of listObjects(store, bucket, nativeKeys(runPrefix).backfillsPrefix)) {
    const record = await readBackfillRecord(store, bucket, object.key);
    if (record) yield { key: object.key, record };
  }
}
