import {
  DescribeReplicationBackfillResultsCommand,
  ListReplicationBackfillsCommand,
  StartReplicationBackfillCommand,
  StopReplicationBackfillCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { afterEach, describe, expect, it } from 'vitest';
import { buildDockerImage, buildOciIndex } from '../../ecr-emulator/index.ts';
import { errorOf, startHarness, type Harness } from './helpers.ts';

const SOURCE = 'ap-south-1';
const DEST = 'ap-northeast-2';
const ACCOUNT = '111111111111';

describe('native replication backfill', () => {
  let h: Harness | undefined;
  afterEach(() => h?.close());

  const setup = async (options: { latency?: number; batch?: number; destinations?: string[] } = {}) => {
    h = await startHarness({
      replicationLatencyMs: options.latency ?? 15,
      backfillBatchSize: options.batch ?? 50,
    });
    h.emulator.world.setReplicationConfiguration(ACCOUNT, SOURCE, {
      rules: [
        {
          destinations: (options.destinations ?? [DEST]).map((region) => ({ region, registryId: ACCOUNT })),
          repositoryFilters: [{ filter: 'shop', filterType: 'PREFIX_MATCH' }],
        },
      ],
    });
    return { harness: h, ecr: h.client(SOURCE) };
  };
  const describeBackfill = (
    ecr: ECRClient,
    id: string | undefined,
    extra: { maxResults?: number; nextToken?: string; resultStatusFilter?: 'COMPLETE' | 'FAILED' } = {},
  ) => ecr.send(new DescribeReplicationBackfillResultsCommand({ replicationBackfillId: id, ...extra }));
  const seed = (harness: Harness, repository: string, count: number) => {
    for (let i = 0; i < count; i += 1) {
      harness.emulator.seedImage(
        { region: SOURCE, repository },
        buildDockerImage(`${repository}/${i}`, { layers: 1, indent: 0 }),
        {
          tags: [`t${i}`],
        },
      );
    }
  };

  it('replicates the existing images the rules cover, counting each image and tag, with results only at the end', async () => {
    // Prepare
    const { harness, ecr } = await setup({ latency: 60_000 });
    const index = buildOciIndex('backfill/index');
    harness.emulator.seedImage({ region: SOURCE, repository: 'shop/api' }, index, { tags: ['v1', 'latest'] });
    harness.emulator.seedImage(
      { region: SOURCE, repository: 'shop/api' },
      buildDockerImage('backfill/untagged'),
    );
    harness.emulator.seedImage(
      { region: SOURCE, repository: 'other/repo' },
      buildDockerImage('backfill/other'),
      { tags: ['x'] },
    );

    // Act
    const started = await ecr.send(
      new StartReplicationBackfillCommand({ destination: { region: DEST, registryId: ACCOUNT } }),
    );
    const early = await describeBackfill(ecr, started.replicationBackfillId);
    harness.emulator.replication.flush();
    const done = await describeBackfill(ecr, started.replicationBackfillId);

    // Assess
    expect(started.status).toBe('PREPARING');
    expect(early.status).toBe('PREPARING');
    // No progress until preparation completes (null, not zeros).
    expect(early.progress ?? null).toBeNull();
    expect(early.results).toEqual([]);
    expect(done.status).toBe('COMPLETE');
    expect(done.progress).toEqual({
      totalReplicationCount: 3,
      completedReplicationCount: 3,
      failedReplicationCount: 0,
      failureCodes: [],
    });
    expect(done.results?.map((r) => r.imageId?.imageTag ?? '(untagged)').sort()).toEqual([
      '(untagged)',
      'latest',
      'v1',
    ]);
    expect(done.endedAt).toBeInstanceOf(Date);
    expect(harness.emulator.world.resolveTag(ACCOUNT, DEST, 'shop/api', 'latest')).toBe(index.digest);
    expect(harness.emulator.world.getRepository(ACCOUNT, DEST, 'other/repo')).toBeUndefined();
  });

  it('allows one active backfill per destination Region and only for configured destinations', async () => {
    // Prepare
    const { ecr } = await setup({ latency: 5_000 });

    // Act
    await ecr.send(
      new StartReplicationBackfillCommand({ destination: { region: DEST, registryId: ACCOUNT } }),
    );
    const second = await errorOf(() =>
      ecr.send(new StartReplicationBackfillCommand({ destination: { region: DEST, registryId: ACCOUNT } })),
    );
    const unconfigured = await errorOf(() =>
      ecr.send(
        new StartReplicationBackfillCommand({ destination: { region: 'sa-east-1', registryId: ACCOUNT } }),
      ),
    );

    // Assess
    expect(second.name).toBe('ReplicationBackfillInProgressException');
    expect(unconfigured.name).toBe('InvalidParameterException');
  });

  it('allows at most 10 active backfills per registry', async () => {
    // Prepare
    const regions = Array.from({ length: 11 }, (_, i) => `xx-test-${i + 1}`);
    const { ecr } = await setup({ latency: 5_000, destinations: regions });

    // Act
    for (const region of regions.slice(0, 10)) {
      await ecr.send(new StartReplicationBackfillCommand({ destination: { region, registryId: ACCOUNT } }));
    }
    const eleventh = await errorOf(() =>
      ecr.send(
        new StartReplicationBackfillCommand({ destination: { region: regions[10], registryId: ACCOUNT } }),
      ),
    );
    const listed = await ecr.send(new ListReplicationBackfillsCommand({ maxResults: 50 }));
    const tooBig = await errorOf(() => ecr.send(new ListReplicationBackfillsCommand({ maxResults: 51 })));

    // Assess
    expect(eleventh.name).toBe('LimitExceededException');
    expect(listed.backfills).toHaveLength(10);
    expect(tooBig.name).toBe('InvalidParameterException');
  });

  it('fails automatically once at least 100 replications were processed and half of them failed', async () => {
    // Prepare: "bad" comes first in name order and every replication from it fails.
    const { harness, ecr } = await setup({ batch: 40 });
    seed(harness, 'shop/bad', 130);
    seed(harness, 'shop/good', 30);
    harness.emulator.replication.fail({ repository: 'shop/bad', failureCode: 'ACCESS_DENIED' });

    // Act
    const started = await ecr.send(
      new StartReplicationBackfillCommand({ destination: { region: DEST, registryId: ACCOUNT } }),
    );
    await harness.emulator.whenReplicationIdle();
    const result = await describeBackfill(ecr, started.replicationBackfillId, { maxResults: 1000 });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.failureCode).toBe('FAILURE_THRESHOLD_EXCEEDED');
    expect(result.progress).toEqual({
      totalReplicationCount: 160,
      completedReplicationCount: 0,
      failedReplicationCount: 100,
      failureCodes: ['ACCESS_DENIED'],
    });
    expect(result.results).toHaveLength(100);
    expect(harness.emulator.world.getRepository(ACCOUNT, DEST, 'shop/good')).toBeUndefined();
  });

  it('completes below the failure threshold and pages its results with a status filter', async () => {
    // Prepare: 40 of 150 fail (27 %): the backfill completes.
    const { harness, ecr } = await setup({ batch: 200 });
    seed(harness, 'shop/bad', 40);
    seed(harness, 'shop/good', 110);
    harness.emulator.replication.fail({ repository: 'shop/bad', failureCode: 'ACCESS_DENIED' });
    const started = await ecr.send(
      new StartReplicationBackfillCommand({ destination: { region: DEST, registryId: ACCOUNT } }),
    );
    await harness.emulator.whenReplicationIdle();

    // Act
    const failed: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await describeBackfill(ecr, started.replicationBackfillId, {
        resultStatusFilter: 'FAILED',
        maxResults: 15,
        nextToken,
      });
      failed.push(
        ...(page.results ?? []).map((r) => `${r.repositoryName}:${r.imageId?.imageTag}:${r.failureCode}`),
      );
      nextToken = page.nextToken;
    } while (nextToken);
    const all = await describeBackfill(ecr, started.replicationBackfillId);

    // Assess
    expect(all.status).toBe('COMPLETE');
    expect(all.progress?.completedReplicationCount).toBe(110);
    expect(new Set(failed).size).toBe(40);
    expect(failed.every((f) => f.startsWith('shop/bad:') && f.endsWith(':ACCESS_DENIED'))).toBe(true);
    expect(all.results).toHaveLength(100); // default page size
  });

  it('stops through STOPPING to STOPPED, and refuses to stop it again or an unknown id', async () => {
    // Prepare
    const { harness, ecr } = await setup({ batch: 10, latency: 60_000 });
    seed(harness, 'shop/api', 100);
    const started = await ecr.send(
      new StartReplicationBackfillCommand({ destination: { region: DEST, registryId: ACCOUNT } }),
    );

    // Act
    const stopping = await ecr.send(
      new StopReplicationBackfillCommand({ replicationBackfillId: started.replicationBackfillId }),
    );
    harness.emulator.replication.flush();
    const stopped = await describeBackfill(ecr, started.replicationBackfillId);
    const again = await errorOf(() =>
      ecr.send(new StopReplicationBackfillCommand({ replicationBackfillId: started.replicationBackfillId })),
    );
    const unknown = await errorOf(() => describeBackfill(ecr, 'no-such-backfill'));

    // Assess
    expect(stopping.status).toBe('STOPPING');
    expect(stopped.status).toBe('STOPPED');
    // Stopped before its preparation completed: progress stays null (SDK model documentation).
    expect(stopped.progress ?? null).toBeNull();
    expect(harness.emulator.world.getRepository(ACCOUNT, DEST, 'shop/api')).toBeUndefined();
    expect(again.name).toBe('ReplicationBackfillInvalidStatusException');
    expect(unknown.name).toBe('ReplicationBackfillNotFoundException');
  });
});
