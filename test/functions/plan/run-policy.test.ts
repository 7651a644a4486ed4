/**
 * The deployer's run policy, enforced by Plan: an input outside it is InvalidInput naming the rule,
 * with nothing written to ECR or S3; the repository scope bounds what is planned.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { buildDockerImage } from '../../../local/ecr-emulator/images.ts';
import { plan } from '../../../functions/plan/plan.ts';
import { InvalidInputError } from '../../../core/errors/errors.ts';
import { DEFAULT_RUN_POLICY, type RunPolicy } from '../../../core/contracts/run-policy.ts';
import {
  type PlanningWorld,
  planningWorldPerTest,
  runPlanning,
  SEOUL,
  SOURCE_ACCOUNT,
  SOURCE_REGION,
} from '../plan-support/world.ts';

const freshWorld = planningWorldPerTest();

async function worldWith(
  runPolicy?: RunPolicy,
  defaultInput?: Record<string, unknown>,
): Promise<PlanningWorld> {
  const world = await freshWorld({
    ...(runPolicy ? { runPolicy } : {}),
    ...(defaultInput ? { defaultInput } : {}),
  });
  for (const repository of ['team-a/api', 'team-a/web', 'team-b/api']) {
    world.emulator.seedImage({ region: SOURCE_REGION, repository }, buildDockerImage(repository), {
      tags: ['v1'],
    });
  }
  await world.replicate([{ destinations: [{ region: SEOUL, registryId: SOURCE_ACCOUNT }] }]);
  return world;
}

/** Plan's error for `input`, after checking that it wrote nothing anywhere. */
async function refused(world: PlanningWorld, input: Record<string, unknown>): Promise<string[]> {
  const error = await plan({ input, executionName: 'refused' }, world.deps).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InvalidInputError);
  expect((error as Error).name).toBe('InvalidInput');
  expect(await world.keys('runs/refused')).toEqual([]);
  expect(world.writeCalls()).toBe(0);
  return (error as InvalidInputError).problems;
}

describe('the default run policy (what the construct deploys unless told otherwise)', () => {
  let world: PlanningWorld;
  beforeEach(async () => {
    world = await worldWith();
  });

  it('refuses retag-source, overwriteConflicts and a concurrency above the limit, all named at once', async () => {
    const problems = await refused(world, {
      strategy: 'retag-source',
      overwriteConflicts: true,
      maxConcurrency: 10_000,
    });

    expect(problems).toEqual([
      expect.stringMatching(/^strategy: "retag-source" is not allowed .*allowed: promote/),
      expect.stringMatching(/^overwriteConflicts: not allowed /),
      `maxConcurrency: must be ≤ ${DEFAULT_RUN_POLICY.maxConcurrencyLimit}, this deployment's limit (got 10000; the construct's maxConcurrencyLimit)`,
    ]);
    expect(DEFAULT_RUN_POLICY.maxConcurrencyLimit).toBe(600);
  });

  it('accepts {} and the concurrency limit itself', async () => {
    const run = await runPlanning(world, { maxConcurrency: 600 }, 'at-limit');

    expect(run.planned.config.maxConcurrency).toBe(600);
    expect(run.planned.config.strategy).toBe('promote');
  });
});

describe('a deployer policy', () => {
  it('cannot be widened through the deploy-time default input either', async () => {
    const world = await worldWith(DEFAULT_RUN_POLICY, { strategy: 'retag-source' });

    const problems = await refused(world, {});

    expect(problems).toEqual([expect.stringMatching(/^strategy: "retag-source" is not allowed/)]);
  });

  it('clamps the default maxConcurrency to a lower limit instead of refusing {}', async () => {
    const world = await worldWith({ ...DEFAULT_RUN_POLICY, maxConcurrencyLimit: 4 });

    const run = await runPlanning(world, { batchSize: 1 }, 'clamped');

    expect(run.planned.config.maxConcurrency).toBe(4);
    expect(await refused(world, { maxConcurrency: 5 })).toEqual([
      expect.stringMatching(/^maxConcurrency: must be ≤ 4, this deployment's limit \(got 5;/),
    ]);
  });

  it('bounds method, includeUntagged, includeArchived and replicationTimeoutMinutes; an omitted one yields to the policy', async () => {
    const world = await worldWith({
      ...DEFAULT_RUN_POLICY,
      allowedMethods: ['repush', 'native'],
      allowIncludeUntagged: false,
      allowIncludeArchived: false,
      maxReplicationTimeoutMinutes: 20,
    });

    // {} asks for method auto and a 30-minute timeout by default: neither is refused, both yield.
    const run = await runPlanning(world, {}, 'yielding-defaults');
    expect(run.planned.config).toMatchObject({ method: 'repush', replicationTimeoutMinutes: 20 });
    expect(
      await refused(world, {
        method: 'auto',
        includeUntagged: true,
        includeArchived: true,
        replicationTimeoutMinutes: 21,
      }),
    ).toEqual([
      expect.stringMatching(
        /^method: "auto" is not allowed by this deployment's run policy \(allowed: repush, native;/,
      ),
      expect.stringMatching(/^includeUntagged: not allowed by this deployment's run policy/),
      expect.stringMatching(/^includeArchived: not allowed by this deployment's run policy/),
      expect.stringMatching(/^replicationTimeoutMinutes: must be ≤ 20, this deployment's limit \(got 21;/),
    ]);
  });

  it('allows what it allows', async () => {
    const world = await worldWith({
      ...DEFAULT_RUN_POLICY,
      allowedStrategies: ['promote', 'retag-source'],
      allowOverwriteConflicts: true,
    });

    const run = await runPlanning(world, { strategy: 'retag-source', overwriteConflicts: true }, 'allowed');

    expect(run.planned.config).toMatchObject({ strategy: 'retag-source', overwriteConflicts: true });
  });

  it('bounds the repositories: {} and * plan only the scope, a selection outside it is refused', async () => {
    const world = await worldWith({ ...DEFAULT_RUN_POLICY, repositoryScope: ['team-a/'] });

    for (const input of [{}, { repositories: ['*'] }, { repositories: ['team-'] }]) {
      const run = await runPlanning(
        world,
        input,
        `scoped-${Object.keys(input).length}-${JSON.stringify(input).length}`,
      );
      expect(run.items.map((item) => item.repositoryName).sort()).toEqual(['team-a/api', 'team-a/web']);
    }
    expect(await refused(world, { repositories: ['team-b/', 'team-a/api', 'other*'] })).toEqual([
      expect.stringMatching(
        /^repositories\[0\]: "team-b\/" is outside this deployment's repository scope \(team-a\/;/,
      ),
      expect.stringMatching(/^repositories\[2\]: "other\*" is outside/),
    ]);
  });
});
