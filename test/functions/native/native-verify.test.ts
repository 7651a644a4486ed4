/**
 * NativeVerify against the emulator and s3rver: a real plan, a destination left in every state a
 * backfill can leave it in, and what the step makes of it — our own check, not the service's word.
 */
import { S3RunStore } from '../../../core/run-files/s3-run-store.ts';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { buildDockerImage, buildOciIndex } from '../../../local/ecr-emulator/images.ts';
import {
  ReportRowSchema,
  WorkItemSchema,
  type NativeBackfillState,
  type PlannedRun,
} from '../../../core/contracts/contracts.ts';
import { readJsonLines } from '../../../core/run-files/run-store.ts';
import { nativeVerify } from '../../../functions/native-engine/native-verify/native-verify.ts';
import {
  BUCKET,
  type PlanningWorld,
  planningWorldPerTest,
  runPlanning,
  SEOUL,
  SOURCE_ACCOUNT,
  SOURCE_REGION,
} from '../plan-support/world.ts';

const freshWorld = planningWorldPerTest();

const REPOSITORY = 'shop/api';
const DESTINATION = { region: SEOUL, registryId: SOURCE_ACCOUNT };

/** The state the native map hands NativeVerify for DESTINATION of a planned run. */
function destinationState(
  planned: PlannedRun,
  outcome: Pick<NativeBackfillState, 'backfill' | 'stalled' | 'note'>,
): NativeBackfillState {
  return {
    runId: planned.runId,
    bucket: BUCKET,
    runPrefix: planned.runPrefix,
    sourceRegion: SOURCE_REGION,
    sourceRegistryId: SOURCE_ACCOUNT,
    replicationTimeoutMinutes: 30,
    destination: DESTINATION,
    ...outcome,
  };
}

async function readAll<T>(w: PlanningWorld, key: string, schema: z.ZodType<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of readJsonLines(new S3RunStore(w.s3), BUCKET, key, schema)) out.push(value);
  return out;
}

