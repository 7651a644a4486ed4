/**
 * A local world for workflow tests (the shared world of test/support/world.ts: ECR emulator +
 * s3rver) and the checks of the safety invariants (docs/architecture.md §3.2) on emulator snapshots
 * and call logs.
 */
import {
  buildImage,
  type EcrEmulatorOptions,
  type EmulatorSnapshot,
  type Fixture,
} from '../../local/ecr-emulator/index.ts';
import { DEMO_SOURCE_ACCOUNT, DEMO_SOURCE_REGION } from '../../local/demo-registry.ts';
import {
  runBackfillLocally,
  type BackfillRunResult,
  type RunBackfillOptions,
} from '../../local/runner/run-backfill.ts';
import {
  generatedRegistry as generateRegistry,
  startWorld as startSharedWorld,
  type Location,
  type World,
} from '../support/world.ts';

export { backfillTemplate, permissiveBackfillTemplate, type Location, type World } from '../support/world.ts';

/**
 * Runs the workflow locally on a world seeded with the demo registry (its source account and
 * Region), PutImage paced far above what a test puts; `options` add or override the rest.
 */
export function runOnDemoWorld(
  world: World,
  options: Partial<RunBackfillOptions>,
): Promise<BackfillRunResult> {
  return runBackfillLocally({
    ecrEndpoint: world.emulator.endpoint,
    s3: world.s3,
    sourceRegion: DEMO_SOURCE_REGION,
    account: DEMO_SOURCE_ACCOUNT,
    putImageRatePerSecond: 1000,
    ...options,
  });
}

export const TEMP_TAG_PREFIX = 'ecr-backfill-';

/** The fixture's registries, replication after 100 ms, quotas ×1000, and an S3 of the world's own. */
export function startWorld(fixture: Fixture, options: EcrEmulatorOptions = {}): Promise<World> {
  return startSharedWorld({ replicationLatencyMs: 100, quotaScale: 1000, ...options, fixture });
}

/** `repository:tag` → digest, in one registry. */
export function tagsOf(snapshot: EmulatorSnapshot, where: Location): Map<string, string> {
  const tags = new Map<string, string>();
  const registry = snapshot.registries.find((r) => r.account === where.account && r.region === where.region);
  for (const repository of registry?.repositories ?? []) {
    for (const image of repository.images) {
      for (const tag of image.tags) tags.set(`${repository.name}:${tag}`, image.digest);
    }
  }
  return tags;
}

/** `repository@digest` of every image in one registry. */
export function digestsOf(snapshot: EmulatorSnapshot, where: Location): Set<string> {
  const registry = snapshot.registries.find((r) => r.account === where.account && r.region === where.region);
  return new Set(
    (registry?.repositories ?? []).flatMap((repository) =>
      repository.images.map((image) => `${repository.name}@${image.digest}`),
    ),
  );
}

export interface ExpectedTag {
  destination: Location;
  repository: string;
  tag: string;
  digest: string;
}

/**
 * What a complete backfill must leave in the destinations: every tag of every active source image
 * in every destination whose rule covers the repository (prefix filters; none = all).
 */
export function expectedDestinationTags(snapshot: EmulatorSnapshot, source: Location): ExpectedTag[] {
  const registry = snapshot.registries.find(
    (r) => r.account === source.account && r.region === source.region,
  );
  if (!registry) return [];
  const expected: ExpectedTag[] = [];
  for (const repository of registry.repositories) {
    const destinations = new Map<string, Location>();
    for (const rule of registry.replicationConfiguration.rules) {
      const filters = rule.repositoryFilters ?? [];
      if (filters.length > 0 && !filters.some((f) => repository.name.startsWith(f.filter))) continue;
      for (const d of rule.destinations)
        destinations.set(`${d.registryId}/${d.region}`, { account: d.registryId, region: d.region });
    }
    for (const image of repository.images) {
      if (image.status !== 'ACTIVE') continue;
      for (const tag of image.tags) {
        if (tag.startsWith(TEMP_TAG_PREFIX)) continue;
        for (const destination of destinations.values()) {
          expected.push({ destination, repository: repository.name, tag, digest: image.digest });
        }
      }
    }
  }
  return expected;
}

/** Tags that are missing or point elsewhere in their destination. */
export function missingDestinationTags(snapshot: EmulatorSnapshot, expected: ExpectedTag[]): ExpectedTag[] {
  const byRegistry = new Map<string, Map<string, string>>();
  return expected.filter((entry) => {
    const key = `${entry.destination.account}/${entry.destination.region}`;
    let tags = byRegistry.get(key);
    if (!tags) {
      tags = tagsOf(snapshot, entry.destination);
      byRegistry.set(key, tags);
    }
    return tags.get(`${entry.repository}:${entry.tag}`) !== entry.digest;
  });
}

/** Every temp tag left in any registry, as `account/region/repository:tag`. */
export function tempTagsAnywhere(snapshot: EmulatorSnapshot): string[] {
  return snapshot.registries.flatMap((registry) =>
    registry.repositories.flatMap((repository) =>
      repository.images.flatMap((image) =>
        image.tags
          .filter((tag) => tag.startsWith(TEMP_TAG_PREFIX))
          .map((tag) => `${registry.account}/${registry.region}/${repository.name}:${tag}`),
      ),
    ),
  );
}

/** A generated registry: `repositories` × `imagesPerRepository` single-platform images, two tags each. */
export function generatedRegistry(options: {
  account: string;
  region: string;
  destination: Location;
  repositories: number;
  imagesPerRepository: number;
}): Fixture {
  return generateRegistry({
    source: { account: options.account, region: options.region },
    destinations: [options.destination],
    repositories: options.repositories,
    imagesPerRepository: options.imagesPerRepository,
    seed: 'gen',
    tags: (r, i) => [`v${i}.0.0`, `build-${r}-${i}`],
  });
}

/** A new image for a tag pushed by someone else. */
export const someoneElsesImage = (seed: string) =>
  buildImage({ format: 'docker', seed, layers: 1, layerSize: 64 });
