/**
 * The invariant checks must catch each kind of violation (and stay quiet on a correct outcome):
 * otherwise the reliability suites would pass on a broken workflow. Each test starts from a correct
 * "after" state and breaks exactly one thing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildDockerImage,
  buildOciImage,
  startEcrEmulator,
  type CallLogEntry,
  type EcrEmulator,
  type EmulatorSnapshot,
} from '../../ecr-emulator/index.ts';
import { checkInvariants, type InvariantInput } from '../../bench/invariants.ts';
import { tempTagFor } from 'ecr-backfill/core';

const ACCOUNT = '111111111111';
const SOURCE = 'ap-south-1';
const SEOUL = 'ap-northeast-2';
const PREFIX = 'ecr-backfill-';
const v1 = buildDockerImage('inv/v1');
const v2 = buildOciImage('inv/v2');
const other = buildDockerImage('inv/other');

/** Source: app/api {v1, stable → v1; v2 → v2}, internal/tool {t → other}. Seoul already has `old` on other. */
async function world(): Promise<EcrEmulator> {
  const emulator = await startEcrEmulator({ account: ACCOUNT, replicationLatencyMs: 0 });
  emulator.world.setReplicationConfiguration(ACCOUNT, SOURCE, {
    rules: [
      {
        destinations: [{ region: SEOUL, registryId: ACCOUNT }],
        repositoryFilters: [{ filter: 'app/', filterType: 'PREFIX_MATCH' }],
      },
    ],
  });
  emulator.seedImage({ region: SOURCE, repository: 'app/api' }, v1, { tags: ['v1', 'stable'] });
  emulator.seedImage({ region: SOURCE, repository: 'app/api' }, v2, { tags: ['v2'] });
  emulator.seedImage({ region: SOURCE, repository: 'internal/tool' }, other, { tags: ['t'] });
  emulator.seedImage({ region: SEOUL, repository: 'app/api' }, other, { tags: ['old'] });
  return emulator;
}

/** What a correct backfill leaves in Seoul. */
function backfill(emulator: EcrEmulator): void {
  emulator.seedImage({ region: SEOUL, repository: 'app/api' }, v1, { tags: ['v1', 'stable'] });
  emulator.seedImage({ region: SEOUL, repository: 'app/api' }, v2, { tags: ['v2'] });
}

function call(
  operation: string,
  region: string,
  params: CallLogEntry['params'],
  outcome = 'ok',
): CallLogEntry {
  return {
    seq: 0,
    time: 0,
    operation,
    region,
    account: ACCOUNT,
    params,
    outcome,
    throttled: false,
    injected: false,
    durationMs: 1,
  };
}

