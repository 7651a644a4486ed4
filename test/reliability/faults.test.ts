/**
 * Faults: ECR throttling and 5xx on 10 % of calls plus Lambda invocations dying part-way (5 %), for
 * several seeds. The run must converge within a bounded number of redrives, and afterwards the
 * safety invariants 1–6 of docs/architecture.md §3.2 must hold in the emulator's own state and call log. One
 * promote and the retag-source case run with a realistic per-call ECR latency (25 ms ± 50 %), so
 * calls overlap the way they do in AWS instead of answering in 0 ms.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatViolations } from '../../local/bench/invariants.ts';
import { BENCH_SOURCE_ACCOUNT, BENCH_SOURCE_REGION } from '../../local/bench/registry-generator.ts';
import type { LocalS3 } from '../../local/s3/index.ts';
import { outcomesOf, runObserved, SMALL_SHAPE, SOAK, startReliabilityWorld, startRunS3 } from './support.ts';

const FAULT_RATE = 0.1;
const LAMBDA_CRASH_RATE = 0.05;
/** Redrives an operator would be asked to make at most. */
const MAX_REDRIVES = 10;
/** Assumed latency of one ECR API call in AWS (docs/benchmarks.md). */
const REALISTIC_API_LATENCY_MS = 25;
const SEEDS = SOAK ? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] : [1, 2, 3];
/**
 * Destination tags on another digest (CONFLICT) have their own suite (conflicts.test.ts): an image
 * whose every tag conflicts in a destination is a case of its own, kept out of the fault runs so
 * that these test what faults do.
 */
const SHAPE = { ...SMALL_SHAPE, conflictShare: 0 };

describe('the workflow under ECR faults and Lambda crashes', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startRunS3(BENCH_SOURCE_REGION, BENCH_SOURCE_ACCOUNT);
  });
  afterAll(async () => {
    await s3.close();
  });

  const cases = [
    ...SEEDS.map((seed) => ({ seed, strategy: 'promote' as const, apiLatencyMs: 0 })),
    { seed: SEEDS.length + 1, strategy: 'promote' as const, apiLatencyMs: REALISTIC_API_LATENCY_MS },
    { seed: SEEDS.length + 2, strategy: 'retag-source' as const, apiLatencyMs: REALISTIC_API_LATENCY_MS },
  ];

  it.each(cases)(
    'seed $seed, $strategy, $apiLatencyMs ms per call: converges within the redrive bound and every invariant holds',
    async ({ seed, strategy, apiLatencyMs }) => {
      // Prepare
      const world = await startReliabilityWorld(
        { seed, ...SHAPE },
        { faultRate: FAULT_RATE, seed, replicationLatencyMs: 15, apiLatencyMs },
      );
      try {
        // Act
        const run = await runObserved(world, {
          s3,
          input: { strategy, batchSize: 4 },
          lambdaCrashRate: LAMBDA_CRASH_RATE,
          seed,
          maxRedrives: MAX_REDRIVES,
        });

        // Assess
        expect(run.result.status, `${run.result.error}: ${run.result.cause?.slice(0, 400)}`).toBe(
          'SUCCEEDED',
        );
        expect(run.result.redrives).toBeLessThanOrEqual(MAX_REDRIVES);
        expect(formatViolations(run.violations)).toBe('');
        // The faults really happened: this is not a quiet run that passed by luck.
        expect(run.calls.filter((c) => c.injected).length).toBeGreaterThan(0);
        expect(outcomesOf(run.result).BACKFILLED ?? 0).toBeGreaterThan(0);
      } finally {
        await world.close();
      }
    },
  );

  it('survives frequent Lambda crashes after partial side effects, repeating no PutImage', async () => {
    // Prepare
    const world = await startReliabilityWorld({ seed: 42, ...SHAPE }, { replicationLatencyMs: 15 });
    try {
      // Act
      const run = await runObserved(world, {
        s3,
        input: { batchSize: 2 },
        lambdaCrashRate: 0.3,
        seed: 42,
        maxRedrives: 30,
      });

      // Assess
      // Crashes are retried by the state (Lambda.Unknown) or, once retries run out, redriven.
      expect(run.result.metrics.crashes).toBeGreaterThan(3);
      expect(run.result.metrics.invocationErrors['Lambda.Unknown']).toBe(run.result.metrics.crashes);
      expect(run.result.status).toBe('SUCCEEDED');
      expect(formatViolations(run.violations)).toBe('');
    } finally {
      await world.close();
    }
  });
});
