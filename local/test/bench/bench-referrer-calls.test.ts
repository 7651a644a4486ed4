/**
 * The bench's referrer figures come from a real run's call log (issue 21, item 8): a small promote run
 * on a registry where every image is signed and has a signed SBOM, through runBench as the CLI calls
 * it. Kept apart from bench-command.test.ts (four strategies end to end), and small.
 */
import { describe, expect, it } from 'vitest';
import { BENCH_DEFAULTS, checkTargets, runBench, type BenchResult } from '../../bench/run-bench.ts';
import { renderBenchReport } from '../../cli/commands/bench.ts';
import { REFERRER_LAYER_OPERATIONS, UNTAGGED_PUT_IMAGE } from '../../bench/call-stats.ts';

describe('bench referrer figures', () => {
  it('counts the referrer calls per referrer copied, and checks every destination has them', async () => {
    // Act
    const result: BenchResult = await runBench({
      ...BENCH_DEFAULTS,
      repositories: 2,
      imagesPerRepository: 2,
      tagsPerImage: 1,
      destinations: 2,
      conflictShare: 0,
      signedShare: 1,
      sbomShare: 1,
      quotaScale: 20,
      replicationLatencyMs: 40,
      apiLatencyMs: 5,
      strategies: ['promote'],
      plannerImages: 0,
    });

    // Assess
    const [promote] = result.strategies;
    expect(promote?.status, promote?.error).toBe('SUCCEEDED');
    const referrers = promote!.referrers!;
    const toCopy = result.registry.referrersToCopy;
    expect(toCopy).toBeGreaterThan(0);
    expect(referrers.referrersToCopy).toBe(toCopy);
    // Every referrer copy puts its manifest once, untagged: the call log shows exactly that many.
    expect(referrers.calls[UNTAGGED_PUT_IMAGE]).toBe(toCopy);
    for (const operation of ['ListImageReferrers', ...REFERRER_LAYER_OPERATIONS]) {
      const calls = referrers.calls[operation] ?? 0;
      expect(calls, operation).toBeGreaterThan(0);
      // The same calls the per-tag figure counts from the call log, divided by the referrer copies.
      expect(calls, operation).toBe(
        Math.round((promote!.apiCalls.perTagByOperation[operation] ?? 0) * result.registry.tags),
      );
      expect(referrers.perReferrer[operation], operation).toBeCloseTo(calls / toCopy, 9);
    }
    expect(referrers.perReferrer[UNTAGGED_PUT_IMAGE]).toBe(1);
    expect(referrers.missing).toEqual([]);
    const parity = result.targets.find((t) => t.target.startsWith('promote: every destination’s referrers'));
    expect(parity).toMatchObject({ met: true, correctness: true });

    const text = renderBenchReport(result, 'text');
    expect(text).toContain('Referrer calls per referrer copied');
    expect(text).toMatch(new RegExp(`PutImage \\(untagged\\)\\s+1\\.000 \\(${toCopy}\\)`));

    // A run that left a referrer out fails the bench's correctness target.
    const broken = { ...promote!, referrers: { ...referrers, missing: ['referrer sha256:… missing'] } };
    const judged = checkTargets([broken], undefined).find((t) => t.target === parity!.target);
    expect(judged).toMatchObject({ met: false, correctness: true });
  }, 300_000);
});
