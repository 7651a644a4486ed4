/**
 * Every paced invocation ends far inside its Lambda timeout, whatever the registry's shape
 * (functions/step-kit/work-budget.ts). AWS's pacing is compressed: the functions' timeouts × 0.02 and a
 * PutImage rate of 10/s make PromoteTags a 12-second function with a 4-second budget (~40 puts), while
 * a batch here holds about 150 tag deliveries — far more than one invocation may start. The paced
 * steps must stop at their budget, throw WorkRemaining, be continued by their own retrier, and the run
 * must converge with invariants 1–6 of docs/architecture.md §3.2 (5: no PutImage repeated across the
 * continued invocations), with no invocation killed at its timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_NAMES } from '../../core/errors/error-names.ts';
import { PACED_WORK_SHARE } from '../../functions/step-kit/work-budget.ts';
import { formatViolations } from '../../local/bench/invariants.ts';
import { BENCH_SOURCE_ACCOUNT, BENCH_SOURCE_REGION } from '../../local/bench/registry-generator.ts';
import { SANDBOX_TIMEDOUT } from '../../local/runner/lambda/lambda-task.ts';
import type { LocalS3 } from '../../local/s3/index.ts';
import { outcomesOf, runObserved, startReliabilityWorld, startRunS3 } from './support.ts';

/** Compressed time: 600 s → 12 s, 300 s → 6 s (infra/step-profiles.ts). */
const LAMBDA_TIMEOUT_SCALE = 0.02;
const PUT_IMAGE_RATE = 10;
const PROMOTE_TIMEOUT_MS = 600_000 * LAMBDA_TIMEOUT_SCALE;
/** One batch: 4 covered repositories × 6 images × ~4 tags × 2 destinations ≈ 150 deliveries. */
const SHAPE = {
  seed: 7,
  repositories: 4,
  imagesPerRepository: 6,
  tagsPerImage: 4,
  destinations: 2,
  allCovered: true,
  conflictShare: 0,
  presentShare: 0,
};

