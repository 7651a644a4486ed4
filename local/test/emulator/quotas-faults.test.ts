import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  PutImageCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { afterEach, describe, expect, it } from 'vitest';
import { buildDockerImage, type WorldEvent } from '../../ecr-emulator/index.ts';
import { errorOf, sleep, startHarness, type Harness } from './helpers.ts';

const REGION = 'eu-central-1';
const ACCOUNT = '111111111111';

async function outcomes(calls: (() => Promise<unknown>)[]): Promise<string[]> {
  const settled = await Promise.allSettled(calls.map((call) => call()));
  return settled.map((s) => (s.status === 'fulfilled' ? 'ok' : (s.reason as Error).name));
}

describe('quotas', () => {
  let h: Harness | undefined;
  afterEach(() => h?.close());

  it('throttles PutImage beyond the scaled bucket and refills it at the scaled rate', async () => {
    // Prepare: PutImage is 10/s by default; scale 0.5 → 5/s with a burst of 5.
    h = await startHarness({ quotaScale: 0.5 });
    const ecr = h.client(REGION);
    const image = buildDockerImage('quota/put');
    h.emulator.seedImage({ region: REGION, repository: 'app' }, image, { tags: ['v1'] });
    const put = () =>
      ecr.send(new PutImageCommand({ repositoryName: 'app', imageManifest: image.manifest, imageTag: 'v1' }));

    // Act
    const burst = await outcomes(Array.from({ length: 25 }, () => put));
    await sleep(420);
    const refill = await outcomes(Array.from({ length: 6 }, () => put));

    // Assess: calls within the bucket reach the operation (ImageAlreadyExists), the rest are throttled.
    const passed = burst.filter((o) => o !== 'ThrottlingException').length;
    expect(passed).toBeGreaterThanOrEqual(5);
    expect(passed).toBeLessThanOrEqual(7); // + refill while the burst is in flight
    expect(burst.filter((o) => o === 'ThrottlingException')).toHaveLength(25 - passed);
    const refilled = refill.filter((o) => o !== 'ThrottlingException').length;
    expect(refilled).toBeGreaterThanOrEqual(2);
    expect(refilled).toBeLessThanOrEqual(4);
    expect(h.emulator.callLog.count({ operation: 'PutImage', throttled: true })).toBe(31 - passed - refilled);
  });

  it('keeps separate buckets per Region and answers 400 ThrottlingException', async () => {
    // Prepare: Describe* has no published quota; the emulator's 20/s at scale 0.05 → 1/s, burst 1.
    h = await startHarness({ quotaScale: 0.05 });
    const here = h.client(REGION);
    const there = h.client('us-east-1');
    const describe = (client: ECRClient) => () => client.send(new DescribeRepositoriesCommand({}));

    // Act
    const inHere = await outcomes([describe(here), describe(here)]);
    const inThere = await outcomes([describe(there)]);
    const error = await errorOf(describe(here));

    // Assess
    expect(inHere).toEqual(['ok', 'ThrottlingException']);
    expect(inThere).toEqual(['ok']);
    expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(400);
  });

  it('does not throttle replication itself', async () => {
    // Prepare: with PutImage at 1/s, replication to two destinations must still complete at once.
    h = await startHarness({ quotaScale: 0.1 });
    h.emulator.world.setReplicationConfiguration(ACCOUNT, REGION, {
      rules: [
        {
          destinations: [
            { region: 'eu-west-1', registryId: ACCOUNT },
            { region: 'eu-west-3', registryId: ACCOUNT },
          ],
        },
      ],
    });
    const images = Array.from({ length: 5 }, (_, i) => buildDockerImage(`quota/replicate/${i}`));
    for (const [i, image] of images.entries()) {
      h.emulator.seedImage({ region: REGION, repository: 'app' }, image, {
        tags: [`t${i}`],
        replicate: true,
      });
    }

    // Act
    await h.emulator.whenReplicationIdle();

    // Assess
    for (const region of ['eu-west-1', 'eu-west-3']) {
      expect(h.emulator.world.getRepository(ACCOUNT, region, 'app')?.images.size).toBe(5);
    }
  });
});

