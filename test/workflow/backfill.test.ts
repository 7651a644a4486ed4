/**
 * The synthesized state machine with the real handlers, the ECR emulator and s3rver: what a user
 * gets from `ecr-backfill local`, checked against the safety invariants (docs/architecture.md §3.2).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildDemoRegistry,
  DEMO_SOURCE_ACCOUNT,
  DEMO_SOURCE_REGION,
  DEMO_UNCOVERED_REPOSITORY,
} from '../../local/demo-registry.ts';
import { runBackfillLocally, type RunBackfillOptions } from '../../local/runner/run-backfill.ts';
import {
  backfillTemplate,
  digestsOf,
  expectedDestinationTags,
  generatedRegistry,
  missingDestinationTags,
  startWorld,
  tagsOf,
  tempTagsAnywhere,
  type World,
} from './helpers.ts';
import { writesIn } from '../support/ecr-writes.ts';

const SOURCE = { account: DEMO_SOURCE_ACCOUNT, region: DEMO_SOURCE_REGION };

describe('the backfill workflow, run locally', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  const run = (w: World, options: Partial<RunBackfillOptions> = {}) =>
    runBackfillLocally({
      ecrEndpoint: w.emulator.endpoint,
      s3: w.s3,
      sourceRegion: options.sourceRegion ?? DEMO_SOURCE_REGION,
      account: options.account ?? DEMO_SOURCE_ACCOUNT,
      template: backfillTemplate(),
      putImageRatePerSecond: 1000,
      ...options,
    });

  it('backfills every covered tag with the source digest, leaves no temp tag and the source as it was', async () => {
    // Prepare
    world = await startWorld(buildDemoRegistry());
    const before = world.emulator.snapshot();
    const expected = expectedDestinationTags(before, SOURCE);

    // Act
    // The re-push engine (auto would pick native for this whole-scope selection).
    const result = await run(world, { input: { batchSize: 3, method: 'repush' } });
    await world.emulator.whenReplicationIdle();
    const after = world.emulator.snapshot();

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(expected.length).toBeGreaterThan(20);
    expect(missingDestinationTags(after, expected)).toEqual([]);
    expect(tempTagsAnywhere(after)).toEqual([]);
    expect(tagsOf(after, SOURCE)).toEqual(tagsOf(before, SOURCE));
    expect(digestsOf(after, SOURCE)).toEqual(digestsOf(before, SOURCE));
    // The repository no rule covers was never written to, anywhere.
    const touched = writesIn(world.emulator.callLog.entries({ repositoryName: DEMO_UNCOVERED_REPOSITORY }));
    expect(touched).toEqual([]);
    // The report accounts for every tag, and the bill-relevant counters are there.
    expect(result.report?.summary.counts.BACKFILLED).toBe(expected.length - 1);
    expect(result.report?.summary.counts.ALREADY_PRESENT).toBe(1);
    expect(result.transitions).toBeGreaterThan(10);
    expect(result.invocations.Plan).toBe(1);
    expect(result.invocations.Summarize).toBe(1);
  });

  it('plans without writing anything to ECR on a dry run', async () => {
    // Prepare
    world = await startWorld(buildDemoRegistry());
    const before = world.emulator.snapshot();

    // Act
    const result = await run(world, { input: { dryRun: true } });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect((result.output as { plan: { items: number } }).plan.items).toBeGreaterThan(0);
    expect(writesIn(world.emulator.callLog.entries())).toEqual([]);
    expect(result.invocations.PushTempTags).toBeUndefined();
    expect(world.emulator.snapshot()).toEqual(before);
  });

  it('fails at Plan with InvalidInput naming every problem, and writes nothing', async () => {
    // Prepare
    world = await startWorld(buildDemoRegistry());

    // Act
    const result = await run(world, { input: { batchSize: 0, strategy: 'teleport' }, maxRedrives: 0 });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('InvalidInput');
    expect(result.execution.failedState?.name).toBe('Plan');
    const cause = JSON.parse(result.cause ?? '{}') as { errorMessage: string };
    expect(cause.errorMessage).toMatch(/batchSize/);
    expect(cause.errorMessage).toMatch(/strategy/);
    expect(writesIn(world.emulator.callLog.entries())).toEqual([]);
    expect(Object.keys(result.invocations)).toEqual(['Plan']);
  });

  it('handles more items than one batch and more batches than MaxConcurrency', async () => {
    // Prepare: 4 repositories × 6 images = 24 items; batches of 4 = 6 children, 2 at a time.
    const source = { account: '333333333333', region: 'us-west-2' };
    const destination = { account: '333333333333', region: 'us-east-2' };
    world = await startWorld(
      generatedRegistry({ ...source, destination, repositories: 4, imagesPerRepository: 6 }),
    );
    const expected = expectedDestinationTags(world.emulator.snapshot(), source);
    let running = 0;
    let maxRunning = 0;

    // Act
    const result = await run(world, {
      sourceRegion: source.region,
      account: source.account,
      input: { batchSize: 4, maxConcurrency: 2, planSliceSize: 2, method: 'repush' },
      onProgress: (_snapshot, event) => {
        if (event.type === 'execution-started' && !event.root && event.startAt === 'PushTempTags')
          running += 1;
        if (event.type === 'execution-finished' && !event.root && running > 0) {
          maxRunning = Math.max(maxRunning, running);
          running -= 1;
        }
      },
    });
    await world.emulator.whenReplicationIdle();

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const backfill = result.execution.mapRuns.find((mapRun) => mapRun.stateName === 'BackfillImages');
    const planning = result.execution.mapRuns.find((mapRun) => mapRun.stateName === 'PlanSlices');
    expect(backfill?.counts).toMatchObject({ itemsTotal: 24, childrenTotal: 6, succeeded: 6 });
    expect(backfill?.maxConcurrency).toBe(2);
    expect(maxRunning).toBe(2);
    expect(planning?.counts.childrenTotal).toBe(2);
    expect(result.invocations.PushTempTags).toBe(6);
    expect(missingDestinationTags(world.emulator.snapshot(), expected)).toEqual([]);
    expect(expected).toHaveLength(48);
  });
});
