/**
 * Replication failures: a destination reporting FAILED, a replication that never completes, one that
 * completes late, a destination that drops the pushed tag, and a destination tag changed under the
 * backfill's feet. Each ends as a reported outcome (REPLICATION_FAILED, REPLICATION_TIMEOUT,
 * DIGEST_MISMATCH); where work could not be done, the execution fails at the BackfillImages map, so
 * it can be redriven, and the results so far are in the report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDockerImage, buildOciImage, buildOciIndex } from '../../local/ecr-emulator/index.ts';
import { createStepHandlers } from '../../functions/registry.ts';
import { formatViolations } from '../../local/bench/invariants.ts';
import type { LocalS3 } from '../../local/s3/index.ts';
import {
  outcomesOf,
  runObserved,
  scaledClock,
  startRunS3,
  startShopWorld,
  type ReliabilityWorld,
} from './support.ts';

const ACCOUNT = '111111111111';
const OTHER = '222222222222';
const SOURCE = 'ap-south-1';
const SEOUL = { region: 'ap-northeast-2', registryId: ACCOUNT };
const IRELAND = { region: 'eu-west-1', registryId: OTHER };
/** Waits and polls 100× faster; the steps' clock 100× faster too, so replicationTimeoutMinutes: 1 is 0.6 s. */
const TIME_SCALE = 0.01;

/** `shop/api`: v1 + v1.0 (Docker), v2 + stable (OCI index); `shop/web`: v3 (OCI). Both covered, both destinations. */
async function startWorld(latencyMs = 20): Promise<ReliabilityWorld> {
  const world = await startShopWorld(latencyMs, [
    { repository: 'shop/api', image: buildDockerImage('failures/api:v1'), tags: ['v1', 'v1.0'] },
    { repository: 'shop/api', image: buildOciIndex('failures/api:v2'), tags: ['v2', 'stable'] },
    { repository: 'shop/web', image: buildOciImage('failures/web:v3'), tags: ['v3'] },
  ]);
  world.emulator.world.registry(ACCOUNT, SEOUL.region);
  return world;
}

/** Runs `test` on a fresh world (see startWorld) and closes it whatever the test's outcome. */
async function inWorld(test: (world: ReliabilityWorld) => Promise<void>, latencyMs?: number): Promise<void> {
  const world = await startWorld(latencyMs);
  try {
    await test(world);
  } finally {
    await world.close();
  }
}

type Rows = NonNullable<Awaited<ReturnType<typeof runObserved>>['result']['report']>['rows'];
const outcomeIn = (rows: Rows, repository: string, region: string): string[] => [
  ...new Set(
    rows
      .filter((r) => r.repositoryName === repository && r.destinationRegion === region)
      .map((r) => r.outcome),
  ),
];

