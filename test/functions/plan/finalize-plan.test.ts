/** FinalizePlan: merging slice files, counting, refusing to finalize an incomplete plan. */
import { S3RunStore } from '../../../core/run-files/s3-run-store.ts';
import { beforeEach, describe, expect, it } from 'vitest';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { buildDockerImage } from '../../../local/ecr-emulator/images.ts';
import { PlanSliceItemSchema, type RunContext } from '../../../core/contracts/contracts.ts';
import { plan } from '../../../functions/plan/plan.ts';
import { planSlice } from '../../../functions/plan-slice/plan-slice.ts';
import { finalizePlan } from '../../../functions/finalize-plan/finalize-plan.ts';
import { batchSizeForRun } from '../../../core/contracts/batch-sizing.ts';
import { getJson, getText, readJsonLines } from '../../../core/run-files/run-store.ts';
import {
  BUCKET,
  PERMISSIVE_RUN_POLICY,
  type PlanningWorld,
  planningWorldPerTest,
  runPlanning,
  SEOUL,
  SOURCE_ACCOUNT,
  SOURCE_REGION,
} from '../plan-support/world.ts';

const freshWorld = planningWorldPerTest();
let world: PlanningWorld;

beforeEach(async () => {
  world = await freshWorld();
  for (let i = 0; i < 5; i++) {
    world.emulator.seedImage(
      { region: SOURCE_REGION, repository: `app-${i}` },
      buildDockerImage(`img-${i}`),
      {
        tags: ['v1'],
      },
    );
  }
  await world.replicate([{ destinations: [{ region: SEOUL, registryId: SOURCE_ACCOUNT }] }]);
});
/** Plan + every PlanSlice, without FinalizePlan. */
async function planSlices(executionName: string, input: Record<string, unknown>): Promise<RunContext> {
  const context = await plan({ input, executionName }, world.deps);
  for await (const slice of readJsonLines(
    new S3RunStore(world.s3),
    BUCKET,
    context.slices.key,
    PlanSliceItemSchema,
  )) {
    await planSlice({ ...context, slice }, world.deps);
  }
  return context;
}

describe('FinalizePlan', () => {
  it('cuts a small run into as many batches as run at once, and keeps full batches on a large one', async () => {
    // Act: 5 items, batches of at most 50, 2 at once → ceil(5 / 2) = 3 per batch (2 batches);
    // one at a time → one batch of all 5.
    const small = await runPlanning(world, { batchSize: 50, maxConcurrency: 2 }, 'small');
    const serial = await runPlanning(world, { batchSize: 50, maxConcurrency: 1 }, 'serial');

    // Assess: the Distributed Map reads $.config.batchSize from FinalizePlan's output, and plan.json says the same.
    expect(small.planned.config.batchSize).toBe(3);
    expect(serial.planned.config.batchSize).toBe(5);
    expect(await getJson(new S3RunStore(world.s3), BUCKET, 'runs/small/plan.json')).toMatchObject({
      config: { batchSize: 3 },
    });
    expect(batchSizeForRun(10_000, 50, 12)).toBe(50);
    expect(batchSizeForRun(98, 50, 12)).toBe(9);
    expect(batchSizeForRun(0, 50, 12)).toBe(50);
  });

  it('concatenates every slice into items.jsonl and writes plan.json', async () => {
    const run = await runPlanning(world, { planSliceSize: 2 }, 'merge');

    expect(run.context.slices.count).toBe(3);
    expect(run.items.map((i) => i.repositoryName).sort()).toEqual([
      'app-0',
      'app-1',
      'app-2',
      'app-3',
      'app-4',
    ]);
    expect(run.planned.items.count).toBe(5);
    expect(run.planned.plan).toMatchObject({
      items: 5,
      tags: 5,
      counts: { MISSING: 5 },
      putImageCalls: { [SOURCE_REGION]: 5, [SEOUL]: 5 },
      quotaBoundSeconds: 30.5,
    });
    // The default method, auto, on a whole-scope selection with the backfill API answering.
    expect(run.planned.plan.engine.method).toBe('native');
    expect(run.planned.plan.engine.reason).toMatch(
      /^method auto: the selection is the whole replication scope/,
    );
    expect(run.planned.plan.estimatedCostUsd).toBeGreaterThan(0);
    expect(await getJson(new S3RunStore(world.s3), BUCKET, 'runs/merge/plan.json')).toEqual(run.planned);
  });

  it('gives the same result when run again', async () => {
    const context = await planSlices('again', { planSliceSize: 2 });

    const first = await finalizePlan(context, world.deps);
    const firstItems = await getText(new S3RunStore(world.s3), BUCKET, first.items.key);
    const second = await finalizePlan(context, world.deps);

    expect(second).toEqual(first);
    expect(await getText(new S3RunStore(world.s3), BUCKET, second.items.key)).toBe(firstItems);
  });

  it('fails with Transient, writing nothing, while a slice summary is missing', async () => {
    const context = await planSlices('incomplete', { planSliceSize: 2 });
    await world.s3.send(
      new DeleteObjectCommand({ Bucket: BUCKET, Key: 'runs/incomplete/plan/slice-1.summary.json' }),
    );

    const error = await finalizePlan(context, world.deps).catch((e: unknown) => e);

    expect((error as Error).name).toBe('Transient');
    expect((error as Error).message).toContain('Slice 1 of 3 has no summary yet');
    expect(await world.keys('runs/incomplete/items')).toEqual([]);
    expect(await world.keys('runs/incomplete/plan.json')).toEqual([]);
  });

  it('fails with Transient when a slice file and its summary disagree', async () => {
    const context = await planSlices('torn', { planSliceSize: 2 });
    await world.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'runs/torn/plan/slice-0.jsonl',
        Body: Buffer.from('{}\n'),
      }),
    );

    const error = await finalizePlan(context, world.deps).catch((e: unknown) => e);

    expect((error as Error).name).toBe('Transient');
    expect((error as Error).message).toMatch(/holds 1 items, its summary says 2/);
    expect(await world.keys('runs/torn/items')).toEqual([]);
  });

  it('counts retag-source PutImage calls in the source only', async () => {
    world.deps.env.runPolicy = PERMISSIVE_RUN_POLICY;
    const run = await runPlanning(world, { strategy: 'retag-source' }, 'retag');

    expect(run.planned.plan.putImageCalls).toEqual({ [SOURCE_REGION]: 10 });
    expect(run.planned.plan.quotaBoundSeconds).toBe(31);
  });

  it('computes the quota bound (and so the ETA) at the deployment’s whole PutImage rate', async () => {
    // A deployment whose quota was raised to 100/s (PUT_IMAGE_QUOTA): 10 calls take 0.1 s, not 1 s.
    world.deps.env.runPolicy = PERMISSIVE_RUN_POLICY;
    world.deps.env.putImageQuotaPerSecond = 100;
    const run = await runPlanning(world, { strategy: 'retag-source' }, 'raised');

    expect(run.planned.plan.putImageCalls).toEqual({ [SOURCE_REGION]: 10 });
    expect(run.planned.plan.quotaBoundSeconds).toBe(30.1);
  });
});
