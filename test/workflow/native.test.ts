/**
 * The native engine end to end: the synthesized state machine with the real handlers, the ECR
 * emulator's replication backfill and s3rver. Every run is checked against the destinations
 * themselves (every selected tag at the source digest, no temp tag anywhere), not against what the
 * service or the report claims.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PlannedRunSchema, type PlanSummary } from '../../core/contracts/contracts.ts';
import { buildDockerImage, EcrError } from '../../local/ecr-emulator/index.ts';
import type { BackfillRunResult } from '../../local/runner/run-backfill.ts';
import {
  expectedDestinationTags,
  missingDestinationTags,
  startWorld,
  tempTagsAnywhere,
  type World,
} from './helpers.ts';
import {
  callsOf,
  nativeRegistry,
  OTHER_ACCOUNT,
  reportedRun,
  runLocally,
  SEOUL,
  SEOUL_OTHER_ACCOUNT,
  SEOUL_SAME_ACCOUNT,
  SOURCE,
} from '../functions/native/support/native-workflow.ts';
import { scaledClock } from '../support/world.ts';

const LATENCY = { replicationLatencyMs: 20 };

describe('the native engine, run locally', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('backfills natively and verifies every tag itself, without one PutImage', async () => {
    // Prepare
    world = await startWorld(
      nativeRegistry({ destinations: [SEOUL_SAME_ACCOUNT], repositories: 2, imagesPerRepository: 3 }),
      LATENCY,
    );

    // Act
    const result = await runLocally(world, { method: 'native' });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    await expectComplete(world);
    expect(result.report?.summary.counts).toEqual({ NATIVE_BACKFILLED: 12 });
    const { plan, native } = reportedRun(result);
    expect(plan.engine.method).toBe('native');
    expect(native?.destinations).toEqual([
      expect.objectContaining({ status: 'COMPLETE', adopted: false, verified: 12, repair: 0 }),
    ]);
    expect(callsOf(world, 'StartReplicationBackfill')).toEqual({ ok: 1 });
    expect(callsOf(world, 'PutImage')).toEqual({});
    // Our own check: the destination itself was read, tag by tag.
    expect(world.emulator.callLog.count({ operation: 'BatchGetImage', region: SEOUL })).toBeGreaterThan(0);
    expect(result.execution.mapRuns.map((run) => run.stateName)).toEqual(['PlanSlices', 'NativeBackfills']);
  });

  it('repairs through the re-push engine what the backfill failed, and what it claims but did not deliver', async () => {
    // Prepare: two replications fail; one "completes" without its tag.
    world = await startWorld(
      nativeRegistry({ destinations: [SEOUL_SAME_ACCOUNT], repositories: 2, imagesPerRepository: 3 }),
      LATENCY,
    );
    world.emulator.replication.fail({ repository: 'team-0/service', times: 2, failureCode: 'ACCESS_DENIED' });
    world.emulator.replication.fail({ repository: 'team-1/service', times: 1, mode: 'drop-tag' });

    // Act
    const result = await runLocally(world, { method: 'native' });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    await expectComplete(world);
    expect(result.report?.summary.counts).toMatchObject({ NATIVE_BACKFILLED: 9 });
    const repaired = result.report?.rows.filter((row) => row.outcome !== 'NATIVE_BACKFILLED') ?? [];
    expect(repaired).toHaveLength(3);
    expect(repaired.every((row) => row.outcome === 'BACKFILLED' || row.outcome === 'ALREADY_PRESENT')).toBe(
      true,
    );
    const { native } = reportedRun(result);
    expect(native?.destinations[0]).toMatchObject({
      status: 'COMPLETE',
      progress: { total: 12, completed: 10, failed: 2, failureCodes: ['ACCESS_DENIED'] },
      verified: 9,
      repair: 3,
    });
    expect(callsOf(world, 'PutImage').ok).toBeGreaterThan(0);
  });

  it('repairs one destination without leaving the repair push’s temp tag in the others', async () => {
    // Prepare: two destinations in different Regions; one replication to Seoul fails.
    const ireland = { account: OTHER_ACCOUNT, region: 'eu-west-1' };
    world = await startWorld(
      nativeRegistry({
        destinations: [SEOUL_SAME_ACCOUNT, ireland],
        repositories: 1,
        imagesPerRepository: 2,
      }),
      LATENCY,
    );
    world.emulator.replication.fail({ destinationRegion: SEOUL, times: 1 });

    // Act
    const result = await runLocally(world, { method: 'native' });

    // Assess (expectComplete: no temp tag anywhere, Ireland included)
    expect(result.status).toBe('SUCCEEDED');
    await expectComplete(world);
    expect(reportedRun(result).native?.destinations.map((d) => [d.region, d.verified, d.repair])).toEqual([
      [SEOUL, 3, 1],
      ['eu-west-1', 4, 0],
    ]);
  });

  it('recovers from ECR failing the whole backfill at 50 % failures', async () => {
    // Prepare: 51 images × 2 tags = 102 replications; the first 60 fail, so at 100 processed ECR gives up.
    world = await startWorld(
      nativeRegistry({ destinations: [SEOUL_SAME_ACCOUNT], repositories: 1, imagesPerRepository: 51 }),
      LATENCY,
    );
    world.emulator.replication.fail({ destinationRegion: SEOUL, times: 60 });

    // Act
    const result = await runLocally(world, { method: 'native', batchSize: 50, replicationWaitSeconds: 5 });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    await expectComplete(world);
    const { native } = reportedRun(result);
    expect(native?.destinations[0]).toMatchObject({
      status: 'FAILED',
      failureCode: 'FAILURE_THRESHOLD_EXCEEDED',
      progress: { total: 102, completed: 40, failed: 60 },
      verified: 40,
      repair: 62,
    });
    const counts = result.report?.summary.counts ?? {};
    expect((counts.NATIVE_BACKFILLED ?? 0) + (counts.BACKFILLED ?? 0)).toBe(102);
  });

  it('queues a second destination in the same Region behind the first backfill instead of failing', async () => {
    // Prepare
    world = await startWorld(
      nativeRegistry({
        destinations: [SEOUL_SAME_ACCOUNT, SEOUL_OTHER_ACCOUNT],
        repositories: 1,
        imagesPerRepository: 3,
      }),
      LATENCY,
    );

    // Act
    const result = await runLocally(world, { method: 'native' });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    await expectComplete(world);
    const backfills = world.emulator.backfills.all().sort((a, b) => a.startedAt - b.startedAt);
    expect(backfills.map((b) => b.status)).toEqual(['COMPLETE', 'COMPLETE']);
    expect(backfills[1]?.startedAt).toBeGreaterThanOrEqual(backfills[0]?.endedAt ?? Infinity);
    // One start each (both children may race for the Region first: ECR refuses the loser, which queues).
    const { ok, ...refused } = callsOf(world, 'StartReplicationBackfill');
    expect(ok).toBe(2);
    expect(
      Object.keys(refused).filter((outcome) => outcome !== 'ReplicationBackfillInProgressException'),
    ).toEqual([]);
    expect(result.invocations.NativeStartBackfill).toBeGreaterThan(2);
    expect(reportedRun(result).native?.destinations.map((d) => [d.status, d.verified])).toEqual([
      ['COMPLETE', 6],
      ['COMPLETE', 6],
    ]);
  });

  it('stops a backfill that stopped making progress and re-pushes what it left behind', async () => {
    // Prepare: one replication of the backfill hangs forever; the steps' clock runs as fast as the waits.
    world = await startWorld(
      nativeRegistry({ destinations: [SEOUL_SAME_ACCOUNT], repositories: 1, imagesPerRepository: 3 }),
      LATENCY,
    );
    world.emulator.replication.fail({ mode: 'hang', times: 1 });

    // Act
    const result = await runLocally(
      world,
      { method: 'native', replicationTimeoutMinutes: 1, replicationWaitSeconds: 5 },
      { clock: scaledClock() },
    );

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(callsOf(world, 'StopReplicationBackfill')).toEqual({ ok: 1 });
    await expectComplete(world);
    const destination = reportedRun(result).native?.destinations[0];
    expect(destination?.note).toMatch(/^no progress for 1 min .*; StopReplicationBackfill requested \(STOPP/);
    expect(destination).toMatchObject({ verified: 5, repair: 1 });
  });

  it('keeps a tag moved by someone else mid-backfill at the newer digest, undoing the backfill putting it back', async () => {
    // Prepare: one replication per tick, so the backfill processes its list over several ticks.
    world = await startWorld(
      nativeRegistry({
        destinations: [SEOUL_SAME_ACCOUNT],
        repositories: 1,
        imagesPerRepository: 3,
        tagsPerImage: 1,
      }),
      { ...LATENCY, backfillBatchSize: 1 },
    );
    const w = world;
    const repository = 'team-0/service';
    const sourceRepository = w.emulator.world.requireRepository(SOURCE.account, SOURCE.region, repository);
    const lastDigest = w.emulator.world.sortedDigests(sourceRepository).at(-1) ?? '';
    const movedTag =
      w.emulator.world.getImage(SOURCE.account, SOURCE.region, repository, lastDigest)?.tags[0] ?? '';
    const newer = buildDockerImage('native/newer-push', { layers: 1 });
    // As soon as the backfill delivers its first image, someone pushes the tag it will process last.
    const unsubscribe = w.emulator.world.on((event) => {
      if (event.type !== 'tag-set' || event.region !== SEOUL) return;
      unsubscribe();
      setImmediate(() =>
        w.emulator.seedImage({ ...SOURCE, repository }, newer, { tags: [movedTag], replicate: true }),
      );
    });

    // Act
    const result = await runLocally(w, { method: 'native' });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    await w.emulator.whenReplicationIdle();
    expect(w.emulator.world.resolveTag(SOURCE.account, SOURCE.region, repository, movedTag)).toBe(
      newer.digest,
    );
    expect(w.emulator.world.resolveTag(SOURCE.account, SEOUL, repository, movedTag)).toBe(newer.digest);
    const row = result.report?.rows.find((r) => r.tag === movedTag);
    expect(row).toMatchObject({
      outcome: 'MOVED',
      imageDigest: lastDigest,
      detail:
        'the backfill put the tag back on the older digest after the newer push; restored to the newer digest',
    });
    expect(result.report?.summary.counts).toMatchObject({ NATIVE_BACKFILLED: 2, MOVED: 1 });
  });
});

describe('method auto, run locally', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  const registry = () =>
    nativeRegistry({
      destinations: [SEOUL_SAME_ACCOUNT, SEOUL_OTHER_ACCOUNT],
      repositories: 2,
      imagesPerRepository: 2,
    });

  it('chooses native for the whole replication scope, and runs it', async () => {
    // Prepare
    world = await startWorld(registry(), LATENCY);

    // Act
    const result = await runLocally(world, { method: 'auto' });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    await expectComplete(world);
    expect(reportedRun(result).plan.engine).toEqual({
      method: 'native',
      reason: `method auto: the selection is the whole replication scope, ListReplicationBackfills answers, and no other backfill is active in ${SEOUL}`,
    });
    expect(callsOf(world, 'StartReplicationBackfill').ok).toBe(2);
    expect(world.emulator.backfills.all().map((b) => b.status)).toEqual(['COMPLETE', 'COMPLETE']);
    expect(callsOf(world, 'PutImage')).toEqual({});
  });

  it('chooses re-push for a narrower selection, and runs it', async () => {
    // Prepare
    world = await startWorld(registry(), LATENCY);

    // Act
    const result = await runLocally(world, { method: 'auto', repositories: ['team-0/'] });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(reportedRun(result).plan.engine.method).toBe('repush');
    expect(reportedRun(result).plan.engine.reason).toContain(
      'narrower than the replication scope (repositories)',
    );
    expect(callsOf(world, 'StartReplicationBackfill')).toEqual({});
    expect(callsOf(world, 'PutImage').ok).toBeGreaterThan(0);
    expect(result.report?.summary.counts).toMatchObject({ BACKFILLED: 8 });
  });

  it('chooses re-push when the backfill API does not answer', async () => {
    // Prepare
    world = await startWorld(registry(), LATENCY);
    world.emulator.faults.add({
      operation: 'ListReplicationBackfills',
      error: new EcrError('AccessDeniedException', 'not authorized to perform ecr:ListReplicationBackfills'),
    });

    // Act
    const result = await runLocally(world, { method: 'auto', dryRun: true });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(planOf(result).engine).toEqual({
      method: 'repush',
      reason:
        'method auto: the native backfill API is not available: ListReplicationBackfills failed with AccessDeniedException (not authorized to perform ecr:ListReplicationBackfills)',
    });
  });

  it('chooses re-push when destination tags point to another digest (replication would overwrite them)', async () => {
    // Prepare
    world = await startWorld(registry(), LATENCY);
    world.emulator.seedImage(
      { region: SEOUL, account: SEOUL_SAME_ACCOUNT.account, repository: 'team-0/service' },
      buildDockerImage('native/someone-elses', { layers: 1 }),
      { tags: ['v0'] },
    );

    // Act
    const result = await runLocally(world, { method: 'auto', dryRun: true });

    // Assess
    expect(planOf(result).counts.CONFLICT).toBe(1);
    expect(planOf(result).engine.method).toBe('repush');
    expect(planOf(result).engine.reason).toContain('1 destination tag(s) point to another digest');
  });

  it('chooses re-push while a backfill for another destination holds the Region', async () => {
    // Prepare: someone else's backfill to the other Seoul registry, stuck on one replication.
    world = await startWorld(registry(), LATENCY);
    world.emulator.replication.fail({
      mode: 'hang',
      destinationAccount: SEOUL_OTHER_ACCOUNT.account,
      times: 1,
    });
    const theirs = world.emulator.backfills.start(SOURCE.account, SOURCE.region, {
      region: SEOUL,
      registryId: SEOUL_OTHER_ACCOUNT.account,
    });

    // Act
    const result = await runLocally(world, { method: 'auto', dryRun: true });

    // Assess
    expect(planOf(result).engine.method).toBe('repush');
    expect(planOf(result).engine.reason).toContain(
      `a native backfill would have to queue: backfill ${theirs.id} (`,
    );
  });
});

/** Every selected tag in every destination at the source digest, and no temp tag anywhere. */
async function expectComplete(w: World): Promise<void> {
  await w.emulator.whenReplicationIdle();
  const after = w.emulator.snapshot();
  expect(missingDestinationTags(after, expectedDestinationTags(after, SOURCE))).toEqual([]);
  expect(tempTagsAnywhere(after)).toEqual([]);
}

/** A dry run's output is the PlannedRun. */
function planOf(result: BackfillRunResult): PlanSummary {
  return PlannedRunSchema.parse(result.output).plan;
}