describe('replication that does not go to plan', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startRunS3(SOURCE, ACCOUNT);
  });
  afterAll(async () => {
    await s3.close();
  });

  it('a destination reporting FAILED: REPLICATION_FAILED with its code, the execution fails redrivably, the rest is done', async () => {
    // Prepare
    await inWorld(async (world) => {
      world.emulator.replication.fail({
        repository: 'shop/web',
        destinationRegion: IRELAND.region,
        failureCode: 'ACCESS_DENIED',
      });
      // Act
      const run = await runObserved(world, { s3, input: { batchSize: 1 } });

      // Assess
      expect(run.result.status).toBe('FAILED');
      expect(run.result.execution.failedState?.name).toBe('BackfillImages');
      const rows = run.result.report?.rows ?? [];
      expect(outcomeIn(rows, 'shop/web', IRELAND.region)).toEqual(['REPLICATION_FAILED']);
      expect(
        rows.find((r) => r.repositoryName === 'shop/web' && r.destinationRegion === IRELAND.region)?.detail ??
          '',
      ).toContain('ACCESS_DENIED');
      expect(outcomeIn(rows, 'shop/web', SEOUL.region)).toEqual(['BACKFILLED']);
      expect(outcomeIn(rows, 'shop/api', IRELAND.region)).toEqual(['BACKFILLED']);
      // Nothing done wrong on the way: invariants 1–3, 5, 6 (4 only applies to a success).
      expect(formatViolations(run.violations)).toBe('');
    });
  });

  it('a replication that never completes: REPLICATION_TIMEOUT after replicationTimeoutMinutes, the execution fails', async () => {
    // Prepare
    await inWorld(async (world) => {
      world.emulator.replication.fail({
        repository: 'shop/api',
        destinationRegion: SEOUL.region,
        mode: 'hang',
      });
      // Act
      const run = await runObserved(world, {
        s3,
        input: { batchSize: 2, replicationTimeoutMinutes: 1 },
        timeScale: TIME_SCALE,
        clock: scaledClock(TIME_SCALE),
      });

      // Assess
      expect(run.result.status).toBe('FAILED');
      expect(run.result.execution.failedState?.name).toBe('BackfillImages');
      const rows = run.result.report?.rows ?? [];
      expect(outcomeIn(rows, 'shop/api', SEOUL.region)).toEqual(['REPLICATION_TIMEOUT']);
      expect(outcomeIn(rows, 'shop/api', IRELAND.region)).toEqual(['BACKFILLED']);
      expect(outcomeIn(rows, 'shop/web', SEOUL.region)).toEqual(['BACKFILLED']);
      // The poll is bounded by the Lambda's own timeout, not by an exhausted retrier.
      expect(run.result.invocations.CheckReplication ?? 0).toBeLessThan(40);
      expect(formatViolations(run.violations)).toBe('');
    });
  });

  it('a replication completing after the timeout: a redrive finishes the work without a second push', async () => {
    // Prepare: replication slower than the timeout; the operator redrives once it has landed.
    await inWorld(async (world) => {
      let redriving = false;
      // Act
      const run = await runObserved(world, {
        s3,
        input: { batchSize: 2, replicationTimeoutMinutes: 1 },
        timeScale: TIME_SCALE,
        clock: scaledClock(TIME_SCALE),
        maxRedrives: 1,
        onProgress: (_snapshot, event) => {
          if (event.type === 'redrive') redriving = true;
        },
        stepHandlers: (deps) => {
          const handlers = createStepHandlers(deps);
          return {
            ...handlers,
            // The redrive comes later in real life: by then the copies have landed.
            FinishBatch: async (event) => {
              if (redriving) await world.emulator.whenReplicationIdle();
              return handlers.FinishBatch(event);
            },
          };
        },
      });

      // Assess
      expect(run.result.redrives).toBe(1);
      expect(run.result.status).toBe('SUCCEEDED');
      expect(outcomesOf(run.result)).toEqual({ BACKFILLED: 10 });
      const sourcePuts = run.calls.filter((c) => c.operation === 'PutImage' && c.region === SOURCE);
      expect(sourcePuts).toHaveLength(3);
      expect(formatViolations(run.violations)).toBe('');
    }, 3000);
  });

  it('retag-source, a destination dropping the re-put tag: REPLICATION_TIMEOUT for it, the execution fails', async () => {
    // Prepare
    await inWorld(async (world) => {
      world.emulator.replication.fail({
        repository: 'shop/web',
        destinationRegion: IRELAND.region,
        mode: 'drop-tag',
      });
      // Act
      const run = await runObserved(world, {
        s3,
        input: { strategy: 'retag-source', batchSize: 1, replicationTimeoutMinutes: 1 },
        timeScale: TIME_SCALE,
        clock: scaledClock(TIME_SCALE),
      });

      // Assess
      expect(run.result.status).toBe('FAILED');
      const rows = run.result.report?.rows ?? [];
      expect(outcomeIn(rows, 'shop/web', IRELAND.region)).toEqual(['REPLICATION_TIMEOUT']);
      expect(outcomeIn(rows, 'shop/web', SEOUL.region)).toEqual(['BACKFILLED']);
      expect(world.emulator.world.resolveTag(OTHER, IRELAND.region, 'shop/web', 'v3')).toBeUndefined();
      expect(formatViolations(run.violations)).toBe('');
    });
  });

  it('promote does not depend on the pushed tag travelling: a dropped temp tag still ends BACKFILLED', async () => {
    // Prepare
    await inWorld(async (world) => {
      world.emulator.replication.fail({
        repository: 'shop/web',
        destinationRegion: IRELAND.region,
        mode: 'drop-tag',
      });
      // Act
      const run = await runObserved(world, { s3, input: { batchSize: 1 } });

      // Assess
      expect(run.result.status).toBe('SUCCEEDED');
      expect(outcomeIn(run.result.report?.rows ?? [], 'shop/web', IRELAND.region)).toEqual(['BACKFILLED']);
      expect(formatViolations(run.violations)).toBe('');
    });
  });

  it('a destination tag moved by someone else right after it was promoted: reported CONFLICT, never put back', async () => {
    // Prepare: someone in Ireland moves `v3` to their own image the instant the backfill puts it.
    const world = await startWorld();
    const theirs = buildDockerImage('failures/someone-else');
    world.emulator.seedImage({ region: IRELAND.region, account: OTHER, repository: 'shop/web' }, theirs, {
      tags: ['theirs'],
    });
    const ours = world.emulator.world.resolveTag(ACCOUNT, SOURCE, 'shop/web', 'v3');
    let moved = false;
    const unsubscribe = world.emulator.world.on((event) => {
      if (
        moved ||
        event.type !== 'tag-set' ||
        event.account !== OTHER ||
        event.tag !== 'v3' ||
        event.digest !== ours
      )
        return;
      moved = true;
      queueMicrotask(() => {
        const repository = world.emulator.world.requireRepository(OTHER, IRELAND.region, 'shop/web');
        world.emulator.world.setTag(repository, 'v3', theirs.digest);
      });
    });
    try {
      // Act
      const run = await runObserved(world, { s3, input: { batchSize: 1 } });

      // Assess
      expect(moved).toBe(true);
      expect(run.result.status).toBe('SUCCEEDED');
      expect(outcomeIn(run.result.report?.rows ?? [], 'shop/web', IRELAND.region)).toEqual(['CONFLICT']);
      expect(outcomeIn(run.result.report?.rows ?? [], 'shop/web', SEOUL.region)).toEqual(['BACKFILLED']);
      expect(world.emulator.world.resolveTag(OTHER, IRELAND.region, 'shop/web', 'v3')).toBe(theirs.digest);
    } finally {
      unsubscribe();
      await world.close();
    }
  });

  /** Removes one platform manifest of the `v2` index in Ireland once it is copied there, or once its last tag (`stable`) is promoted. */
  function removeChildInIreland(world: ReliabilityWorld, when: 'index-copied' | 'tag-promoted') {
    const digest = world.emulator.world.resolveTag(ACCOUNT, SOURCE, 'shop/api', 'v2')!;
    const index = world.emulator.world.getImage(ACCOUNT, SOURCE, 'shop/api', digest)!;
    const child = index.children[0]!;
    const state = { removed: false, index: digest };
    const unsubscribe = world.emulator.world.on((event) => {
      if (state.removed || event.account !== OTHER || event.repository !== 'shop/api') return;
      const hit =
        when === 'index-copied'
          ? event.type === 'image-created' && event.digest === digest
          : event.type === 'tag-set' && event.tag === 'stable' && event.digest === digest;
      if (!hit) return;
      state.removed = true;
      queueMicrotask(() => {
        world.emulator.world.deleteImage(
          world.emulator.world.requireRepository(OTHER, IRELAND.region, 'shop/api'),
          child,
        );
      });
    });
    return { state, unsubscribe };
  }

  it('an index whose platform manifest vanishes after promotion: DIGEST_MISMATCH, the execution fails', async () => {
    // Prepare
    const world = await startWorld();
    const { state, unsubscribe } = removeChildInIreland(world, 'tag-promoted');
    try {
      // Act
      const run = await runObserved(world, { s3, input: { batchSize: 1 } });

      // Assess
      expect(state.removed).toBe(true);
      expect(run.result.status).toBe('FAILED');
      expect(run.result.execution.failedState?.name).toBe('BackfillImages');
      const rows = run.result.report?.rows ?? [];
      const v2 = rows.filter((r) => r.imageDigest === state.index && r.destinationRegion === IRELAND.region);
      expect(new Set(v2.map((r) => r.outcome))).toEqual(new Set(['DIGEST_MISMATCH']));
      expect(outcomeIn(rows, 'shop/api', SEOUL.region)).toEqual(['BACKFILLED']);
      expect(formatViolations(run.violations)).toBe('');
    } finally {
      unsubscribe();
      await world.close();
    }
  });

  it('an index copied without one of its manifests: DIGEST_MISMATCH for that item there, its batch-mates and other destinations done', async () => {
    // Prepare: default batch size, so the broken index shares its batch with other images.
    const world = await startWorld();
    const { state, unsubscribe } = removeChildInIreland(world, 'index-copied');
    try {
      // Act
      const run = await runObserved(world, { s3 });

      // Assess: ECR refuses the tag on the incomplete copy; that is the item's outcome, not the batch's.
      expect(state.removed).toBe(true);
      expect(run.result.status).toBe('FAILED');
      expect(run.result.execution.failedState?.name).toBe('BackfillImages');
      const rows = run.result.report?.rows ?? [];
      const v2 = rows.filter((r) => r.imageDigest === state.index && r.destinationRegion === IRELAND.region);
      expect(v2.length).toBeGreaterThan(0);
      expect(new Set(v2.map((r) => r.outcome))).toEqual(new Set(['DIGEST_MISMATCH']));
      const v2InSeoul = rows.filter(
        (r) => r.imageDigest === state.index && r.destinationRegion === SEOUL.region,
      );
      expect(new Set(v2InSeoul.map((r) => r.outcome))).toEqual(new Set(['BACKFILLED']));
      expect(outcomeIn(rows, 'shop/web', IRELAND.region)).toEqual(['BACKFILLED']);
      expect(rows.filter((r) => r.outcome === 'BATCH_FAILED')).toEqual([]);
      expect(formatViolations(run.violations)).toBe('');
    } finally {
      unsubscribe();
      await world.close();
    }
  });
});
