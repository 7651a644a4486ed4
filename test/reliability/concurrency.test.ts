/**
 * Concurrency (docs/architecture.md §3.2, invariant 3): while the backfill runs, another client pushes new digests
 * to tags being backfilled, through the API like `docker push`. Those tags must end at the newer
 * digest everywhere — in the source and in every destination — and the backfill must not revert
 * them. The pushes are timed from the emulator's own events: some land while the first temp tags are
 * being pushed, the others while tags are being promoted in the destinations.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDockerImage, pushImage, type WorldEvent } from '../../local/ecr-emulator/index.ts';
import { formatViolations } from '../../local/bench/invariants.ts';
import { BENCH_SOURCE_ACCOUNT, BENCH_SOURCE_REGION } from '../../local/bench/registry-generator.ts';
import { DEFAULT_TEMP_TAG_PREFIX } from '../../core/contracts/input-schema.ts';
import type { LocalS3 } from '../../local/s3/index.ts';
import {
  runObserved,
  SMALL_SHAPE,
  SOAK,
  startReliabilityWorld,
  startRunS3,
  type GeneratedWorld,
} from './support.ts';

interface Move {
  repository: string;
  tag: string;
  digest: string;
}

/**
 * Tags of covered repositories, in plan order (repository, then image), spread over the run. Only
 * images that keep another tag: an image left with no tag of its own is the case of the last test.
 */
function pickTags(world: GeneratedWorld, count: number): { repository: string; tag: string }[] {
  const candidates = world.registry.repositories
    .filter((r) => r.coveredBy.length > 0)
    .flatMap((r) =>
      r.images
        .filter((i) => i.status === 'ACTIVE' && i.tags.length >= 2)
        .flatMap((i) => i.tags.slice(1).map((tag) => ({ repository: r.name, tag }))),
    );
  const step = Math.max(1, Math.floor(candidates.length / count));
  return candidates.filter((_, i) => i % step === 0).slice(0, count);
}

describe('a third party pushing to tags during the backfill', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startRunS3(BENCH_SOURCE_REGION, BENCH_SOURCE_ACCOUNT);
  });
  afterAll(async () => {
    await s3.close();
  });

  it.each(SOAK ? [11, 12, 13, 14, 15] : [11, 12])(
    'seed %i: the moved tags end at the newer digest in the source and every destination',
    async (seed) => {
      // Prepare
      const world = await startReliabilityWorld(
        { seed, ...SMALL_SHAPE, conflictShare: 0 },
        { replicationLatencyMs: 25 },
      );
      const pusher = world.emulator.client(world.source.region, {
        account: world.source.account,
        maxAttempts: 5,
      });
      const picks = pickTags(world, 6);
      const early = picks.filter((_, i) => i % 2 === 0);
      const late = picks.filter((_, i) => i % 2 === 1);
      const moves: Move[] = [];
      const pushes: Promise<void>[] = [];
      const push = (batch: typeof picks) => {
        for (const { repository, tag } of batch) {
          const image = buildDockerImage(`third-party/${seed}/${repository}/${tag}`);
          moves.push({ repository, tag, digest: image.digest });
          pushes.push(pushImage(pusher, repository, image, { tag }).then(() => undefined));
        }
      };
      let fired = { early: false, late: false };
      const trigger = (event: WorldEvent) => {
        if (event.type !== 'tag-set') return;
        const temp = event.tag.startsWith(DEFAULT_TEMP_TAG_PREFIX);
        const inSource = event.account === world.source.account && event.region === world.source.region;
        // First temp tag in the source: pushing has started.
        if (!fired.early && temp && inSource) {
          fired = { ...fired, early: true };
          push(early);
        }
        // First original tag put in a destination: promoting has started.
        if (!fired.late && !temp && !inSource) {
          fired = { ...fired, late: true };
          push(late);
        }
      };
      const unsubscribe = world.emulator.world.on(trigger);
      try {
        // Act
        const run = await runObserved(world, {
          s3,
          input: { batchSize: 3 },
          putImageRatePerSecond: 40,
          invariants: { externalMoves: moves },
          settle: () => Promise.all(pushes),
        });

        // Assess
        expect(fired).toEqual({ early: true, late: true });
        expect(run.result.status, run.result.cause?.slice(0, 300)).toBe('SUCCEEDED');
        for (const move of moves) {
          expect(
            world.emulator.world.resolveTag(
              world.source.account,
              world.source.region,
              move.repository,
              move.tag,
            ),
          ).toBe(move.digest);
          const repository = world.registry.repositories.find((r) => r.name === move.repository);
          for (const index of repository?.coveredBy ?? []) {
            const d = world.registry.destinations[index]!;
            expect(
              world.emulator.world.resolveTag(d.registryId, d.region, move.repository, move.tag),
              `${move.repository}:${move.tag} in ${d.region}`,
            ).toBe(move.digest);
          }
        }
        expect(formatViolations(run.violations)).toBe('');
      } finally {
        unsubscribe();
        pusher.destroy();
        await world.close();
      }
    },
  );

  it('an image whose only tag is moved away mid-run keeps its temp tag as a marker in the source only', async () => {
    // Prepare: a single-tag image, and a third party pushing a new digest to that tag as soon as the
    // backfill has put its temp tag on the image (the temp tag is then the image's only tag).
    const world = await startReliabilityWorld(
      { seed: 12, ...SMALL_SHAPE, conflictShare: 0, presentShare: 0 },
      { replicationLatencyMs: 25 },
    );
    const pusher = world.emulator.client(world.source.region, {
      account: world.source.account,
      maxAttempts: 5,
    });
    const target = world.registry.repositories
      .filter((r) => r.coveredBy.length === world.registry.destinations.length)
      .flatMap((r) =>
        r.images.filter((i) => i.status === 'ACTIVE' && i.tags.length === 1).map((i) => ({ r, i })),
      )[0];
    expect(target).toBeDefined();
    const { r: repository, i: image } = target!;
    const tag = image.tags[0]!;
    const newer = buildDockerImage(`third-party/only-tag/${repository.name}/${tag}`);
    const moves: Move[] = [{ repository: repository.name, tag, digest: newer.digest }];
    let push: Promise<unknown> | undefined;
    const unsubscribe = world.emulator.world.on((event) => {
      const onTarget =
        event.type === 'tag-set' && event.repository === repository.name && event.digest === image.digest;
      if (
        !push &&
        onTarget &&
        event.tag.startsWith(DEFAULT_TEMP_TAG_PREFIX) &&
        event.region === world.source.region
      ) {
        push = pushImage(pusher, repository.name, newer, { tag });
      }
    });
    try {
      // Act
      const run = await runObserved(world, {
        s3,
        input: { batchSize: 3 },
        invariants: { externalMoves: moves },
        settle: () => push ?? Promise.resolve(),
      });

      // Assess
      expect(push).toBeDefined();
      expect(run.result.status).toBe('SUCCEEDED');
      // The old image survives in the source (never deleted by us), held by the temp tag as a marker;
      // in the destinations, where it only exists because the run pushed it, no temp tag may remain.
      expect(
        world.emulator.world.getImage(
          world.source.account,
          world.source.region,
          repository.name,
          image.digest,
        ),
      ).toBeDefined();
      expect(formatViolations(run.violations)).toBe('');
    } finally {
      unsubscribe();
      pusher.destroy();
      await world.close();
    }
  });
});