describe('NativeVerify', () => {
  it('reports what arrived at the source digest and turns everything else into repair items', async () => {
    // Prepare: six source images, planned while the destination is still empty.
    const world = await freshWorld();
    const src = { region: SOURCE_REGION, repository: REPOSITORY };
    const arrived = buildDockerImage('verify/arrived');
    const untaggedThere = buildDockerImage('verify/untagged-there');
    const absent = buildDockerImage('verify/absent');
    const elsewhere = buildDockerImage('verify/elsewhere');
    const index = buildOciIndex('verify/index');
    const bare = buildDockerImage('verify/bare');
    world.emulator.seedImage(src, arrived, { tags: ['v1', 'stable'] });
    world.emulator.seedImage(src, untaggedThere, { tags: ['v2'] });
    world.emulator.seedImage(src, absent, { tags: ['v3'] });
    world.emulator.seedImage(src, elsewhere, { tags: ['v4'] });
    world.emulator.seedImage(src, index, { tags: ['v5'] });
    world.emulator.seedImage(src, bare, { tags: [] });
    await world.replicate([{ destinations: [DESTINATION] }]);
    const planning = await runPlanning(world, { method: 'native', includeUntagged: true }, 'verify');

    // …then what a backfill left behind: some tags, a digest without its tag, a tag on another
    // digest, an index missing one of its children, an untagged image.
    const dst = { region: SEOUL, repository: REPOSITORY };
    world.emulator.seedImage(dst, arrived, { tags: ['v1', 'stable'] });
    world.emulator.seedImage(dst, untaggedThere, { tags: [] });
    world.emulator.seedImage(dst, buildDockerImage('verify/other'), { tags: ['v4'] });
    world.emulator.seedImage(dst, index, { tags: ['v5'] });
    const seoulRepository = world.emulator.world.requireRepository(SOURCE_ACCOUNT, SEOUL, REPOSITORY);
    world.emulator.world.deleteImage(seoulRepository, index.children[0]?.digest ?? '');
    world.emulator.seedImage(dst, bare, { tags: [] });
    const backfillState = destinationState(planning.planned, {
      backfill: {
        id: 'bf-1',
        adopted: false,
        status: 'COMPLETE',
        progress: { total: 7, completed: 7, failed: 0, failureCodes: [] },
      },
      stalled: false,
    });
    world.emulator.callLog.clear();

    // Act
    const run = await nativeVerify({ ...planning.planned, nativeBackfills: [backfillState] }, world.deps);
    const verified = await readAll(world, run.native?.verifiedKey ?? '', ReportRowSchema);
    const repairs = await readAll(world, run.items.key, WorkItemSchema);

    // Assess
    expect(verified.map((row) => `${row.tag}@${row.imageDigest}`).sort()).toEqual(
      [`stable@${arrived.digest}`, `v1@${arrived.digest}`, `@${bare.digest}`].sort(),
    );
    expect(verified.every((row) => row.outcome === 'NATIVE_BACKFILLED')).toBe(true);
    expect(verified[0]?.detail).toBe('verified at the source digest after replication backfill bf-1');
    const repairOf = (digest: string) =>
      repairs.find((item) => item.imageDigest === digest)?.destinations.map((d) => [d.tags, d.digestPresent]);
    expect(repairOf(untaggedThere.digest)).toEqual([[['v2'], true]]);
    expect(repairOf(absent.digest)).toEqual([[['v3'], false]]);
    expect(repairOf(elsewhere.digest)).toEqual([[['v4'], false]]);
    expect(repairOf(index.digest)).toEqual([[['v5'], false]]);
    expect(repairs).toHaveLength(4);
    expect(run.items).toEqual({
      key: `${planning.planned.runPrefix}/native/repair-items.jsonl`,
      count: 4,
      maxInputBytesPerBatch: expect.any(Number) as number,
    });
    // A repair item may list fewer destinations than its push reaches: the bound allows 25 extra ones.
    expect(run.items.maxInputBytesPerBatch).toBeLessThan(64 * 1024);
    expect(run.items.maxInputBytesPerBatch).toBeGreaterThan(8 * 1024);
    expect(run.native).toMatchObject({
      plannedItems: planning.planned.items,
      verified: 3,
      repair: 4,
      destinations: [
        {
          region: SEOUL,
          registryId: SOURCE_ACCOUNT,
          backfillId: 'bf-1',
          status: 'COMPLETE',
          verified: 3,
          repair: 4,
        },
      ],
    });
    expect(run).not.toHaveProperty('nativeBackfills');
    expect(world.writeCalls()).toBe(0);
  });

  it('reports a destination without a backfill as NOT_STARTED and hands all its images to the re-push engine', async () => {
    // Prepare
    const world = await freshWorld();
    world.emulator.seedImage(
      { region: SOURCE_REGION, repository: REPOSITORY },
      buildDockerImage('verify/x'),
      {
        tags: ['x1', 'x2'],
      },
    );
    await world.replicate([{ destinations: [DESTINATION] }]);
    const planning = await runPlanning(world, { method: 'native' }, 'not-started');
    const note = 'queued 30 min behind b-1: no native backfill for this destination';

    // Act
    const run = await nativeVerify(
      {
        ...planning.planned,
        nativeBackfills: [destinationState(planning.planned, { stalled: false, note })],
      },
      world.deps,
    );

    // Assess
    expect(run.items.count).toBe(1);
    expect(run.native?.destinations).toEqual([
      {
        region: SEOUL,
        registryId: SOURCE_ACCOUNT,
        adopted: false,
        status: 'NOT_STARTED',
        note,
        verified: 0,
        repair: 2,
      },
    ]);
  });

  it('removes a tag the backfill copied after its owner deleted it in the source (SOURCE_GONE), never a copy that was there before', async () => {
    // Prepare: planned while the destination lacks every tag; one digest ('before') is already
    // there, untagged.
    const world = await freshWorld();
    const src = { region: SOURCE_REGION, repository: REPOSITORY };
    const dst = { region: SEOUL, repository: REPOSITORY };
    const kept = buildDockerImage('verify/gone-kept');
    const lone = buildDockerImage('verify/gone-lone');
    const before = buildDockerImage('verify/gone-before');
    world.emulator.seedImage(src, kept, { tags: ['keep', 'gone'] });
    world.emulator.seedImage(src, lone, { tags: ['solo'] });
    world.emulator.seedImage(src, before, { tags: ['b1'] });
    world.emulator.seedImage(dst, before, { tags: [] });
    await world.replicate([{ destinations: [DESTINATION] }]);
    const planning = await runPlanning(world, { method: 'native' }, 'owner-deletes');
    // …then the backfill copies every tag it listed, while the owner deletes 'gone' (a tag) and the
    // images 'lone' and 'before' in the source: a backfill lists first and copies later.
    world.emulator.seedImage(dst, kept, { tags: ['keep', 'gone'] });
    world.emulator.seedImage(dst, lone, { tags: ['solo'] });
    const seoul = world.emulator.world.requireRepository(SOURCE_ACCOUNT, SEOUL, REPOSITORY);
    world.emulator.world.setTag(seoul, 'b1', before.digest);
    const source = world.emulator.world.requireRepository(SOURCE_ACCOUNT, SOURCE_REGION, REPOSITORY);
    world.emulator.world.removeTag(source, 'gone');
    world.emulator.world.deleteImage(source, lone.digest);
    world.emulator.world.deleteImage(source, before.digest);
    const backfillState = destinationState(planning.planned, {
      backfill: {
        id: 'bf-2',
        adopted: false,
        status: 'COMPLETE',
        progress: { total: 4, completed: 4, failed: 0, failureCodes: [] },
      },
      stalled: false,
    });

    // Act
    const run = await nativeVerify({ ...planning.planned, nativeBackfills: [backfillState] }, world.deps);
    const rows = await readAll(world, run.native?.verifiedKey ?? '', ReportRowSchema);

    // Assess: the deleted tags are gone from the destination again, the copy the run brought with
    // its last tag; the copy that was there before keeps its tag (removing it would delete the copy).
    const outcomeOf = (tag: string) => rows.find((row) => row.tag === tag);
    expect(outcomeOf('keep')).toMatchObject({ outcome: 'NATIVE_BACKFILLED' });
    expect(outcomeOf('gone')).toMatchObject({
      outcome: 'SOURCE_GONE',
      detail: "the tag was deleted in the source during the run; the backfill's copy of it removed",
    });
    expect(outcomeOf('solo')).toMatchObject({ outcome: 'SOURCE_GONE' });
    expect(outcomeOf('b1')).toMatchObject({
      outcome: 'SOURCE_GONE',
      detail: 'the tag was deleted in the source during the run; the copy that was here before keeps it',
    });
    const resolve = (tag: string) => world.emulator.world.resolveTag(SOURCE_ACCOUNT, SEOUL, REPOSITORY, tag);
    expect(resolve('gone')).toBeUndefined();
    expect(resolve('keep')).toBe(kept.digest);
    expect(resolve('solo')).toBeUndefined();
    expect(world.emulator.world.getImage(SOURCE_ACCOUNT, SEOUL, REPOSITORY, lone.digest)).toBeUndefined();
    expect(resolve('b1')).toBe(before.digest);
    expect(run.items.count).toBe(0);
  });
});
