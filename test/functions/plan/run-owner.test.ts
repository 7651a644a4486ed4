/**
 * One run per run id: Plan claims the run folder for its execution, refuses a folder another
 * execution claimed, and stays idempotent for its own retries and redrives.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { buildDockerImage } from '../../../local/ecr-emulator/images.ts';
import { plan } from '../../../functions/plan/plan.ts';
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
});
