/**
 * PlanSlice reads repositories concurrently (a bounded read-ahead) and still writes the items file in
 * slice order; a failure is the first one in slice order, with no read left running.
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import { beforeEach, describe, expect, it } from 'vitest';
import type { PlanSliceEvent, WorkItem } from '../../../core/contracts/contracts.ts';
import type { EcrClientProvider } from '../../../core/deps.ts';
import { plan } from '../../../functions/plan/plan.ts';
import {
  planSlice,
  REPOSITORIES_READ_AT_ONCE,
  type PlanSliceDeps,
} from '../../../functions/plan-slice/plan-slice.ts';
import { getText } from '../../../core/run-files/run-store.ts';
import { S3RunStore } from '../../../core/run-files/s3-run-store.ts';
import { buildDockerImage } from '../../../local/ecr-emulator/images.ts';
import {
  BUCKET,
  OREGON,
  type PlanningWorld,
  planningWorldPerTest,
  SEOUL,
  SOURCE_ACCOUNT,
  SOURCE_REGION,
} from '../plan-support/world.ts';

const freshWorld = planningWorldPerTest();
let world: PlanningWorld;

/** More repositories than are read at once, so the read-ahead has to slide. */
const REPOSITORIES = Array.from(
  { length: REPOSITORIES_READ_AT_ONCE + 4 },
  (_, i) => `app-${String(i).padStart(2, '0')}`,
);
const DESTINATIONS = 2;

beforeEach(async () => {
  // A per-call latency, as in AWS: the reads overlap only if PlanSlice issues them concurrently.
  world = await freshWorld({ apiLatencyMs: 5 });
  for (const name of REPOSITORIES) {
    world.emulator.seedImage({ region: SOURCE_REGION, repository: name }, buildDockerImage(`${name}-1`), {
      tags: ['v1'],
    });
    world.emulator.seedImage({ region: SOURCE_REGION, repository: name }, buildDockerImage(`${name}-2`), {
      tags: ['v2'],
    });
  }
  await world.replicate([
    {
      destinations: [
        { region: SEOUL, registryId: SOURCE_ACCOUNT },
        { region: OREGON, registryId: SOURCE_ACCOUNT },
      ],
    },
  ]);
});

async function planned(executionName: string): Promise<PlanSliceEvent> {
  const context = await plan({ input: {}, executionName }, world.deps);
  expect(context.config.destinations).toHaveLength(DESTINATIONS);
  return {
    runId: context.runId,
    bucket: context.bucket,
    runPrefix: context.runPrefix,
    config: context.config,
    slice: { sliceIndex: 0, repositories: REPOSITORIES },
  };
}

/**
 * Counts the DescribeImages calls in flight at once, in all and per Region, as the SDK clients send
 * them (retries included).
 */
function countingDescribeImages(ecr: EcrClientProvider) {
  const counted = new WeakSet<ECRClient>();
  const total = { inFlight: 0, max: 0 };
  const byRegion = new Map<string, { inFlight: number; max: number }>();
  const provider: EcrClientProvider = (target) => {
    const client = ecr(target);
    if (!counted.has(client)) {
      counted.add(client);
      const region = { inFlight: 0, max: 0 };
      byRegion.set(target.region, region);
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName !== 'DescribeImagesCommand') return next(args);
          for (const counter of [total, region]) {
            counter.inFlight += 1;
            counter.max = Math.max(counter.max, counter.inFlight);
          }
          try {
            return await next(args);
          } finally {
            total.inFlight -= 1;
            region.inFlight -= 1;
          }
        },
        { step: 'initialize', name: 'countDescribeImagesInFlight' },
      );
    }
    return client;
  };
  return { provider, total, byRegion };
}

async function itemsOf(itemsKey: string): Promise<WorkItem[]> {
  const text = await getText(new S3RunStore(world.s3), BUCKET, itemsKey);
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as WorkItem);
}

describe('PlanSlice reads', () => {
  it('overlap, within the bound, and the items are written in slice order', async () => {
    const event = await planned('overlap');
    const counter = countingDescribeImages(world.deps.ecr);
    const deps: PlanSliceDeps = { ...world.deps, ecr: counter.provider };
    // The first repository answers last: a file written as reads complete would not start with it.
    world.emulator.faults.add({
      operation: 'DescribeImages',
      region: SOURCE_REGION,
      repository: REPOSITORIES[0],
      delayMs: 100,
    });

    const result = await planSlice(event, deps);

    // Several repositories at once in the source, never more than the bound; in all, at most the
    // bound's repositories times their destinations.
    const sourceMax = counter.byRegion.get(SOURCE_REGION)?.max ?? 0;
    expect(sourceMax).toBeGreaterThan(1);
    expect(sourceMax).toBeLessThanOrEqual(REPOSITORIES_READ_AT_ONCE);
    expect(counter.total.max).toBeLessThanOrEqual(REPOSITORIES_READ_AT_ONCE * DESTINATIONS);
    const items = await itemsOf(result.itemsKey);
    expect(items).toHaveLength(REPOSITORIES.length * 2);
    const repositoriesInFileOrder = items
      .map((item) => item.repositoryName)
      .filter((r, i, all) => all[i - 1] !== r);
    expect(repositoriesInFileOrder).toEqual(REPOSITORIES);
    expect(result.counts).toEqual({ MISSING: REPOSITORIES.length * 2 * DESTINATIONS });
  });

  it('fail with the first failing repository in slice order, and none is still reading when the slice fails', async () => {
    const event = await planned('first-failure');
    const counter = countingDescribeImages(world.deps.ecr);
    const deps: PlanSliceDeps = { ...world.deps, ecr: counter.provider };
    // app-01 fails late, app-03 (later in the slice) fails at once: app-01's failure is the slice's.
    world.emulator.faults.add({
      operation: 'DescribeImages',
      region: SOURCE_REGION,
      repository: REPOSITORIES[1],
      error: 'ServerException',
      delayMs: 50,
    });
    world.emulator.faults.add({
      operation: 'DescribeImages',
      region: SOURCE_REGION,
      repository: REPOSITORIES[3],
    });
    // app-02 is still being read when app-01 fails: the slice fails only once that read has ended.
    world.emulator.faults.add({
      operation: 'DescribeImages',
      region: SOURCE_REGION,
      repository: REPOSITORIES[2],
      delayMs: 200,
    });

    const error = await planSlice(event, deps).catch((e: unknown) => e);

    expect((error as Error).name).toBe('Transient');
    expect((error as Error).message).toContain(REPOSITORIES[1]);
    expect(counter.total.inFlight).toBe(0);
    expect(await world.keys('runs/first-failure/plan/')).toEqual([]);
  });
});
