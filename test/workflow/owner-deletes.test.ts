/**
 * Owners' deletes win (docs/architecture.md §3.2 #11), end to end: an owner deletes images and tags
 * in the source while a run goes, for both engines (re-push and native) and both strategies, and
 * afterwards nothing deleted is back, in the source or any destination, while everything else is
 * complete: every other selected tag in every destination at the source digest, no temp tag left.
 *
 * The owner acts as ECR's BatchDeleteImage does (the tag or the image goes, and a rule that
 * replicates deletes replays it), at fixed points of the run: right before one of the run's calls
 * takes effect (a hook in the emulator's fault table that never fails the call), or as a copy lands
 * in a destination (the emulator's world events). Each hook must fire, or the test fails.
 * retag-source runs without replication of deletes: Plan refuses it under such a rule (§3.2 #9).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildDockerImage, type BuiltImage, type Fixture } from '../../local/ecr-emulator/index.ts';
import type { CallInfo } from '../../local/ecr-emulator/faults.ts';
import type { EmulatorSnapshot } from '../../local/ecr-emulator/snapshot.ts';
import type { BackfillRunResult } from '../../local/runner/run-backfill.ts';
import { runWorkflow } from '../support/world.ts';
import {
  digestsOf,
  permissiveBackfillTemplate,
  startWorld,
  tagsOf,
  TEMP_TAG_PREFIX,
  tempTagsAnywhere,
  type Location,
  type World,
} from './helpers.ts';

const ACCOUNT = '111111111111';
const SOURCE: Location = { account: ACCOUNT, region: 'ap-south-1' };
const SEOUL: Location = { account: ACCOUNT, region: 'ap-northeast-2' };
const OREGON: Location = { account: ACCOUNT, region: 'us-west-2' };
const DESTINATIONS = [SEOUL, OREGON];
/** A run takes 2 to 15 s here; generous for a loaded machine. */
const RUN_TIMEOUT_MS = 180_000;

function fixture(deleteReplication: boolean): Fixture {
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
                  destinations: DESTINATIONS.map((d) => ({ region: d.region, registryId: d.account })),
                  deleteReplication: { enabled: deleteReplication },
                },
              ],
            },
          },
        ],
      },
    ],
  };
}

/** One owner's delete: what went, and what each destination held at that instant. */
interface OwnerDelete {
  repository: string;
  tag?: string;
  digest: string;
  at: EmulatorSnapshot;
}

/** The owner of the source registry, deleting as BatchDeleteImage does, and what it deleted. */
class Owner {
  readonly deletes: OwnerDelete[] = [];

  constructor(private readonly world: World) {}

  private repository(name: string) {
    return this.world.emulator.world.requireRepository(SOURCE.account, SOURCE.region, name);
  }

  deleteTag(repositoryName: string, tag: string): void {
    const emulator = this.world.emulator;
    const repository = this.repository(repositoryName);
    const digest = emulator.world.resolveTag(SOURCE.account, SOURCE.region, repositoryName, tag);
    if (digest === undefined) throw new Error(`owner: ${repositoryName}:${tag} is not there`);
    this.deletes.push({ repository: repositoryName, tag, digest, at: emulator.snapshot() });
    const image = emulator.world.removeTag(repository, tag);
    // Removing an image's last tag deletes the image (BatchDeleteImage).
    if (image && image.tags.length === 0) {
      emulator.world.deleteImage(repository, digest);
      emulator.replicationEngine.onImageDeleted(repository, digest);
    } else {
      emulator.replicationEngine.onTagRemoved(repository, tag);
    }
  }

  deleteImage(repositoryName: string, digest: string): void {
    const emulator = this.world.emulator;
    const repository = this.repository(repositoryName);
    this.deletes.push({ repository: repositoryName, digest, at: emulator.snapshot() });
    emulator.world.deleteImage(repository, digest);
    emulator.replicationEngine.onImageDeleted(repository, digest);
  }
}

/** A hook that must fire once: `fired` says whether it did. */
interface Hook {
  readonly name: string;
  fired: boolean;
}

/** Runs `action` once, right before the first call `when` matches takes effect (the call goes on). */
function beforeCall(world: World, name: string, when: (call: CallInfo) => boolean, action: () => void): Hook {
  const hook: Hook = { name, fired: false };
  const handle = world.emulator.faults.add({
    match: (call) => {
      if (!hook.fired && when(call)) {
        hook.fired = true;
        action();
      }
      return false;
    },
  });
  world.defer(() => handle.remove());
  return hook;
}

/** Runs `action` once, when the run's temp tag of `repository` has landed in every destination. */
function whenTempTagLanded(world: World, name: string, repository: string, action: () => void): Hook {
  const hook: Hook = { name, fired: false };
  const landed = new Set<string>();
  const unsubscribe = world.emulator.world.on((event) => {
    if (hook.fired || event.type !== 'tag-set' || event.repository !== repository) return;
    if (event.region === SOURCE.region || !event.tag.startsWith(TEMP_TAG_PREFIX)) return;
    landed.add(event.region);
    if (landed.size < DESTINATIONS.length) return;
    hook.fired = true;
    // After the event's own bookkeeping, as an owner's call would come.
    setImmediate(action);
  });
  world.defer(unsubscribe);
  return hook;
}

