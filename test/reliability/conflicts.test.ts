/**
 * Destination tags that already point to another digest (docs/architecture.md §3.2, invariant 6): reported as
 * CONFLICT, never overwritten, immutable repositories respected — and, as after any successful run
 * (invariant 4), no temp tag left anywhere. The awkward case: an image whose only tag conflicts in one
 * destination still has to be pushed for the other destination, and replication copies it to both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDockerImage, buildOciIndex } from '../../local/ecr-emulator/index.ts';
import { formatViolations } from '../../local/bench/invariants.ts';
import type { LocalS3 } from '../../local/s3/index.ts';
import { runObserved, startRunS3, startShopWorld, type ReliabilityWorld } from './support.ts';

const ACCOUNT = '111111111111';
const OTHER = '222222222222';
const SOURCE = 'ap-south-1';
const SEOUL = { region: 'ap-northeast-2', registryId: ACCOUNT };
const IRELAND = { region: 'eu-west-1', registryId: OTHER };

/**
 * `shop/api`: `v1` (single tag, on another digest in Seoul), `v2` + `stable` (fine everywhere).
 * `shop/web` in Seoul is IMMUTABLE and already holds `v3` on another digest.
 */
async function conflictWorld(): Promise<ReliabilityWorld & { digests: Record<string, string> }> {
  const v1 = buildDockerImage('conflict/api:v1');
  const v2 = buildOciIndex('conflict/api:v2');
  const v3 = buildDockerImage('conflict/web:v3');
  const world = await startShopWorld(15, [
    { repository: 'shop/api', image: v1, tags: ['v1'] },
    { repository: 'shop/api', image: v2, tags: ['v2', 'stable'] },
    { repository: 'shop/web', image: v3, tags: ['v3'] },
  ]);
  const { emulator } = world;
  const theirs = buildDockerImage('conflict/someone-else');
  emulator.seedImage({ region: SEOUL.region, account: ACCOUNT, repository: 'shop/api' }, theirs, {
    tags: ['v1'],
  });
  emulator.world.createRepository(ACCOUNT, SEOUL.region, 'shop/web', { imageTagMutability: 'IMMUTABLE' });
  emulator.seedImage({ region: SEOUL.region, account: ACCOUNT, repository: 'shop/web' }, theirs, {
    tags: ['v3'],
  });
  return { ...world, digests: { v1: v1.digest, v2: v2.digest, v3: v3.digest, theirs: theirs.digest } };
}

describe('destination tags on another digest', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startRunS3(SOURCE, ACCOUNT);
  });
  afterAll(async () => {
    await s3.close();
  });

  it.each(['promote', 'retag-source'] as const)(
    '%s: reports CONFLICT, never overwrites (immutable or not), and leaves no temp tag anywhere',
    async (strategy) => {
      // Prepare
      const world = await conflictWorld();
      try {
        // Act
        const run = await runObserved(world, { s3, input: { strategy, batchSize: 2 } });

        // Assess
        expect(run.result.status).toBe('SUCCEEDED');
        // Invariants 1–6, temp tags included: an image whose only tag conflicts must not keep one.
        expect(formatViolations(run.violations)).toBe('');
        const rows = run.result.report?.rows ?? [];
        const outcome = (repository: string, tag: string, region: string) =>
          rows.find((r) => r.repositoryName === repository && r.tag === tag && r.destinationRegion === region)
            ?.outcome;
        // Conflicts found by the plan are counted in the report summary (rows list the items worked on).
        const conflicts = run.result.report?.summary.counts.CONFLICT ?? 0;
        expect(outcome('shop/api', 'v2', IRELAND.region)).toBe('BACKFILLED');
        // promote delivers v1 to Ireland; retag-source cannot carry it anywhere without moving Seoul's.
        if (strategy === 'promote') {
          expect(outcome('shop/api', 'v1', IRELAND.region)).toBe('BACKFILLED');
          expect(conflicts).toBe(2);
        } else {
          expect(outcome('shop/api', 'v1', IRELAND.region)).not.toBe('BACKFILLED');
          expect(conflicts).toBeGreaterThanOrEqual(3);
        }
        expect(world.emulator.world.resolveTag(ACCOUNT, SEOUL.region, 'shop/api', 'v1')).toBe(
          world.digests.theirs,
        );
        expect(world.emulator.world.resolveTag(ACCOUNT, SEOUL.region, 'shop/web', 'v3')).toBe(
          world.digests.theirs,
        );
      } finally {
        await world.close();
      }
    },
  );

  it('overwrites a mutable conflicting tag only when the input asks, and never an immutable one', async () => {
    // Prepare
    const world = await conflictWorld();
    try {
      // Act
      const run = await runObserved(world, {
        s3,
        input: { overwriteConflicts: true, batchSize: 2 },
        invariants: { overwriteConflicts: true },
      });

      // Assess
      expect(run.result.status).toBe('SUCCEEDED');
      expect(world.emulator.world.resolveTag(ACCOUNT, SEOUL.region, 'shop/api', 'v1')).toBe(world.digests.v1);
      expect(world.emulator.world.resolveTag(ACCOUNT, SEOUL.region, 'shop/web', 'v3')).toBe(
        world.digests.theirs,
      );
      const rows = run.result.report?.rows ?? [];
      expect(rows.find((r) => r.tag === 'v1' && r.destinationRegion === SEOUL.region)?.outcome).toBe(
        'OVERWRITTEN',
      );
      expect(run.result.report?.summary.counts.CONFLICT).toBe(1);
      expect(formatViolations(run.violations)).toBe('');
    } finally {
      await world.close();
    }
  });
});
