/**
 * The planning steps against the ECR emulator (real SDK over HTTP) and s3rver, run in the order the
 * state machine runs them: Plan → PlanSlice per slice → FinalizePlan.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ReplicationRule } from '@aws-sdk/client-ecr';
import {
  buildDockerImage,
  buildOciImage,
  buildOciIndex,
  type BuiltImage,
} from '../../../local/ecr-emulator/images.ts';
import { CROSS_ACCOUNT_BACKFILL_ACTIONS } from '../../../local/ecr-emulator/index.ts';
import {
  InvalidInputError,
  NothingMatchedError,
  ReplicationNotConfiguredError,
} from '../../../core/errors/errors.ts';
import { tempTagFor } from '../../../core/ecr/temp-tags.ts';
import {
  itemFor,
  OREGON,
  OTHER_ACCOUNT,
  OTHER_ROLE,
  type PlanningWorld,
  PERMISSIVE_RUN_POLICY,
  planningWorldPerTest,
  runPlanning,
  SEOUL,
  SOURCE_ACCOUNT,
  SOURCE_REGION,
} from '../plan-support/world.ts';

const SEOUL_DEST = { region: SEOUL, registryId: SOURCE_ACCOUNT };
const OREGON_DEST = { region: OREGON, registryId: OTHER_ACCOUNT };

/** Seoul replicates team/* and base; Oregon (another account) only team/*. */
const RULES: ReplicationRule[] = [
  {
    destinations: [SEOUL_DEST],
    repositoryFilters: [
      { filter: 'team/', filterType: 'PREFIX_MATCH' },
      { filter: 'base', filterType: 'PREFIX_MATCH' },
    ],
  },
  { destinations: [OREGON_DEST], repositoryFilters: [{ filter: 'team/', filterType: 'PREFIX_MATCH' }] },
];

const freshWorld = planningWorldPerTest();
let world: PlanningWorld;

const at = (iso: string) => Date.parse(iso);

