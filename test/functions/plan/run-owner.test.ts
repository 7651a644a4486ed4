/**
 * One run per run id: Plan claims the run folder for its execution, refuses a folder another
 * execution claimed, and stays idempotent for its own retries and redrives.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { buildDockerImage } from '../../../local/ecr-emulator/images.ts';
import { plan } from '../../../functions/plan/plan.ts';
import { claimRunFolder } from '../../../functions/plan/run-owner.ts';
import { runIdFromExecutionName } from '../../../core/run-files/run-layout.ts';
import { InvalidInputError, RunNameReusedError } from '../../../core/errors/errors.ts';
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
        claimRunFolder(store, BUCKET, key, 'race', { executionName: name }).then(
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

  // Step Functions allows an execution name again after 90 days (API_StartExecution.html): the
  // folder of the earlier execution of that name is then still in the run bucket.
  describe('a name reused after 90 days', () => {
    const EARLIER = '2026-01-02T03:04:05.678Z';
    const LATER = '2026-04-05T06:07:08.900Z';

    it("refuses the later execution by name, giving the earlier one's start time, and writes nothing", async () => {
      // Prepare: the earlier execution planned its run.
      const runId = runIdFromExecutionName('nightly');
      await plan({ input: {}, executionName: 'nightly', executionStartTime: EARLIER }, world.deps);
      const before = (await world.keys(`runs/${runId}/`)).sort();
      const claim = await getText(new S3RunStore(world.s3), BUCKET, `runs/${runId}/execution.json`);
      expect(JSON.parse(claim)).toEqual({ executionName: 'nightly', executionStartTime: EARLIER });

      // Act: the same name, another execution (a later start).
      const error = await plan(
        { input: {}, executionName: 'nightly', executionStartTime: LATER },
        world.deps,
      ).then(
        () => undefined,
        (caught: unknown) => caught,
      );

      // Assess: the named refusal (never retried), the earlier start time in its message, and the
      // earlier run's folder untouched.
      expect(error).toBeInstanceOf(RunNameReusedError);
      expect((error as Error).name).toBe('RunNameReused');
      expect((error as Error).message).toContain(`used by an earlier execution started ${EARLIER}`);
      expect((error as Error).message).toContain('start this execution under a new name');
      expect((await world.keys(`runs/${runId}/`)).sort()).toEqual(before);
      expect(await getText(new S3RunStore(world.s3), BUCKET, `runs/${runId}/execution.json`)).toBe(claim);
    });

    it('lets the same execution (same start time, in another ISO form) plan again', async () => {
      const first = await plan(
        { input: {}, executionName: 'nightly', executionStartTime: EARLIER },
        world.deps,
      );

      const again = await plan(
        { input: {}, executionName: 'nightly', executionStartTime: '2026-01-02T03:04:05.678+00:00' },
        world.deps,
      );

      expect(again).toEqual(first);
    });

    it('refuses a reuse racing the claim: the loser reads back the other start time', async () => {
      const store = new S3RunStore(world.s3);
      const key = 'runs/reuse-race/execution.json';

      const outcomes = await Promise.all(
        [EARLIER, LATER].map((executionStartTime) =>
          claimRunFolder(store, BUCKET, key, 'reuse-race', {
            executionName: 'reuse-race',
            executionStartTime,
          }).then(
            () => 'claimed',
            (error: unknown) => (error instanceof RunNameReusedError ? 'reused' : String(error)),
          ),
        ),
      );

      expect(outcomes.sort()).toEqual(['claimed', 'reused']);
    });

    it('takes a claim written before start times were recorded as the same execution', async () => {
      const store = new S3RunStore(world.s3);
      const key = 'runs/legacy/execution.json';
      await store.create(
        BUCKET,
        key,
        Buffer.from(JSON.stringify({ executionName: 'legacy' })),
        'application/json',
      );

      await claimRunFolder(store, BUCKET, key, 'legacy', {
        executionName: 'legacy',
        executionStartTime: LATER,
      });

      expect(JSON.parse(await getText(store, BUCKET, key))).toEqual({ executionName: 'legacy' });
    });
  });
});
