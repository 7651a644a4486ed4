/**
 * One run per run id: Plan claims the run folder for its execution, refuses a folder another
 * execution claimed, and stays idempotent for its own retries and redrives.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { buildDockerImage } from '../../../local/ecr-emulator/images.ts';
import { plan } from '../../../functions/plan/plan.ts';
import { claimRunFolder } from '../../../functions/plan/run-owner.ts';
import { runIdFromExecutionName } from '../../../core/run-files/run-layout.ts';
import { InvalidInputError } from '../../../core/errors/errors.ts';
import { getText } from '../../../core/run-files/run-store.ts';
import { S3RunStore } from '../../../core/run-files/s3-run-store.ts';
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
let world: PlanningWorld;

beforeEach(async () => {
  world = await freshWorld();
  world.emulator.seedImage({ region: SOURCE_REGION, repository: 'app' }, buildDockerImage('app'), {
    tags: ['v1'],
  });
  await world.replicate([{ destinations: [{ region: SEOUL, registryId: SOURCE_ACCOUNT }] }]);
});

describe('run folder ownership', () => {
  it('refuses an execution whose name maps to a run id another execution already uses', async () => {
    // Prepare: `Nightly` is not a valid run id as such, so it maps to a sanitized name plus a hash;
    // an execution can be *named* exactly that.
    const runId = runIdFromExecutionName('Nightly');
    expect(runId).toMatch(/^nightly-[0-9a-f]{8}$/);
    await runPlanning(world, {}, 'Nightly');
    const before = (await world.keys(`runs/${runId}/`)).sort();
    const slices = await getText(new S3RunStore(world.s3), BUCKET, `runs/${runId}/slices.jsonl`);

    // Act
    const error = await plan({ input: { dryRun: true }, executionName: runId }, world.deps).then(
      () => undefined,
      (caught: unknown) => caught,
    );

    // Assess: named, not retried, and the first run's folder untouched.
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems).toEqual([
      `executionName: "${runId}" maps to run id "${runId}", whose run folder belongs to execution "Nightly"; start this execution under another name (run ids must be unique)`,
    ]);
    expect((await world.keys(`runs/${runId}/`)).sort()).toEqual(before);
    expect(await getText(new S3RunStore(world.s3), BUCKET, `runs/${runId}/slices.jsonl`)).toBe(slices);
  });

  it('lets the same execution plan again (a Step Functions retry of Plan, or a redrive)', async () => {
    const first = await runPlanning(world, {}, 'Nightly');

    const again = await runPlanning(world, {}, 'Nightly');

    expect(again.context).toEqual(first.context);
    expect(again.items).toEqual(first.items);
  });

  it('gives a run folder claimed by two executions at the same moment to exactly one of them', async () => {
    // Prepare: two names that map to the same run id, claiming at once (the local S3 answers the
    // loser's create-only write 412 or 409, as S3 does).
    const store = new S3RunStore(world.s3);
    const key = 'runs/race/execution.json';
    const names = ['Race', 'race-0001', 'RACE', 'Race!'];

    // Act
    const outcomes = await Promise.all(
      names.map((name) =>
        claimRunFolder(store, BUCKET, key, 'race', name).then(
          () => 'claimed',
          (error: unknown) => (error instanceof InvalidInputError ? 'refused' : String(error)),
        ),
      ),
    );

    // Assess: one owner, the others refused by name; the claim names the owner.
    expect(outcomes.filter((o) => o === 'claimed')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'refused')).toHaveLength(names.length - 1);
    const owner = names[outcomes.indexOf('claimed')];
    expect(JSON.parse(await getText(store, BUCKET, key))).toEqual({ executionName: owner });
  });
});
