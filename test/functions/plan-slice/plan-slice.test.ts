/** PlanSlice on its own: idempotent reruns, failures that leave nothing half-written, edge cases. */
import { S3RunStore } from '../../../core/run-files/s3-run-store.ts';
import { beforeEach, describe, expect, it } from 'vitest';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { buildDockerImage } from '../../../local/ecr-emulator/images.ts';
import type { PlanSliceEvent, RunContext } from '../../../core/contracts/contracts.ts';
import { plan } from '../../../functions/plan/plan.ts';
import { planSlice } from '../../../functions/plan-slice/plan-slice.ts';
import { createPlanSliceHandler } from '../../../functions/plan-slice/handler.ts';
import { getText } from '../../../core/run-files/run-store.ts';
import {
  BUCKET,
  type PlanningWorld,
  planningWorldPerTest,
  SEOUL,
  SOURCE_ACCOUNT,
  SOURCE_REGION,
} from '../plan-support/world.ts';

const freshWorld = planningWorldPerTest();
let world: PlanningWorld;
let context: RunContext;

beforeEach(async () => {
  world = await freshWorld();
  for (const name of ['app-a', 'app-b', 'app-c']) {
    world.emulator.seedImage({ region: SOURCE_REGION, repository: name }, buildDockerImage(name), {
      tags: ['v1', 'v2'],
    });
  }
  await world.replicate([{ destinations: [{ region: SEOUL, registryId: SOURCE_ACCOUNT }] }]);
});
async function planned(executionName: string): Promise<PlanSliceEvent> {
  context = await plan({ input: {}, executionName }, world.deps);
  return {
    runId: context.runId,
    bucket: context.bucket,
    runPrefix: context.runPrefix,
    config: context.config,
    slice: { sliceIndex: 0, repositories: ['app-a', 'app-b', 'app-c'] },
  };
}

describe('PlanSlice', () => {
  it('writes the same item file and summary when run again', async () => {
    const event = await planned('rerun');

    const first = await planSlice(event, world.deps);
    const firstItems = await getText(new S3RunStore(world.s3), BUCKET, first.itemsKey);
    const second = await planSlice(event, world.deps);

    expect(second).toEqual(first);
    expect(await getText(new S3RunStore(world.s3), BUCKET, second.itemsKey)).toBe(firstItems);
    expect(
      JSON.parse(await getText(new S3RunStore(world.s3), BUCKET, 'runs/rerun/plan/slice-0.summary.json')),
    ).toEqual(first);
    expect(first).toMatchObject({
      items: 3,
      counts: { MISSING: 6 },
      putImageCalls: { [SOURCE_REGION]: 3, [SEOUL]: 6 },
    });
    expect(world.writeCalls()).toBe(0);
  });

  it('fails with Throttled and leaves no slice files when ECR throttles mid-slice', async () => {
    const event = await planned('throttled');
    world.emulator.faults.add({ operation: 'DescribeImages', region: SOURCE_REGION, repository: 'app-c' });

    const error = await planSlice(event, world.deps).catch((e: unknown) => e);

    expect((error as Error).name).toBe('Throttled');
    expect(await world.keys('runs/throttled/plan/')).toEqual([]);
  });

  it('skips a repository deleted since Plan listed it and plans the others', async () => {
    const event = await planned('gone');
    world.emulator.world.deleteRepository(SOURCE_ACCOUNT, SOURCE_REGION, 'app-b');

    const result = await planSlice(event, world.deps);

    expect(result.items).toBe(2);
    expect(result.counts.SKIPPED_REPOSITORY_GONE).toBe(1);
  });

  it('needs the replication snapshot Plan wrote (no DescribeRegistry of its own)', async () => {
    const event = await planned('no-snapshot');
    await world.s3.send(
      new DeleteObjectCommand({ Bucket: BUCKET, Key: 'runs/no-snapshot/replication.json' }),
    );
    world.emulator.callLog.clear();

    const error = await planSlice(event, world.deps).catch((e: unknown) => e);

    expect((error as Error).name).toBe('Transient');
    expect((error as Error).message).toContain('replication snapshot');
    expect(world.emulator.callLog.count({ operation: 'DescribeRegistry' })).toBe(0);
  });

  it('rejects a malformed event as InvalidInput naming the mismatches', async () => {
    const handler = createPlanSliceHandler(world.deps);

    const error = await handler({ runId: 'x', slice: { sliceIndex: 'zero' } }).catch((e: unknown) => e);

    expect((error as Error).name).toBe('InvalidInput');
    expect((error as Error).message).toContain('PlanSlice event slice.sliceIndex');
    expect((error as Error).message).toContain('PlanSlice event config');
  });
});
