/**
 * Design §3.2 #9 under a replication rule that replicates deletes: a tag pullable in a destination
 * before the run stays pullable there at every instant. Two destinations under one such rule, one of
 * them already holding some of the tags; an observer polls that destination's tags through the ECR
 * API for the whole run, with a realistic per-call latency (25 ms).
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-delete.html
 */
import { paginateListImages, type ECRClient } from '@aws-sdk/client-ecr';
import { afterEach, describe, expect, it } from 'vitest';
import { buildDockerImage, buildOciIndex, type Fixture } from '../../local/ecr-emulator/index.ts';
import { runBackfillLocally } from '../../local/runner/run-backfill.ts';
import { writesIn } from '../support/ecr-writes.ts';
import { permissiveBackfillTemplate, startWorld, tagsOf, tempTagsAnywhere, type World } from './helpers.ts';

const ACCOUNT = '111111111111';
const SOURCE = { account: ACCOUNT, region: 'ap-south-1' };
const HOLDING = { account: ACCOUNT, region: 'ap-northeast-2' };
const EMPTY = { account: ACCOUNT, region: 'us-west-2' };
const REPOSITORY = 'shop/api';
/** Assumed latency of one ECR API call in AWS (docs/benchmarks.md). */
const API_LATENCY_MS = 25;

const images = {
  x: buildDockerImage('delete-replication/x'),
  y: buildOciIndex('delete-replication/y'),
  z: buildDockerImage('delete-replication/z'),
};
/** Source tags, by image. */
const SOURCE_TAGS = { x: ['v1', 'latest'], y: ['v2'], z: ['v3', 'stable'] } as const;
/** What the holding destination already serves before the run (pullable, must stay so). */
const HELD = { x: ['v1'], z: ['v3', 'stable'] } as const;

function fixture(): Fixture {
  return {
    accounts: [
      {
        id: ACCOUNT,
        regions: [
          {
            region: SOURCE.region,
            replicationConfiguration: {
              rules: [
                {
                  destinations: [
                    { region: HOLDING.region, registryId: ACCOUNT },
                    { region: EMPTY.region, registryId: ACCOUNT },
                  ],
                  deleteReplication: { enabled: true },
                },
              ],
            },
          },
        ],
      },
    ],
  };
}

function seed(world: World): void {
  for (const [key, image] of Object.entries(images) as [keyof typeof images, (typeof images)['x']][]) {
    world.emulator.seedImage({ region: SOURCE.region, repository: REPOSITORY }, image, {
      tags: [...SOURCE_TAGS[key]],
    });
  }
  for (const [key, tags] of Object.entries(HELD) as [keyof typeof HELD, readonly string[]][]) {
    world.emulator.seedImage({ region: HOLDING.region, repository: REPOSITORY }, images[key], {
      tags: [...tags],
    });
  }
}

/** Polls the destination's tags through ListImages until stopped; records every poll a tag was missing in. */
function observeTags(client: ECRClient, watched: readonly string[]) {
  const misses: { tag: string; at: number }[] = [];
  let polls = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const seen = new Set<string>();
      for await (const page of paginateListImages(
        { client },
        { repositoryName: REPOSITORY, maxResults: 2 },
      )) {
        for (const id of page.imageIds ?? []) if (id.imageTag) seen.add(id.imageTag);
      }
      polls += 1;
      for (const tag of watched) if (!seen.has(tag)) misses.push({ tag, at: Date.now() });
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { misses, polls };
    },
  };
}

describe('a backfill under a rule that replicates deletes', () => {
  let world: World | undefined;
  let observer: ECRClient | undefined;
  afterEach(async () => {
    observer?.destroy();
    await world?.close();
    world = undefined;
  });

  const run = (w: World, strategy: 'promote' | 'retag-source') =>
    runBackfillLocally({
      ecrEndpoint: w.emulator.endpoint,
      s3: w.s3,
      sourceRegion: SOURCE.region,
      account: ACCOUNT,
      // A deployment that allows retag-source: the refusal under test is the delete-replication one,
      // not the run policy's.
      template: permissiveBackfillTemplate(),
      putImageRatePerSecond: 1000,
      input: { strategy, method: 'repush', batchSize: 2 },
    });

  it('promote: succeeds, every tag at the source digest in both destinations, no temp tag, the held tags never unpullable', async () => {
    // Prepare
    world = await startWorld(fixture(), {
      replicationLatencyMs: 150,
      apiLatencyMs: API_LATENCY_MS,
      seed: 11,
    });
    seed(world);
    const before = world.emulator.snapshot();
    observer = world.emulator.client(HOLDING.region);
    const watching = observeTags(observer, Object.values(HELD).flat());

    // Act
    const result = await run(world, 'promote');
    await world.emulator.whenReplicationIdle();
    const observed = await watching.stop();
    const after = world.emulator.snapshot();

    // Assess
    expect(result.status, `${result.error}: ${result.cause?.slice(0, 300)}`).toBe('SUCCEEDED');
    const sourceTags = tagsOf(before, SOURCE);
    for (const destination of [HOLDING, EMPTY]) expect(tagsOf(after, destination)).toEqual(sourceTags);
    expect(tempTagsAnywhere(after)).toEqual([]);
    expect(tagsOf(after, SOURCE)).toEqual(sourceTags);
    // The observer polled all along and never found a held tag missing.
    expect(observed.polls).toBeGreaterThan(10);
    expect(observed.misses).toEqual([]);
    // The temp-tag deletes in the source were replayed in the destinations (the rule is live), and
    // the cleanups there tolerated a tag replication had already removed.
    expect(
      world.emulator.callLog.entries({ operation: 'BatchDeleteImage', region: SOURCE.region }).length,
    ).toBeGreaterThan(0);
    // The report says which rule replicates deletes.
    expect(result.report?.summary).toMatchObject({
      deleteReplicatingRules: [
        {
          rule: 0,
          destinations: [
            { region: HOLDING.region, registryId: ACCOUNT },
            { region: EMPTY.region, registryId: ACCOUNT },
          ],
          repositoryFilters: [],
        },
      ],
    });
  });

  it('retag-source: refuses with DeleteReplicationUnsafe, naming the destinations and promote, with zero ECR writes', async () => {
    // Prepare
    world = await startWorld(fixture(), {
      replicationLatencyMs: 150,
      apiLatencyMs: API_LATENCY_MS,
      seed: 12,
    });
    seed(world);
    const before = world.emulator.snapshot();

    // Act
    const result = await run(world, 'retag-source');

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('DeleteReplicationUnsafe');
    expect(result.execution.failedState?.name).toBe('Plan');
    const message = (JSON.parse(result.cause ?? '{}') as { errorMessage: string }).errorMessage;
    expect(message).toMatch(/retag-source/);
    expect(message).toMatch(new RegExp(`${ACCOUNT}.*${HOLDING.region}|${HOLDING.region}`));
    expect(message).toMatch(/strategy promote/);
    expect(writesIn(world.emulator.callLog.entries())).toEqual([]);
    expect(world.emulator.snapshot()).toEqual(before);
    expect(Object.keys(result.invocations)).toEqual(['Plan']);
  });
});