const isTempPut = (repository: string) => (call: CallInfo) =>
  call.operation === 'PutImage' &&
  call.region === SOURCE.region &&
  call.repository === repository &&
  typeof call.input.imageTag === 'string' &&
  call.input.imageTag.startsWith(TEMP_TAG_PREFIX);

function seed(world: World, repository: string, name: string, tags: string[]): BuiltImage {
  const image = buildDockerImage(`owner-deletes/${name}`);
  world.emulator.seedImage({ region: SOURCE.region, repository }, image, { tags });
  return image;
}

/**
 * What the run must leave: nothing the owner deleted is in the source; in a destination it is
 * absent where deletes replicate, and elsewhere only as it was at the instant of the delete (a copy
 * that had arrived before stays, since the owner deleted in the source only); every other tag of
 * the source before the run is in the source and in every destination at its digest; no temp tag.
 */
function expectOwnersDeletesWon(
  before: EmulatorSnapshot,
  after: EmulatorSnapshot,
  deletes: readonly OwnerDelete[],
  deleteReplication: boolean,
): void {
  const deletedTag = (key: string, digest: string) =>
    deletes.some(
      (d) =>
        `${d.repository}:${d.tag}` === key ||
        (d.tag === undefined && key.startsWith(`${d.repository}:`) && d.digest === digest),
    );
  for (const d of deletes) {
    const what = d.tag === undefined ? `${d.repository}@${d.digest}` : `${d.repository}:${d.tag}`;
    if (d.tag === undefined) {
      expect(digestsOf(after, SOURCE).has(`${d.repository}@${d.digest}`), `${what} in the source`).toBe(
        false,
      );
    } else {
      expect(tagsOf(after, SOURCE).has(`${d.repository}:${d.tag}`), `${what} in the source`).toBe(false);
    }
    for (const destination of DESTINATIONS) {
      const where = `${what} in ${destination.region}`;
      if (d.tag === undefined) {
        const here = digestsOf(after, destination).has(`${d.repository}@${d.digest}`);
        const then = digestsOf(d.at, destination).has(`${d.repository}@${d.digest}`);
        expect(here, where).toBe(deleteReplication ? false : here && then);
        // A copy that stays holds no tag it did not hold at the delete.
        const tagsThen = tagsOf(d.at, destination);
        for (const [key, digest] of tagsOf(after, destination)) {
          if (digest === d.digest && key.startsWith(`${d.repository}:`))
            expect(tagsThen.get(key), `${where}: ${key}`).toBe(d.digest);
        }
      } else {
        const key = `${d.repository}:${d.tag}`;
        const here = tagsOf(after, destination).get(key);
        const then = tagsOf(d.at, destination).get(key);
        if (deleteReplication || here === undefined) expect(here, where).toBeUndefined();
        else expect(here, `${where} (not there at the delete)`).toBe(then);
      }
    }
  }
  // Everything else is complete.
  const kept = [...tagsOf(before, SOURCE)].filter(([key, digest]) => !deletedTag(key, digest));
  expect(kept.length).toBeGreaterThan(0);
  expect(new Map([...tagsOf(after, SOURCE)].filter(([key]) => !key.includes(`:${TEMP_TAG_PREFIX}`)))).toEqual(
    new Map(kept),
  );
  for (const destination of DESTINATIONS) {
    const there = tagsOf(after, destination);
    for (const [key, digest] of kept) expect(there.get(key), `${key} in ${destination.region}`).toBe(digest);
  }
  expect(tempTagsAnywhere(after)).toEqual([]);
}

/** The report's outcome of every row of the deleted tags (and the deleted images' tags). */
function reportedOutcomes(result: BackfillRunResult, deletes: readonly OwnerDelete[]): string[] {
  return (result.report?.rows ?? [])
    .filter((row) =>
      deletes.some(
        (d) =>
          d.repository === row.repositoryName &&
          (d.tag === undefined ? d.digest === row.imageDigest : d.tag === row.tag),
      ),
    )
    .map((row) => row.outcome);
}