describe('paced steps work to a time budget', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startRunS3(BENCH_SOURCE_REGION, BENCH_SOURCE_ACCOUNT);
  });
  afterAll(async () => {
    await s3.close();
  });

  it('continues a promote batch that exceeds its budget, repeating no PutImage, none killed at its timeout', async () => {
    // Prepare
    const world = await startReliabilityWorld(SHAPE, { replicationLatencyMs: 50 });
    try {
      // Act
      const run = await runObserved(world, {
        s3,
        input: { strategy: 'promote', batchSize: 100, maxConcurrency: 1 },
        putImageRatePerSecond: PUT_IMAGE_RATE,
        lambdaTimeoutScale: LAMBDA_TIMEOUT_SCALE,
      });

      // Assess
      const { metrics } = run.result;
      expect(run.result.status, `${run.result.error}: ${run.result.cause?.slice(0, 400)}`).toBe('SUCCEEDED');
      expect(formatViolations(run.violations)).toBe('');
      const deliveries = Object.values(workOutcomesOf(run.result)).reduce((a, b) => a + b, 0);
      // The batch really was larger than one budget: ~40 puts fit, the batch has several times that.
      expect(deliveries).toBeGreaterThan(3 * PUT_IMAGE_RATE * (PROMOTE_TIMEOUT_MS / 1000) * PACED_WORK_SHARE);
      // Continued, by its own retrier, and never killed.
      expect(metrics.invocationErrors[ERROR_NAMES.WorkRemaining]).toBeGreaterThanOrEqual(3);
      expect(run.result.invocations.PromoteTags).toBeGreaterThanOrEqual(4);
      expect(metrics.invocationErrors[SANDBOX_TIMEDOUT]).toBeUndefined();
      // Every invocation ended inside two thirds of its timeout: a third for the puts, the rest margin.
      expect(metrics.maxInvocationMs.PromoteTags).toBeLessThan((PROMOTE_TIMEOUT_MS * 2) / 3);
      // Every delivery made, and reported as made by this run: each continuation started from its
      // predecessor's results (continuation.ts), not only from re-reads that would say ALREADY_PRESENT.
      expect(workOutcomesOf(run.result)).toEqual({ BACKFILLED: deliveries });
    } finally {
      await world.close();
    }
  });

  it('continues retag-source the same way, never stopping between a delete and its re-put', async () => {
    // Prepare
    const world = await startReliabilityWorld(SHAPE, { replicationLatencyMs: 50 });
    try {
      // Act
      const run = await runObserved(world, {
        s3,
        input: { strategy: 'retag-source', batchSize: 100, maxConcurrency: 1 },
        putImageRatePerSecond: PUT_IMAGE_RATE,
        lambdaTimeoutScale: LAMBDA_TIMEOUT_SCALE,
      });

      // Assess
      const { metrics } = run.result;
      expect(run.result.status, `${run.result.error}: ${run.result.cause?.slice(0, 400)}`).toBe('SUCCEEDED');
      expect(formatViolations(run.violations)).toBe('');
      expect(metrics.invocationErrors[ERROR_NAMES.WorkRemaining]).toBeGreaterThanOrEqual(1);
      expect(run.result.invocations.RetagSourceTags).toBeGreaterThanOrEqual(2);
      expect(metrics.invocationErrors[SANDBOX_TIMEDOUT]).toBeUndefined();
      expect(metrics.maxInvocationMs.RetagSourceTags).toBeLessThan((PROMOTE_TIMEOUT_MS * 2) / 3);
      const deliveries = Object.values(workOutcomesOf(run.result)).reduce((a, b) => a + b, 0);
      expect(workOutcomesOf(run.result)).toEqual({ BACKFILLED: deliveries });
    } finally {
      await world.close();
    }
  });

  it('retries a throttled PromoteTags from its partial results: what it put stays BACKFILLED', async () => {
    // Prepare: after 20 destination puts went through, the next 8 calls are throttled — more than the
    // SDK's attempts for the puts in flight — so PromoteTags finishes its other groups and fails with
    // Throttled, which its state retries.
    const world = await startReliabilityWorld(SHAPE, { replicationLatencyMs: 50 });
    const [firstDestination] = world.registry.destinations;
    const fault = world.emulator.faults.add({
      operation: 'PutImage',
      region: firstDestination!.region,
      after: 20,
      times: 8,
      error: 'ThrottlingException',
    });
    try {
      // Act
      const run = await runObserved(world, {
        s3,
        input: { strategy: 'promote', batchSize: 100, maxConcurrency: 1 },
      });

      // Assess
      const { metrics } = run.result;
      expect(run.result.status, `${run.result.error}: ${run.result.cause?.slice(0, 400)}`).toBe('SUCCEEDED');
      expect(formatViolations(run.violations)).toBe('');
      expect(fault.hits).toBe(8);
      expect(metrics.invocationErrors[ERROR_NAMES.Throttled]).toBeGreaterThanOrEqual(1);
      expect(run.result.invocations.PromoteTags).toBeGreaterThanOrEqual(2);
      const deliveries = Object.values(workOutcomesOf(run.result)).reduce((a, b) => a + b, 0);
      expect(workOutcomesOf(run.result)).toEqual({ BACKFILLED: deliveries });
    } finally {
      await world.close();
    }
  });
});

/**
 * The report's outcomes of the work the plan gave the batches: the shape's repositories that no
 * rule covers also have their NOT_COVERED rows (the plan's, issue 23), which no batch delivered.
 */
function workOutcomesOf(result: Parameters<typeof outcomesOf>[0]): Record<string, number> {
  return Object.fromEntries(
    Object.entries(outcomesOf(result)).filter(([outcome]) => outcome !== 'NOT_COVERED'),
  );
}