describe('planning a registry', () => {
  const fresh = buildDockerImage('fresh'); // team/api v1, latest: missing everywhere
  const present = buildOciImage('present'); // team/api v0: already in Seoul, missing in Oregon
  const diverged = buildDockerImage('diverged'); // team/api stable: Seoul's stable is another image
  const other = buildDockerImage('seoul-stable');
  const baseImage = buildDockerImage('base'); // base 1.0: only Seoul replicates base
  const legacy = buildDockerImage('legacy'); // legacy/app: no rule covers it

  beforeEach(async () => {
    world = await freshWorld();
    const seed = (
      repository: string,
      image: BuiltImage,
      tags: string[],
      region = SOURCE_REGION,
      account?: string,
    ) =>
      world.emulator.seedImage({ region, repository, ...(account && { account }) }, image, {
        tags,
        pushedAt: at('2024-03-01T00:00:00Z'),
      });
    seed('team/api', fresh, ['v1', 'latest']);
    seed('team/api', present, ['v0']);
    seed('team/api', diverged, ['stable']);
    seed('base', baseImage, ['1.0']);
    seed('legacy/app', legacy, ['v9']);
    seed('team/api', present, ['v0'], SEOUL);
    seed('team/api', other, ['stable'], SEOUL);
    await world.replicate(RULES);
    // Oregon is reached without a role: its registry policy lets the source account replicate there
    // and make the backfill's calls (Plan leaves such a destination's policy unchecked).
    world.emulator.allowReplication(
      SOURCE_ACCOUNT,
      { account: OTHER_ACCOUNT, region: OREGON },
      CROSS_ACCOUNT_BACKFILL_ACTIONS,
    );
  });

  it('fails with NothingMatched when the repository filter selects nothing, naming what exists nearby', async () => {
    const error = await runPlanning(world, { repositories: ['tema/'] }, 'typo').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NothingMatchedError);
    expect((error as Error).name).toBe('NothingMatched');
    expect((error as NothingMatchedError).filter).toBe('repositories');
    expect((error as NothingMatchedError).nearby[0]).toBe('team/api');
    expect((error as Error).message).toContain('repositories: "tema/" matched none of the 3 repositories');
    expect((error as Error).message).not.toMatch(/already/i);
    // The run's claim and an empty slice list: no item file, no plan.
    expect(await world.keys('runs/typo/')).toEqual(['runs/typo/execution.json', 'runs/typo/slices.jsonl']);
  });

  it('fails with NothingMatched when the tags filter keeps no tag, naming the nearest tags', async () => {
    const error = await runPlanning(world, { tags: ['v10'] }, 'tag-typo').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NothingMatchedError);
    expect((error as NothingMatchedError).filter).toBe('tags');
    expect((error as NothingMatchedError).nearby).toContain('v1');
    expect((error as Error).message).toContain('tags: "v10" matched no tag');
    expect(await world.keys('runs/tag-typo/items.jsonl')).toEqual([]);
  });

  it('a tags filter that keeps a tag in some repository plans as before', async () => {
    const run = await runPlanning(world, { tags: ['1.0'] }, 'tag-ok');

    expect(run.items.map((item) => item.repositoryName)).toEqual(['base']);
  });

  it('plans {} against every destination, keeping only what is missing or diverged', async () => {
    const run = await runPlanning(world, {}, 'backfill-1');

    expect(run.context.runId).toBe('backfill-1');
    expect(run.context.config.destinations).toEqual([SEOUL_DEST, OREGON_DEST]);
    expect(run.context.config.sourceRegistryId).toBe(SOURCE_ACCOUNT);
    expect(run.context.notCoveredRepositories).toBe(1);
    expect(run.items).toHaveLength(4);
    expect(itemFor(run.items, 'team/api', fresh.digest)).toEqual({
      repositoryName: 'team/api',
      imageDigest: fresh.digest,
      imageManifestMediaType: fresh.mediaType,
      artifactMediaType: 'application/vnd.docker.container.image.v1+json',
      tags: ['v1', 'latest'],
      destinations: [
        { ...SEOUL_DEST, tags: ['v1', 'latest'], digestPresent: false },
        { ...OREGON_DEST, tags: ['v1', 'latest'], digestPresent: false },
      ],
      // The image's push time as read: PushTempTags tells a re-created image by a newer one.
      imagePushedAt: expect.any(Number) as number,
    });
    expect(itemFor(run.items, 'team/api', present.digest).destinations).toEqual([
      { ...OREGON_DEST, tags: ['v0'], digestPresent: false },
    ]);
    // Seoul's `stable` points elsewhere: a plan-time CONFLICT, so only Oregon gets the image.
    expect(itemFor(run.items, 'team/api', diverged.digest).destinations).toEqual([
      { ...OREGON_DEST, tags: ['stable'], digestPresent: false },
    ]);
    expect(itemFor(run.items, 'base', baseImage.digest).destinations).toEqual([
      { ...SEOUL_DEST, tags: ['1.0'], digestPresent: false },
    ]);
    expect(run.planned.plan.counts).toEqual({
      MISSING: 7,
      CONFLICT: 1,
      ALREADY_PRESENT: 1,
      NOT_COVERED: 1,
      NOT_COVERED_REPOSITORIES: 1,
    });
    expect(run.planned.plan.putImageCalls).toEqual({ [SOURCE_REGION]: 4, [SEOUL]: 3, [OREGON]: 4 });
    expect(run.planned.plan.tags).toBe(7);
    // Ordinary tags and destinations: the map's batches keep the full 64 KiB (payload-bounds.ts).
    expect(run.planned.items).toEqual({
      key: 'runs/backfill-1/items.jsonl',
      count: 4,
      maxInputBytesPerBatch: 64 * 1024,
    });
  });

  it('never touches a repository no rule covers, and writes nothing to ECR', async () => {
    await runPlanning(world, {}, 'untouched');

    expect(world.emulator.callLog.count({ repositoryName: 'legacy/app' })).toBe(0);
    expect(world.writeCalls()).toBe(0);
  });

  it('writes the run layout: slices, replication snapshot, slice files, items and plan.json', async () => {
    await runPlanning(world, {}, 'layout');

    expect((await world.keys('runs/layout/')).sort()).toEqual([
      'runs/layout/execution.json',
      'runs/layout/items.jsonl',
      'runs/layout/plan.json',
      'runs/layout/plan/slice-0.jsonl',
      'runs/layout/plan/slice-0.rows.jsonl',
      'runs/layout/plan/slice-0.summary.json',
      'runs/layout/replication.json',
      'runs/layout/slices.jsonl',
    ]);
  });

  it('limits the run to the requested destinations and carries their role', async () => {
    const run = await runPlanning(
      world,
      { destinations: [{ region: OREGON, roleArn: OTHER_ROLE }] },
      'oregon-only',
    );

    expect(run.context.config.destinations).toEqual([{ ...OREGON_DEST, roleArn: OTHER_ROLE }]);
    // base is replicated to Seoul only: for an Oregon-only run it is not covered at all.
    expect(run.context.notCoveredRepositories).toBe(2);
    expect(run.items.map((i) => i.imageDigest).sort()).toEqual(
      [fresh.digest, present.digest, diverged.digest].sort(),
    );
    for (const item of run.items) {
      expect(item.destinations).toEqual([expect.objectContaining({ ...OREGON_DEST, roleArn: OTHER_ROLE })]);
    }
    expect(world.emulator.callLog.count({ region: SEOUL })).toBe(0);
  });

  it('keeps only the selected tags of each digest', async () => {
    const run = await runPlanning(world, { tags: ['v*', 'latest'], excludeTags: ['v0'] }, 'tags');

    expect(run.items.map((i) => [i.repositoryName, i.tags])).toEqual([['team/api', ['v1', 'latest']]]);
  });

  it('selects repositories by prefix and by glob', async () => {
    const byPrefix = await runPlanning(world, { repositories: ['bas'] }, 'prefix');
    const byGlob = await runPlanning(world, { repositories: ['team/*'] }, 'glob');

    expect(byPrefix.items.map((i) => i.repositoryName)).toEqual(['base']);
    expect(new Set(byGlob.items.map((i) => i.repositoryName))).toEqual(new Set(['team/api']));
    expect(byGlob.context.notCoveredRepositories).toBe(0);
  });

  it('plans a cross-account destination through its role as that account', async () => {
    world.emulator.seedImage({ region: OREGON, repository: 'team/api', account: OTHER_ACCOUNT }, fresh, {
      tags: ['v1', 'latest'],
    });

    const run = await runPlanning(
      world,
      { destinations: [{ region: OREGON, roleArn: OTHER_ROLE }] },
      'other-account',
    );

    expect(run.items.map((i) => i.imageDigest)).not.toContain(fresh.digest);
    expect(run.planned.plan.counts.ALREADY_PRESENT).toBe(2);
    const oregonReads = world.emulator.callLog.entries({ operation: 'DescribeImages', region: OREGON });
    expect(oregonReads.length).toBeGreaterThan(0);
    expect(oregonReads.every((call) => call.account === OTHER_ACCOUNT)).toBe(true);
  });
});