describe("an owner's deletes during a run win, whatever the engine and strategy", () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  for (const [strategy, deleteReplication] of [
    ['promote', true],
    ['promote', false],
    ['retag-source', false],
  ] as const) {
    it(
      `re-push, ${strategy}, ${deleteReplication ? 'with' : 'without'} replication of deletes`,
      async () => {
        // Prepare: one repository per window, and one the owner leaves alone.
        world = await startWorld(fixture(deleteReplication), { replicationLatencyMs: 50, seed: 20 });
        const w = world;
        const owner = new Owner(w);
        const pushWindow = seed(w, 'owner/push-window', 'push', ['p1', 'p2']);
        seed(w, 'owner/tag-window', 'tag', ['t1', 't2']);
        const afterPush = seed(w, 'owner/after-push', 'after', ['a1', 'a2']);
        seed(w, 'owner/untouched', 'untouched', ['u1', 'u2']);
        const hooks: Hook[] = [
          // Between PushTempTags' read and its put: the put would re-create the image (M2).
          beforeCall(w, 'image deleted right before our temp-tag put', isTempPut('owner/push-window'), () =>
            owner.deleteImage('owner/push-window', pushWindow.digest),
          ),
          // Inside the tag's own window: PromoteTags' put in a destination (M3), or RetagSourceTags'
          // delete of the tag in the source, which the owner's delete beats.
          strategy === 'promote'
            ? beforeCall(
                w,
                'tag deleted right before our destination put of it',
                (call) =>
                  call.operation === 'PutImage' &&
                  call.region === SEOUL.region &&
                  call.repository === 'owner/tag-window' &&
                  call.input.imageTag === 't1',
                () => owner.deleteTag('owner/tag-window', 't1'),
              )
            : beforeCall(
                w,
                'tag deleted right before our retag of it',
                (call) =>
                  call.operation === 'BatchDeleteImage' &&
                  call.region === SOURCE.region &&
                  call.repository === 'owner/tag-window' &&
                  JSON.stringify(call.input.imageIds ?? []).includes('"t1"'),
                () => owner.deleteTag('owner/tag-window', 't1'),
              ),
          // After our push replicated: the copies hold our temp tag (CleanupTempTags must take it).
          whenTempTagLanded(w, 'image deleted once our push replicated', 'owner/after-push', () =>
            owner.deleteImage('owner/after-push', afterPush.digest),
          ),
        ];
        const before = w.emulator.snapshot();

        // Act
        const result = await runWorkflow(w, {
          s3: w.s3,
          template: permissiveBackfillTemplate(),
          input: { strategy, method: 'repush', batchSize: 1 },
        });
        await w.emulator.whenReplicationIdle();

        // Assess
        expect(result.status, `${result.error}: ${result.cause?.slice(0, 400)}`).toBe('SUCCEEDED');
        expect(hooks.filter((hook) => !hook.fired).map((hook) => hook.name)).toEqual([]);
        expectOwnersDeletesWon(before, w.emulator.snapshot(), owner.deletes, deleteReplication);
        const outcomes = reportedOutcomes(result, owner.deletes);
        expect(outcomes.length).toBeGreaterThan(0);
        expect(new Set(outcomes)).toEqual(new Set(['SOURCE_GONE']));
      },
      RUN_TIMEOUT_MS,
    );
  }

  it(
    'native, with replication of deletes: a tag the backfill copies after its owner deleted it is removed again',
    async () => {
      // Prepare: one replication per backfill tick, so the backfill copies its list over many ticks.
      world = await startWorld(fixture(true), { replicationLatencyMs: 20, backfillBatchSize: 1, seed: 21 });
      const w = world;
      const owner = new Owner(w);
      const repository = 'owner/native';
      const images = Array.from({ length: 4 }, (_, i) =>
        seed(w, repository, `native-${i}`, [`n${i}`, `n${i}-b`]),
      );
      const sourceRepository = w.emulator.world.requireRepository(SOURCE.account, SOURCE.region, repository);
      // The backfill lists images in digest order: the last ones are copied after the first lands.
      const [firstGone, lastTagged] = w.emulator.world.sortedDigests(sourceRepository).slice(-2);
      const tagOfLast = images.find((image) => image.digest === lastTagged)!;
      const deletedTag = `n${images.indexOf(tagOfLast)}-b`;
      const hook: Hook = { name: 'deletes once the backfill delivered its first copy', fired: false };
      const unsubscribe = w.emulator.world.on((event) => {
        if (hook.fired || event.type !== 'tag-set' || event.region === SOURCE.region) return;
        hook.fired = true;
        setImmediate(() => {
          owner.deleteTag(repository, deletedTag);
          owner.deleteImage(repository, firstGone!);
        });
      });
      w.defer(unsubscribe);
      const before = w.emulator.snapshot();

      // Act
      const result = await runWorkflow(w, { s3: w.s3, input: { method: 'native' } });
      await w.emulator.whenReplicationIdle();

      // Assess: the native engine ran, and the backfill did copy the deleted tag (the case at hand).
      expect(result.status, `${result.error}: ${result.cause?.slice(0, 400)}`).toBe('SUCCEEDED');
      expect(hook.fired).toBe(true);
      expect(w.emulator.backfills.all().length).toBeGreaterThan(0);
      const copiedAfterDelete = w.emulator.backfills
        .all()
        .some((backfill) =>
          backfill.results.some((r) => r.imageId.imageTag === deletedTag && r.status === 'COMPLETE'),
        );
      expect(copiedAfterDelete).toBe(true);
      expectOwnersDeletesWon(before, w.emulator.snapshot(), owner.deletes, true);
      const outcomes = reportedOutcomes(result, owner.deletes);
      expect(outcomes.length).toBeGreaterThan(0);
      expect(new Set(outcomes)).toEqual(new Set(['SOURCE_GONE']));
    },
    RUN_TIMEOUT_MS,
  );
});
