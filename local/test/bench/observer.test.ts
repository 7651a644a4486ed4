/**
 * The observers measure what they claim: exact windows from world events, moves and deletions
 * attributed to the workflow unless marked external, and a poller that resolves tags through the API.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDockerImage, startEcrEmulator, type EcrEmulator } from '../../ecr-emulator/index.ts';
import { SourceEventObserver, SourceTagPoller } from '../../bench/observer.ts';

const ACCOUNT = '111111111111';
const REGION = 'ap-south-1';
const a = buildDockerImage('obs/a');
const b = buildDockerImage('obs/b');

describe('SourceEventObserver', () => {
  let emulator: EcrEmulator;
  beforeEach(async () => {
    emulator = await startEcrEmulator({ account: ACCOUNT });
    emulator.seedImage({ region: REGION, repository: 'app/x' }, a, { tags: ['v1', 'keep'] });
    emulator.seedImage({ region: REGION, repository: 'app/x' }, b, { tags: ['v2'] });
  });
  afterEach(async () => {
    await emulator.close();
  });
  const repo = () => emulator.world.requireRepository(ACCOUNT, REGION, 'app/x');

  it('measures a remove-then-put of a tag as one window, and nothing when a tag only moves', async () => {
    // Prepare
    const observer = new SourceEventObserver(emulator.world, { account: ACCOUNT, region: REGION });

    // Act
    emulator.world.removeTag(repo(), 'v1');
    await new Promise((resolve) => setTimeout(resolve, 25));
    emulator.world.setTag(repo(), 'v1', a.digest);
    emulator.world.setTag(repo(), 'v2', a.digest);
    observer.stop();

    // Assess
    const report = observer.report();
    expect(report.windows).toBe(1);
    expect(report.maxMs).toBeGreaterThanOrEqual(20);
    expect(report.totalMs).toBe(report.maxMs);
    expect(report.neverRestored).toEqual([]);
    expect(observer.changes.tagsMoved).toEqual([
      { repository: 'app/x', tag: 'v2', from: b.digest, to: a.digest },
    ]);
  });

  it('reports a tag never restored, ignores ignored tags, other Regions and external changes', () => {
    // Prepare
    const observer = new SourceEventObserver(emulator.world, {
      account: ACCOUNT,
      region: REGION,
      ignoreTag: (tag) => tag.startsWith('tmp-'),
    });
    emulator.seedImage({ region: REGION, repository: 'app/x' }, a, { tags: ['tmp-1'] });
    emulator.seedImage({ region: 'eu-west-1', repository: 'app/x' }, a, { tags: ['v1'] });

    // Act
    emulator.world.removeTag(repo(), 'tmp-1');
    emulator.world.removeTag(emulator.world.requireRepository(ACCOUNT, 'eu-west-1', 'app/x'), 'v1');
    observer.external(() => emulator.world.setTag(repo(), 'v2', a.digest));
    emulator.world.removeTag(repo(), 'keep');
    observer.stop();

    // Assess
    expect(observer.report()).toMatchObject({
      windows: 1,
      neverRestored: [{ repository: 'app/x', tag: 'keep' }],
    });
    expect(observer.changes.tagsMoved).toEqual([]);
  });

  it('records images deleted in the source', () => {
    const observer = new SourceEventObserver(emulator.world, { account: ACCOUNT, region: REGION });
    emulator.world.deleteImage(repo(), b.digest);
    observer.stop();
    expect(observer.changes.imagesDeleted).toEqual([{ repository: 'app/x', digest: b.digest }]);
  });
});

describe('SourceTagPoller', () => {
  let emulator: EcrEmulator;
  afterEach(async () => {
    await emulator.close();
  });

  it('resolves every watched tag through the API and records each miss', async () => {
    // Prepare
    emulator = await startEcrEmulator({ account: ACCOUNT, quotaScale: Infinity });
    emulator.seedImage({ region: REGION, repository: 'app/x' }, a, { tags: ['v1'] });
    emulator.seedImage({ region: REGION, repository: 'app/y' }, b, { tags: ['v2'] });
    const client = emulator.client(REGION, { account: ACCOUNT });
    const poller = new SourceTagPoller(client, [
      { repository: 'app/x', tag: 'v1', digest: a.digest },
      { repository: 'app/y', tag: 'v2', digest: b.digest },
      { repository: 'app/y', tag: 'gone', digest: b.digest },
    ]);

    // Act
    poller.start();
    while (emulator.callLog.count({ operation: 'BatchGetImage' }) < 6) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const report = await poller.stop();
    client.destroy();

    // Assess
    expect(report.sweeps).toBeGreaterThanOrEqual(3);
    expect(report.resolutions).toBe(report.sweeps * 3);
    expect(report.failedCalls).toBe(0);
    expect(report.misses.length).toBe(report.sweeps);
    expect(new Set(report.misses.map((m) => `${m.repository}:${m.tag}`))).toEqual(new Set(['app/y:gone']));
  });
});