describe('refusing to plan', () => {
  beforeEach(async () => {
    world = await freshWorld();
    world.emulator.seedImage({ region: SOURCE_REGION, repository: 'legacy/app' }, buildDockerImage('x'), {
      tags: ['v1'],
    });
  });

  it('rejects invalid input before any AWS call and writes nothing', async () => {
    await world.replicate(RULES);

    const error = await runPlanning(world, { batchSize: 0, strategy: 'yolo' }, 'bad-input').catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems).toEqual([
      'strategy: must be one of "promote", "retag-source" (got "yolo")',
      'batchSize: must be ≥ 1 (got 0)',
    ]);
    expect(world.emulator.callLog.size).toBe(0);
    expect(await world.keys('runs/bad-input/')).toEqual([]);
  });

  it('rejects destinations the replication configuration does not list, naming the configured ones', async () => {
    await world.replicate(RULES);

    const error = await runPlanning(
      world,
      { destinations: ['eu-west-1', { region: OREGON, registryId: SOURCE_ACCOUNT }] },
      'bad-destination',
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    const configured = `(configured: ${SEOUL} (${SOURCE_ACCOUNT}), ${OREGON} (${OTHER_ACCOUNT}))`;
    expect((error as InvalidInputError).problems).toEqual([
      `destinations[0]: eu-west-1 is not a destination of the registry's replication configuration ${configured}`,
      `destinations[1]: ${OREGON} (${SOURCE_ACCOUNT}) is not a destination of the registry's replication configuration ${configured}`,
    ]);
    expect(await world.keys('runs/bad-destination/')).toEqual([]);
    expect(world.writeCalls()).toBe(0);
  });

  it('fails with ReplicationNotConfigured when the registry has no rules', async () => {
    const error = await runPlanning(world, {}, 'no-rules').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ReplicationNotConfiguredError);
    expect((error as Error).name).toBe('ReplicationNotConfigured');
    expect((error as Error).message).toMatch(/has no replication rules.*`replication` prop/);
    expect(await world.keys('runs/no-rules/')).toEqual([]);
  });

  it('fails with ReplicationNotConfigured when no rule covers the selected repositories', async () => {
    await world.replicate(RULES);

    const error = await runPlanning(world, { repositories: ['legacy/'] }, 'not-covered').catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(ReplicationNotConfiguredError);
    expect((error as Error).message).toContain(
      'No replication rule covers the 1 selected repositories (e.g. legacy/app)',
    );
    // Only the run's claim, which a later execution of the same name would find as its own.
    expect(await world.keys('runs/not-covered/')).toEqual(['runs/not-covered/execution.json']);
    expect(world.emulator.callLog.count({ repositoryName: 'legacy/app' })).toBe(0);
  });
});

