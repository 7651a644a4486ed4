/**
 * The run's progress as the batches record it (core/run-files/batch-progress.ts), for `watch`,
 * `start --watch`, `local` and the demo: tags delivered per destination out of the plan's total,
 * what phase the running batches are in, and the failures they have met.
 *
 * Cost per poll: one ListObjectsV2 page per 1,000 batches under `runs/<runId>/progress/`, and a
 * GetObject only for the records that changed since the last poll (by ETag) — finished batches are
 * read once. The plan's totals (plan.json, items.jsonl) are read once per run. Permissions:
 * s3:ListBucket on the run bucket (prefix runs/*) and s3:GetObject on runs/* (see the README).
 */
import type { RunStore } from '../../core/run-files/run-store.ts';
import {
  BatchProgressSchema,
  emptyDestinationProgress,
  emptyReferrerProgress,
  type BatchPhase,
  type BatchProgress,
  type DestinationProgress,
  type ReferrerProgress,
} from '../../core/run-files/batch-progress.ts';
import { destinationKey } from '../../core/batch/batch-results.ts';
import { NO_ARTIFACT_TYPE, PlannedRunSchema, WorkItemSchema } from '../../core/contracts/contracts.ts';
import { runKeys } from '../../core/run-files/run-layout.ts';
import { getJson, isNotFound, listObjects, readJsonLines } from '../../core/run-files/run-store.ts';
import type { RunLocation } from './native-watch.ts';

/** A destination's totals over the run's batches: the same counters as one batch's record. */
export type DestinationTotals = DestinationProgress;

export interface RunProgress {
  /** Per destination `<registryId>/<region>`, sorted. */
  destinations: Array<{ destination: string } & DestinationTotals>;
  /** The plan's (tag, destination) total, and how many are settled (delivered, skipped or failed). */
  plannedTags: number;
  settledTags: number;
  deliveredTags: number;
  plannedImages: number;
  replicatedImages: number;
  /** Batches that have recorded anything, and how many of them are in each phase. */
  batches: number;
  phases: Record<string, number>;
  /** The phase most running batches are in (batches that are done do not count). */
  phase?: string;
  /** The plan's PutImage quota lower bound for the whole run, seconds. */
  quotaBoundSeconds?: number;
  /**
   * Referrers (signatures, SBOMs, attestations) per artifact type, counted per (referrer,
   * destination): the plan's total and what the batches settled. Absent when none is planned.
   */
  referrers?: Record<string, ReferrerProgress>;
  failures: BatchProgress['failures'];
}

const DONE_PHASE: BatchPhase = 'done';

/** Per destination, what the plan holds for it. */
export type PlannedTotals = ReadonlyMap<string, { tags: number; images: number }>;
/** Per artifact type, the (referrer, destination) copies the plan holds. */
export type PlannedReferrers = ReadonlyMap<string, number>;

interface Plan {
  perDestination: PlannedTotals;
  referrers: PlannedReferrers;
  quotaBoundSeconds?: number;
}

/**
 * Reads a run's progress records, keeping what it has read: a poll costs a listing plus the records
 * that changed. One reader per run being watched.
 */
export class RunProgressReader {
  private readonly records = new Map<string, { etag: string | undefined; progress: BatchProgress }>();
  private plan: Promise<Plan | undefined> | undefined;

  constructor(
    private readonly store: RunStore,
    private readonly run: RunLocation,
  ) {}

  /** The plan's totals: per destination from items.jsonl (streamed once), the quota bound from plan.json. */
  private readPlan(): Promise<Plan | undefined> {
    this.plan ??= (async () => {
      const keys = runKeys(this.run.runPrefix);
      let planned;
      try {
        planned = await getJson(this.store, this.run.bucket, keys.plan, PlannedRunSchema);
      } catch (error) {
        if (isNotFound(error)) return undefined; // Still planning: try again next poll.
        throw error;
      }
      const perDestination = new Map<string, { tags: number; images: number }>();
      const referrers = new Map<string, number>();
      for await (const item of readJsonLines(this.store, planned.bucket, planned.items.key, WorkItemSchema)) {
        const types = new Map((item.referrers ?? []).map((r) => [r.digest, r.artifactType]));
        for (const d of item.destinations) {
          const key = destinationKey(d);
          const totals = perDestination.get(key) ?? { tags: 0, images: 0 };
          totals.tags += d.tags.length;
          if (!d.digestPresent) totals.images += 1;
          perDestination.set(key, totals);
          for (const digest of d.referrers ?? []) {
            const type = types.get(digest) ?? NO_ARTIFACT_TYPE;
            referrers.set(type, (referrers.get(type) ?? 0) + 1);
          }
        }
      }
      return { perDestination, referrers, quotaBoundSeconds: planned.plan.quotaBoundSeconds };
    })().catch((error: unknown) => {
      this.plan = undefined;
      throw error;
    });
    return this.plan;
  }

