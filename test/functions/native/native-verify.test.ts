/**
 * NativeVerify against the emulator and s3rver: a real plan, a destination left in every state a
 * backfill can leave it in, and what the step makes of it — our own check, not the service's word.
 */
import { S3RunStore } from '../../../core/run-files/s3-run-store.ts';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  ARTIFACT_TYPES,
  buildDockerImage,
  buildOciIndex,
  buildReferrer,
} from '../../../local/ecr-emulator/images.ts';
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

  it('brings the referrers the backfill left out to a destination holding the image, and hands those of an image to repair to the re-push map', async () => {
    // Prepare: three signed images (one with an SBOM and its signature too), planned while the
    // destination is empty; the signatures are untagged, as a signer leaves them.
    const world = await freshWorld();
    const src = { region: SOURCE_REGION, repository: REPOSITORY };
    const withAll = buildDockerImage('verify-ref/with-all');
    const bare = buildDockerImage('verify-ref/bare');
    const absent = buildDockerImage('verify-ref/absent');
    const allSig = buildReferrer('verify-ref/with-all/sig', withAll, ARTIFACT_TYPES.notationSignature);
    const bareSig = buildReferrer('verify-ref/bare/sig', bare, ARTIFACT_TYPES.notationSignature);
    const bareSbom = buildReferrer('verify-ref/bare/sbom', bare, ARTIFACT_TYPES.spdxSbom);
    const sbomSig = buildReferrer('verify-ref/bare/sbom/sig', bareSbom, ARTIFACT_TYPES.cosignSignature);
    const absentSig = buildReferrer('verify-ref/absent/sig', absent, ARTIFACT_TYPES.notationSignature);
    world.emulator.seedImage(src, withAll, { tags: ['all'] });
    world.emulator.seedImage(src, bare, { tags: ['bare'] });
    world.emulator.seedImage(src, absent, { tags: ['absent'] });
    for (const referrer of [allSig, bareSig, bareSbom, sbomSig, absentSig])
      world.emulator.seedImage(src, referrer, { tags: [] });
    await world.replicate([{ destinations: [DESTINATION] }]);
    const planning = await runPlanning(world, { method: 'native' }, 'verify-referrers');
    // The backfill brought `all` with its signature, `bare` without its referrers, and not `absent`.
    const dst = { region: SEOUL, repository: REPOSITORY };
    world.emulator.seedImage(dst, withAll, { tags: ['all'] });
    world.emulator.seedImage(dst, allSig, { tags: [] });
    world.emulator.seedImage(dst, bare, { tags: ['bare'] });
    const backfillState = destinationState(planning.planned, {
      backfill: { id: 'bf-2', adopted: false, status: 'COMPLETE' },
      stalled: false,
    });
    world.emulator.callLog.clear();

    // Act
    const run = await nativeVerify({ ...planning.planned, nativeBackfills: [backfillState] }, world.deps);
    const rows = await readAll(world, run.native?.verifiedKey ?? '', ReportRowSchema);
    const repairs = await readAll(world, run.items.key, WorkItemSchema);

    // Assess: one row per referrer of an image that is there, with the image it follows and its type.
    const referrerRows = rows.filter((row) => row.referrerOf !== undefined);
    expect(
      referrerRows.map((row) => [row.imageDigest, row.referrerOf, row.artifactType, row.outcome, row.tag]),
    ).toEqual(
      expect.arrayContaining([
        [allSig.digest, withAll.digest, ARTIFACT_TYPES.notationSignature, 'NATIVE_BACKFILLED', ''],
        [bareSig.digest, bare.digest, ARTIFACT_TYPES.notationSignature, 'BACKFILLED', ''],
        [bareSbom.digest, bare.digest, ARTIFACT_TYPES.spdxSbom, 'BACKFILLED', ''],
        [sbomSig.digest, bare.digest, ARTIFACT_TYPES.cosignSignature, 'BACKFILLED', ''],
      ]),
    );
    expect(referrerRows).toHaveLength(4);
    // Copied untagged, the SBOM before its signature; nothing written in the source.
    const puts = world.emulator.callLog.entries({ operation: 'PutImage' });
    expect(puts.every((call) => call.region === SEOUL && call.params.imageTag === undefined)).toBe(true);
    const putDigests = puts.map((call) => String(call.params.imageDigest));
    expect([...putDigests].sort()).toEqual([bareSig.digest, bareSbom.digest, sbomSig.digest].sort());
    expect(putDigests.indexOf(bareSbom.digest)).toBeLessThan(putDigests.indexOf(sbomSig.digest));
    expect(world.emulator.callLog.entries({ operation: 'GetDownloadUrlForLayer' }).length).toBeGreaterThan(0);
    // The image still missing is repaired by the re-push map, its signature with it.
    expect(repairs.map((item) => [item.imageDigest, item.destinations.map((d) => d.referrers)])).toEqual([
      [absent.digest, [[absentSig.digest]]],
    ]);

    // A retry finds them all there: no second copy.
    world.emulator.callLog.clear();
    await nativeVerify({ ...planning.planned, nativeBackfills: [backfillState] }, world.deps);
    expect(world.emulator.callLog.entries({ operation: 'PutImage' })).toEqual([]);
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