describe('image selection', () => {
  const misc = 'team/misc';
  const rules: ReplicationRule[] = [{ destinations: [SEOUL_DEST] }];
  const old = buildDockerImage('old');
  const mid = buildDockerImage('mid');
  const recent = buildDockerImage('recent');
  const archived = buildDockerImage('archived');
  const untagged = buildOciImage('untagged');
  const marked = buildDockerImage('marked');
  const index = buildOciIndex('multi', { attestations: true });

  beforeEach(async () => {
    world = await freshWorld();
    const seed = (image: BuiltImage, tags: string[], pushedAt: string, status?: 'ARCHIVED') =>
      world.emulator.seedImage({ region: SOURCE_REGION, repository: misc }, image, {
        tags,
        pushedAt: at(pushedAt),
        ...(status && { status }),
      });
    seed(old, ['old'], '2023-01-01T00:00:00Z');
    seed(mid, ['mid', tempTagFor('ecr-backfill-', 'earlier-run', mid.digest)], '2024-01-01T00:00:00Z');
    seed(recent, ['recent'], '2024-06-01T00:00:00Z');
    seed(archived, ['archived'], '2022-01-01T00:00:00Z', 'ARCHIVED');
    seed(untagged, [], '2024-02-01T00:00:00Z');
    seed(marked, [tempTagFor('ecr-backfill-', 'earlier-run', marked.digest)], '2024-02-02T00:00:00Z');
    seed(index, ['multi'], '2024-05-01T00:00:00Z');
    await world.replicate(rules);
  });

  const digests = (run: { items: { imageDigest: string }[] }) => run.items.map((i) => i.imageDigest).sort();

  it('takes tagged active images by default, never a temp tag of an earlier run', async () => {
    const run = await runPlanning(world, {}, 'defaults');

    expect(digests(run)).toEqual([old.digest, mid.digest, recent.digest, index.digest].sort());
    expect(itemFor(run.items, misc, mid.digest).tags).toEqual(['mid']);
    expect(itemFor(run.items, misc, index.digest).imageManifestMediaType).toBe(
      'application/vnd.oci.image.index.v1+json',
    );
  });

  it('keeps the newest N images per repository', async () => {
    const run = await runPlanning(world, { latestPerRepository: 2 }, 'latest');

    expect(digests(run)).toEqual([recent.digest, index.digest].sort());
  });

  it('keeps images pushed at or after pushedAfter', async () => {
    const run = await runPlanning(world, { pushedAfter: '2024-01-01T00:00:00Z' }, 'after');

    expect(digests(run)).toEqual([mid.digest, recent.digest, index.digest].sort());
  });

  it('adds archived images and standalone untagged images on request, never the children of an index', async () => {
    // includeArchived is a run-policy opt-in (restoring archived images is charged).
    world.deps.env.runPolicy = PERMISSIVE_RUN_POLICY;
    const run = await runPlanning(world, { includeArchived: true, includeUntagged: true }, 'everything');

    expect(digests(run)).toEqual(
      [
        old.digest,
        mid.digest,
        recent.digest,
        archived.digest,
        untagged.digest,
        marked.digest,
        index.digest,
      ].sort(),
    );
    expect(itemFor(run.items, misc, untagged.digest)).toMatchObject({
      tags: [],
      destinations: [{ ...SEOUL_DEST, tags: [], digestPresent: false }],
    });
    expect(itemFor(run.items, misc, marked.digest).tags).toEqual([]);
    // Two platform manifests and two attestation manifests travel with their index.
    expect(run.planned.plan.counts.SKIPPED_INDEX_CHILD).toBe(4);
    for (const child of index.children) expect(digests(run)).not.toContain(child.digest);
  });

  it('counts an untagged image already in the destination as present', async () => {
    world.emulator.seedImage({ region: SEOUL, repository: misc }, untagged, {});

    const run = await runPlanning(world, { includeUntagged: true }, 'untagged-present');

    expect(digests(run)).not.toContain(untagged.digest);
    expect(run.planned.plan.counts.ALREADY_PRESENT).toBe(1);
  });
});