describe('fault injection', () => {
  let h: Harness | undefined;
  let other: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    await other?.close();
    other = undefined;
  });

  const sequence = async (harness: Harness) => {
    const ecr = harness.client(REGION);
    const result: string[] = [];
    for (let i = 0; i < 60; i += 1) {
      result.push(
        await ecr.send(new DescribeRepositoriesCommand({})).then(
          () => 'ok',
          (error: Error) => error.name,
        ),
      );
    }
    return result;
  };

  it('fails the same calls for the same seed and call order, with both throttling and server errors', async () => {
    // Prepare
    h = await startHarness({ faultRate: 0.3, seed: 42 });
    other = await startHarness({ faultRate: 0.3, seed: 42 });
    const third = await startHarness({ faultRate: 0.3, seed: 7 });

    // Act
    const first = await sequence(h);
    const second = await sequence(other);
    const different = await sequence(third);
    await third.close();

    // Assess
    expect(second).toEqual(first);
    expect(different).not.toEqual(first);
    expect(first).toContain('ThrottlingException');
    expect(first).toContain('ServerException');
    const failed = first.filter((o) => o !== 'ok').length;
    expect(failed).toBeGreaterThan(8);
    expect(failed).toBeLessThan(30);
    expect(h.emulator.callLog.entries({ outcome: 'ServerException' }).every((e) => e.injected)).toBe(true);
  });

  it('a call failed before its effect changes nothing', async () => {
    // Prepare
    h = await startHarness();
    const ecr = h.client(REGION);
    h.emulator.faults.add({ operation: 'CreateRepository', error: 'ServerException' });

    // Act
    const error = await errorOf(() => ecr.send(new CreateRepositoryCommand({ repositoryName: 'app' })));

    // Assess
    expect(error.name).toBe('ServerException');
    expect(error.$metadata?.httpStatusCode).toBe(500);
    expect(h.emulator.world.getRepository(ACCOUNT, REGION, 'app')).toBeUndefined();
  });

  it('scripts faults by operation and Region, a number of times, after N successful calls', async () => {
    // Prepare
    h = await startHarness();
    const here = h.client(REGION);
    const there = h.client('us-east-1');
    const handle = h.emulator.faults.add({
      operation: 'DescribeRepositories',
      region: REGION,
      after: 1,
      times: 2,
    });
    const describe = (client: ECRClient) => () => client.send(new DescribeRepositoriesCommand({}));

    // Act
    const results: string[] = [];
    for (const call of [describe(here), describe(there), describe(here), describe(here), describe(here)]) {
      results.push(...(await outcomes([call])));
    }

    // Assess
    expect(results).toEqual(['ok', 'ok', 'ThrottlingException', 'ThrottlingException', 'ok']);
    expect(handle.hits).toBe(2);
  });

  it('a fault after the effect loses the response but keeps the change (idempotency)', async () => {
    // Prepare
    h = await startHarness();
    const ecr = h.client(REGION);
    const image = buildDockerImage('faults/after');
    h.emulator.seedImage({ region: REGION, repository: 'app' }, image, { tags: ['v1'] });
    h.emulator.faults.add({ operation: 'PutImage', when: 'after', error: 'ServerException' });
    const put = () =>
      ecr.send(
        new PutImageCommand({ repositoryName: 'app', imageManifest: image.manifest, imageTag: 'tmp' }),
      );

    // Act
    const lost = await errorOf(put);
    const retried = await errorOf(put);

    // Assess
    expect(lost.name).toBe('ServerException');
    expect(h.emulator.world.resolveTag(ACCOUNT, REGION, 'app', 'tmp')).toBe(image.digest);
    expect(retried.name).toBe('ImageAlreadyExistsException');
  });

  it('can drop the connection without any response', async () => {
    // Prepare
    h = await startHarness();
    const ecr = h.client(REGION);
    h.emulator.faults.add({ operation: 'CreateRepository', error: 'NetworkError' });

    // Act
    const error = await errorOf(() => ecr.send(new CreateRepositoryCommand({ repositoryName: 'app' })));

    // Assess
    expect(error.$metadata?.httpStatusCode).toBeUndefined();
    expect(h.emulator.world.getRepository(ACCOUNT, REGION, 'app')).toBeUndefined();
    expect(h.emulator.callLog.entries({ operation: 'CreateRepository' }).map((e) => e.outcome)).toEqual([
      'NetworkError',
    ]);
  });
});

describe('observability', () => {
  let h: Harness | undefined;
  afterEach(() => h?.close());

  it('logs every call with its Region, account, parameters and outcome', async () => {
    // Prepare
    h = await startHarness();
    const ecr = h.client(REGION);
    const image = buildDockerImage('log/one');
    h.emulator.seedImage({ region: REGION, repository: 'app' }, image, { tags: ['v1'] });

    // Act
    await ecr.send(
      new PutImageCommand({
        repositoryName: 'app',
        imageManifest: image.manifest,
        imageTag: 'v2',
        imageDigest: image.digest,
      }),
    );
    await errorOf(() =>
      ecr.send(new PutImageCommand({ repositoryName: 'app', imageManifest: image.manifest, imageTag: 'v2' })),
    );

    // Assess
    const entries = h.emulator.callLog.entries({ operation: 'PutImage' });
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      operation: 'PutImage',
      region: REGION,
      account: ACCOUNT,
      params: { repositoryName: 'app', imageTag: 'v2', imageDigest: image.digest },
      outcome: 'ok',
      throttled: false,
    });
    expect(entries[1]?.outcome).toBe('ImageAlreadyExistsException');
    expect(entries[1]?.seq).toBeGreaterThan(entries[0]?.seq ?? Infinity);
  });

  it('emits world events for every tag change and snapshots the state as plain JSON', async () => {
    // Prepare
    h = await startHarness();
    const ecr = h.client(REGION);
    const image = buildDockerImage('events/one');
    h.emulator.seedImage({ region: REGION, repository: 'app' }, image, { tags: ['v1'] });
    const events: WorldEvent[] = [];
    const unsubscribe = h.emulator.world.on((event) => events.push(event));

    // Act
    await ecr.send(
      new PutImageCommand({ repositoryName: 'app', imageManifest: image.manifest, imageTag: 'v2' }),
    );
    unsubscribe();
    const snapshot = JSON.parse(JSON.stringify(h.emulator.snapshot())) as ReturnType<
      NonNullable<typeof h>['emulator']['snapshot']
    >;

    // Assess
    expect(events).toEqual([
      {
        type: 'tag-set',
        account: ACCOUNT,
        region: REGION,
        repository: 'app',
        tag: 'v2',
        digest: image.digest,
      },
    ]);
    const repository = snapshot.registries.find((r) => r.region === REGION)?.repositories[0];
    expect(repository?.name).toBe('app');
    expect(repository?.images[0]).toMatchObject({
      digest: image.digest,
      tags: ['v1', 'v2'],
      status: 'ACTIVE',
    });
  });
});