  /** Reads the records that changed since the last read (by their listed ETag). */
  async read(): Promise<RunProgress | undefined> {
    const plan = await this.readPlan();
    if (!plan) return undefined;
    const prefix = runKeys(this.run.runPrefix).progress;
    for await (const object of listObjects(this.store, this.run.bucket, prefix)) {
      const known = this.records.get(object.key);
      if (known && object.etag !== undefined && known.etag === object.etag) continue;
      try {
        const progress = await getJson(this.store, this.run.bucket, object.key, BatchProgressSchema);
        this.records.set(object.key, { etag: object.etag, progress });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    return summarizeProgress(
      plan.perDestination,
      [...this.records.values()].map((r) => r.progress),
      plan.quotaBoundSeconds,
      plan.referrers,
    );
  }
}

/** Adds up the batches' records against the plan's per-destination totals. */
export function summarizeProgress(
  plannedPerDestination: PlannedTotals,
  records: readonly BatchProgress[],
  quotaBoundSeconds?: number,
  plannedReferrers: PlannedReferrers = new Map(),
): RunProgress {
  const referrers = new Map<string, ReferrerProgress>();
  for (const [type, planned] of plannedReferrers)
    referrers.set(type, { ...emptyReferrerProgress(), planned });
  const totals = new Map<string, DestinationTotals>();
  for (const [destination, planned] of plannedPerDestination) {
    totals.set(destination, {
      ...emptyDestinationProgress(),
      plannedTags: planned.tags,
      plannedImages: planned.images,
    });
  }
  const phases: Record<string, number> = {};
  const failures: BatchProgress['failures'] = [];
  for (const record of records) {
    phases[record.phase] = (phases[record.phase] ?? 0) + 1;
    failures.push(...record.failures);
    for (const [type, progress] of Object.entries(record.referrers ?? {})) {
      const total = referrers.get(type) ?? emptyReferrerProgress();
      if (!plannedReferrers.has(type)) total.planned += progress.planned;
      total.delivered += progress.delivered;
      total.skipped += progress.skipped;
      total.failed += progress.failed;
      referrers.set(type, total);
    }
    for (const [destination, progress] of Object.entries(record.destinations)) {
      const total = totals.get(destination) ?? emptyDestinationProgress();
      if (!plannedPerDestination.has(destination)) {
        total.plannedTags += progress.plannedTags;
        total.plannedImages += progress.plannedImages;
      }
      total.replicatedImages += progress.replicatedImages;
      total.deliveredTags += progress.deliveredTags;
      total.skippedTags += progress.skippedTags;
      total.failedTags += progress.failedTags;
      totals.set(destination, total);
    }
  }
  const destinations = [...totals.entries()]
    .map(([destination, total]) => ({ destination, ...total }))
    .sort((a, b) => a.destination.localeCompare(b.destination));
  const sum = (pick: (d: DestinationTotals) => number) => destinations.reduce((n, d) => n + pick(d), 0);
  const running = Object.entries(phases)
    .filter(([phase]) => phase !== DONE_PHASE)
    .sort(([, a], [, b]) => b - a);
  const phase = running[0]?.[0] ?? (records.length > 0 ? DONE_PHASE : undefined);
  return {
    destinations,
    plannedTags: sum((d) => d.plannedTags),
    settledTags: sum((d) => d.deliveredTags + d.skippedTags + d.failedTags),
    deliveredTags: sum((d) => d.deliveredTags),
    plannedImages: sum((d) => d.plannedImages),
    replicatedImages: sum((d) => d.replicatedImages),
    batches: records.length,
    phases,
    ...(phase !== undefined ? { phase } : {}),
    ...(quotaBoundSeconds !== undefined ? { quotaBoundSeconds } : {}),
    ...(referrers.size > 0 && {
      referrers: Object.fromEntries([...referrers].sort(([a], [b]) => a.localeCompare(b))),
    }),
    failures,
  };
}

/**
 * How far the run is, 0–1: an image's arrival in a destination and a tag's settling there each
 * count as one unit of work, so the fraction moves within a batch while replication lands (the
 * tags settle together when the batch promotes them).
 */
export function workFraction(progress: RunProgress): number {
  const total = progress.plannedImages + progress.plannedTags;
  if (total === 0) return 0;
  return Math.min(1, (progress.replicatedImages + progress.settledTags) / total);
}

/**
 * Seconds left, anchored on the plan's quota bound: never sooner than the bound allows from the
 * backfill's start (the PutImage quota cannot be beaten), and once the observed rate says later,
 * that.
 */
export function anchoredEtaSeconds(options: {
  quotaBoundSeconds?: number | undefined;
  elapsedSeconds: number;
  rateEtaSeconds?: number | undefined;
}): number | undefined {
  const boundLeft =
    options.quotaBoundSeconds !== undefined
      ? Math.max(0, options.quotaBoundSeconds - Math.max(0, options.elapsedSeconds))
      : undefined;
  if (boundLeft === undefined) return options.rateEtaSeconds;
  if (options.rateEtaSeconds === undefined) return boundLeft;
  return Math.max(boundLeft, options.rateEtaSeconds);
}