describe('planning at scale', () => {
  beforeEach(async () => {
    world = await freshWorld();
  });

  it('pages through a repository of more than 1,000 images in the source and the destination', async () => {
    const images = Array.from({ length: 1_100 }, (_, i) =>
      buildDockerImage(`many-${i}`, { layers: 1, layerSize: 16 }),
    );
    images.forEach((image, i) => {
      world.emulator.seedImage({ region: SOURCE_REGION, repository: 'big' }, image, { tags: [`t${i}`] });
      // The first 1,050 are already in Seoul: only the last 50 are missing.
      if (i < 1_050)
        world.emulator.seedImage({ region: SEOUL, repository: 'big' }, image, { tags: [`t${i}`] });
    });
    await world.replicate([{ destinations: [SEOUL_DEST] }]);

    const run = await runPlanning(world, {}, 'big-repo');

    expect(run.items).toHaveLength(50);
    expect(new Set(run.items.map((i) => i.imageDigest))).toEqual(
      new Set(images.slice(1_050).map((i) => i.digest)),
    );
    expect(run.planned.plan.counts).toEqual({ ALREADY_PRESENT: 1_050, MISSING: 50 });
    const pages = (region: string) =>
      world.emulator.callLog.entries({ operation: 'DescribeImages', region, repositoryName: 'big' });
    expect(pages(SOURCE_REGION)).toHaveLength(2);
    expect(pages(SEOUL)).toHaveLength(2);
    expect(pages(SOURCE_REGION).filter((call) => call.params.nextToken)).toHaveLength(1);
  });

  it('pages through more than 1,000 repositories and cuts them into slices', async () => {
    const image = buildDockerImage('shared', { layers: 1, layerSize: 16 });
    for (let i = 0; i < 1_005; i++) {
      const name = `svc/app-${String(i).padStart(4, '0')}`;
      // Every 100th repository holds an image; the rest are empty but still planned.
      if (i % 100 === 0)
        world.emulator.seedImage({ region: SOURCE_REGION, repository: name }, image, { tags: ['v1'] });
      else world.emulator.world.createRepository(SOURCE_ACCOUNT, SOURCE_REGION, name);
    }
    for (let i = 0; i < 20; i++)
      world.emulator.world.createRepository(SOURCE_ACCOUNT, SOURCE_REGION, `zzz/other-${i}`);
    await world.replicate([
      { destinations: [SEOUL_DEST], repositoryFilters: [{ filter: 'svc/', filterType: 'PREFIX_MATCH' }] },
    ]);

    const run = await runPlanning(world, { planSliceSize: 400 }, 'many-repos');

    expect(run.context.slices.count).toBe(3);
    expect(run.context.notCoveredRepositories).toBe(20);
    expect(run.slices.map((s) => s.sliceIndex)).toEqual([0, 1, 2]);
    expect(run.items).toHaveLength(11);
    expect(world.emulator.callLog.entries({ operation: 'DescribeRepositories' })).toHaveLength(2);
  });
});
