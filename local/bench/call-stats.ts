/**
 * What a run cost in ECR API calls, read from the emulator's call log: calls by operation, PutImage
 * per registry, throttled and failed attempts. The log is the emulator's, so a step that makes a
 * call it does not count still shows up here.
 */
import type { CallLogEntry } from '../ecr-emulator/index.ts';
import { registryKey } from './expected-work.ts';

export interface CallStats {
  total: number;
  throttled: number;
  /** Calls failed by fault injection (random or scripted). */
  injected: number;
  byOperation: Record<string, number>;
  /**
   * PutImage calls without a tag: the referrer copies' puts (the workflow pushes an untagged image
   * only when copying an OCI 1.1 referrer, since the bench selects no untagged image).
   */
  untaggedPutImage: number;
  /** PutImage calls that reached the repository (not throttled, not failed by injection), per registry. */
  putImageByRegistry: Record<string, number>;
  /** PutImage attempts per registry, throttled ones included. */
  putImageAttemptsByRegistry: Record<string, number>;
  /**
   * When each registry's PutImage calls happened, in ms from `since`: with the count, how much of
   * the run the quota was actually being spent (a registry busy only at the end shows a pipeline gap).
   */
  putImageWindows: Record<string, { firstMs: number; lastMs: number }>;
}

const REACHED = new Set(['ok', 'ImageAlreadyExistsException', 'ImageTagAlreadyExistsException']);

export function callStats(calls: readonly CallLogEntry[], since = calls[0]?.time ?? 0): CallStats {
  const stats: CallStats = {
    total: 0,
    throttled: 0,
    injected: 0,
    byOperation: {},
    untaggedPutImage: 0,
    putImageByRegistry: {},
    putImageAttemptsByRegistry: {},
    putImageWindows: {},
  };
  for (const call of calls) {
    stats.total += 1;
    if (call.throttled) stats.throttled += 1;
    if (call.injected) stats.injected += 1;
    stats.byOperation[call.operation] = (stats.byOperation[call.operation] ?? 0) + 1;
    if (call.operation !== 'PutImage') continue;
    if (call.params.imageTag === undefined) stats.untaggedPutImage += 1;
    const key = registryKey({ registryId: call.account, region: call.region });
    stats.putImageAttemptsByRegistry[key] = (stats.putImageAttemptsByRegistry[key] ?? 0) + 1;
    if (!REACHED.has(call.outcome)) continue;
    stats.putImageByRegistry[key] = (stats.putImageByRegistry[key] ?? 0) + 1;
    const at = call.time - since;
    const window = stats.putImageWindows[key];
    if (window) window.lastMs = at;
    else stats.putImageWindows[key] = { firstMs: at, lastMs: at };
  }
  return stats;
}

/** `value / per`, or 0 when there is nothing to divide by. */
export const perUnit = (value: number, per: number): number => (per > 0 ? value / per : 0);

/**
 * The calls a referrer copy makes (core/ecr/referrers.ts): listing referrers, the layer APIs for
 * its blobs (source, then destination), and its untagged PutImage.
 */
export const REFERRER_LAYER_OPERATIONS = [
  'GetDownloadUrlForLayer',
  'BatchCheckLayerAvailability',
  'InitiateLayerUpload',
  'UploadLayerPart',
  'CompleteLayerUpload',
] as const;

export interface ReferrerCallFigures {
  /** (referrer, destination) pairs the run had to copy (the generator's ground truth). */
  referrersToCopy: number;
  /** Calls per referrer to copy, by operation; `PutImage (untagged)` for the referrer puts. */
  perReferrer: Record<string, number>;
  /** The same calls, counted. */
  calls: Record<string, number>;
}

export const UNTAGGED_PUT_IMAGE = 'PutImage (untagged)';

/** The referrer calls of a run, from its call log, per referrer it had to copy. */
export function referrerCallFigures(stats: CallStats, referrersToCopy: number): ReferrerCallFigures {
  const calls: Record<string, number> = {
    ListImageReferrers: stats.byOperation.ListImageReferrers ?? 0,
  };
  for (const operation of REFERRER_LAYER_OPERATIONS) calls[operation] = stats.byOperation[operation] ?? 0;
  calls[UNTAGGED_PUT_IMAGE] = stats.untaggedPutImage;
  const perReferrer: Record<string, number> = {};
  for (const [operation, count] of Object.entries(calls))
    perReferrer[operation] = perUnit(count, referrersToCopy);
  return { referrersToCopy, perReferrer, calls };
}
