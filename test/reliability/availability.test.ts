/**
 * Availability (docs/architecture.md §3.2, invariant 2): with `promote`, every source tag resolves at every instant.
 * Two independent observers watch the source during the run: a client polling every tag through the
 * ECR API (BatchGetImage by tag, like a `docker pull` would resolve it), and the emulator's world
 * events, which catch even a sub-millisecond remove-then-put.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatViolations } from '../../local/bench/invariants.ts';
import { SourceTagPoller, type WatchedTag } from '../../local/bench/observer.ts';
import { BENCH_SOURCE_ACCOUNT, BENCH_SOURCE_REGION } from '../../local/bench/registry-generator.ts';
import type { LocalS3 } from '../../local/s3/index.ts';
import {
  runObserved,
  SMALL_SHAPE,
  startReliabilityWorld,
  startRunS3,
  type GeneratedWorld,
} from './support.ts';

function sourceTags(world: GeneratedWorld): WatchedTag[] {
  return world.registry.repositories.flatMap((r) =>
    r.images.flatMap((i) => i.tags.map((tag) => ({ repository: r.name, tag, digest: i.digest }))),
  );
}

describe('source tag availability during a run', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startRunS3(BENCH_SOURCE_REGION, BENCH_SOURCE_ACCOUNT);
  });
  afterAll(async () => {
    await s3.close();
  });

  it('promote: a client polling every source tag sees each one resolve to its digest every time', async () => {
    // Prepare
    const world = await startReliabilityWorld(
      { seed: 21, ...SMALL_SHAPE, conflictShare: 0 },
      { replicationLatencyMs: 40 },
    );
    const watched = sourceTags(world);
    const client = world.emulator.client(world.source.region, { account: world.source.account });
    let poller: SourceTagPoller | undefined;
    try {
      // Act
      const run = await runObserved(world, {
        s3,
        input: { strategy: 'promote', batchSize: 3 },
        putImageRatePerSecond: 60,
        beforeRun: () => {
          poller = new SourceTagPoller(client, watched).start();
        },
      });
      const polled = await poller!.stop();

      // Assess
      expect(run.result.status).toBe('SUCCEEDED');
      expect(watched.length).toBeGreaterThan(10);
      // The poller really watched the whole run, many times over.
      expect(polled.sweeps).toBeGreaterThan(5);
      expect(polled.resolutions).toBeGreaterThanOrEqual(polled.sweeps * watched.length);
      expect(polled.misses).toEqual([]);
      expect(run.observer.report()).toMatchObject({ windows: 0, maxMs: 0, totalMs: 0 });
      expect(formatViolations(run.violations)).toBe('');
    } finally {
      await poller?.stop();
      client.destroy();
      await world.close();
    }
  });

  it('retag-source, by contrast: the event observer measures a window for every retagged tag', async () => {
    // Prepare
    const world = await startReliabilityWorld(
      { seed: 21, ...SMALL_SHAPE, conflictShare: 0 },
      { replicationLatencyMs: 40 },
    );
    try {
      // Act
      const run = await runObserved(world, { s3, input: { strategy: 'retag-source', batchSize: 3 } });

      // Assess: the same observer that reports 0 for promote does see retag-source's windows.
      const report = run.observer.report();
      const retagged = run.calls.filter(
        (c) => c.operation === 'BatchDeleteImage' && c.region === world.source.region && c.outcome === 'ok',
      );
      expect(run.result.status).toBe('SUCCEEDED');
      expect(report.windows).toBeGreaterThan(0);
      expect(report.windows).toBeLessThanOrEqual(retagged.length);
      expect(report.maxMs).toBeGreaterThan(0);
      expect(report.neverRestored).toEqual([]);
      expect(formatViolations(run.violations)).toBe('');
    } finally {
      await world.close();
    }
  });
});