describe('checkInvariants', () => {
  let emulator: EcrEmulator;
  let before: EmulatorSnapshot;
  const check = (overrides: Partial<InvariantInput> = {}) =>
    checkInvariants({
      before,
      after: emulator.snapshot(),
      calls: [],
      source: { account: ACCOUNT, region: SOURCE },
      tempTagPrefix: PREFIX,
      strategy: 'promote',
      succeeded: true,
      ...overrides,
    });
  const repo = (region: string, name: string) => emulator.world.requireRepository(ACCOUNT, region, name);

  beforeEach(async () => {
    emulator = await world();
    before = emulator.snapshot();
  });
  afterEach(async () => {
    await emulator.close();
  });

  it('finds nothing wrong with a correct backfill', () => {
    backfill(emulator);
    expect(check()).toEqual([]);
  });

  it('1: a deleted source image', () => {
    backfill(emulator);
    emulator.world.deleteImage(repo(SOURCE, 'app/api'), v2.digest);
    expect(check().map((v) => v.invariant)).toContain(1);
  });

  it('1: a source tag moved to another digest', () => {
    backfill(emulator);
    emulator.world.setTag(repo(SOURCE, 'app/api'), 'stable', v2.digest);
    expect(check()).toContainEqual(
      expect.objectContaining({ invariant: 1, message: expect.stringContaining('app/api:stable') as string }),
    );
  });

  it('1: a write in a repository no rule covers', () => {
    backfill(emulator);
    const calls = [call('PutImage', SOURCE, { repositoryName: 'internal/tool', imageTag: 'x' })];
    expect(check({ calls })).toContainEqual(
      expect.objectContaining({ invariant: 1, message: expect.stringContaining('internal/tool') as string }),
    );
  });

  it('2: with promote, any unavailability window of a source tag', () => {
    backfill(emulator);
    const observed = {
      unavailability: { windows: 1, maxMs: 3, totalMs: 3, neverRestored: [] },
      changes: { imagesDeleted: [], tagsMoved: [] },
    };
    expect(check({ observed }).map((v) => v.invariant)).toEqual([2]);
    expect(check({ observed, strategy: 'retag-source' })).toEqual([]);
  });

  it('3: a tag moved by a third party that does not end at the newer digest in a destination', () => {
    backfill(emulator);
    emulator.world.setTag(repo(SOURCE, 'app/api'), 'stable', v2.digest);
    const externalMoves = [{ repository: 'app/api', tag: 'stable', digest: v2.digest }];
    expect(check({ externalMoves }).map((v) => v.invariant)).toEqual(expect.arrayContaining([3]));
    emulator.world.setTag(repo(SEOUL, 'app/api'), 'stable', v2.digest);
    expect(check({ externalMoves })).toEqual([]);
  });

  it('4: a selected tag missing in a destination after a success (not after a failure)', () => {
    backfill(emulator);
    emulator.world.removeTag(repo(SEOUL, 'app/api'), 'stable');
    expect(check()).toEqual([
      expect.objectContaining({
        invariant: 4,
        message: expect.stringContaining('app/api:stable is missing') as string,
      }),
    ]);
    expect(check({ succeeded: false })).toEqual([]);
  });

  it('4: a temp tag left in a destination; a source marker only where removing it would delete the image', () => {
    backfill(emulator);
    const temp = tempTagFor(PREFIX, 'run-1', v1.digest);
    emulator.world.setTag(repo(SEOUL, 'app/api'), temp, v1.digest);
    expect(check().map((v) => v.invariant)).toEqual([4]);
    emulator.world.removeTag(repo(SEOUL, 'app/api'), temp);
    // In the source, on an image that still has its own tags: a leftover.
    emulator.world.setTag(repo(SOURCE, 'app/api'), temp, v1.digest);
    expect(check().map((v) => v.invariant)).toEqual([4]);
  });

  it('5: a PutImage repeated for work already done', () => {
    backfill(emulator);
    const put = call('PutImage', SEOUL, { repositoryName: 'app/api', imageTag: 'v1' });
    expect(check({ calls: [put] })).toEqual([]);
    expect(
      check({ calls: [put, { ...put, outcome: 'ImageAlreadyExistsException' }] }).map((v) => v.invariant),
    ).toEqual([5]);
    // A throttled attempt is not a repeat: it never reached the repository.
    expect(check({ calls: [put, { ...put, outcome: 'ThrottlingException', throttled: true }] })).toEqual([]);
  });

  it('6: a destination tag that held another digest overwritten without overwriteConflicts', () => {
    emulator.seedImage({ region: SEOUL, repository: 'app/api' }, other, { tags: ['v1'] });
    before = emulator.snapshot();
    backfill(emulator);
    expect(check()).toContainEqual(expect.objectContaining({ invariant: 6 }));
    expect(check({ overwriteConflicts: true })).toEqual([]);
  });

  it('6: an immutable destination tag that moved', async () => {
    await emulator.close();
    emulator = await world();
    emulator.world.createRepository(ACCOUNT, SEOUL, 'app/locked', { imageTagMutability: 'IMMUTABLE' });
    emulator.seedImage({ region: SEOUL, repository: 'app/locked' }, other, { tags: ['pinned'] });
    emulator.seedImage({ region: SEOUL, repository: 'app/locked' }, v1, { tags: [] });
    before = emulator.snapshot();
    backfill(emulator);
    expect(check()).toEqual([]);
    emulator.world.setTag(repo(SEOUL, 'app/locked'), 'pinned', v1.digest);
    expect(check()).toContainEqual(
      expect.objectContaining({ invariant: 6, message: expect.stringContaining('immutable') as string }),
    );
  });

  it('retag-source: a tag blocked by a conflict in one destination may be missing in the others', async () => {
    // Prepare: a second destination; `v1` conflicts in Seoul, so retag-source cannot carry it anywhere.
    await emulator.close();
    emulator = await startEcrEmulator({ account: ACCOUNT, replicationLatencyMs: 0 });
    emulator.world.setReplicationConfiguration(ACCOUNT, SOURCE, {
      rules: [
        {
          destinations: [
            { region: SEOUL, registryId: ACCOUNT },
            { region: 'eu-west-1', registryId: ACCOUNT },
          ],
        },
      ],
    });
    emulator.seedImage({ region: SOURCE, repository: 'app/api' }, v1, { tags: ['v1'] });
    emulator.seedImage({ region: SEOUL, repository: 'app/api' }, other, { tags: ['v1'] });
    emulator.world.registry(ACCOUNT, 'eu-west-1');
    before = emulator.snapshot();

    // Assess: nothing delivered is right for retag-source, and a missing tag for promote.
    expect(check({ strategy: 'retag-source' })).toEqual([]);
    expect(check({ strategy: 'promote' })).toEqual([expect.objectContaining({ invariant: 4 })]);
  });
});
