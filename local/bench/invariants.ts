/**
 * The safety invariants of docs/architecture.md §3.2 (1–6), checked from what the emulator itself recorded: a
 * snapshot before the run, a snapshot after it, the call log and (optionally) an independent
 * observer of the source registry. Nothing here reads what the workflow reports about itself, so a
 * step that claims success while leaving the registry wrong fails these checks.
 *
 *   const violations = checkInvariants({ before, after, calls, source, tempTagPrefix, succeeded: true });
 *   expect(violations).toEqual([]);
 */
import type { CallLogEntry, EmulatorSnapshot, RegistrySnapshot } from '../ecr-emulator/index.ts';
import { compileStarGlob, isTempTag } from 'ecr-backfill/core';
import type { SourceChanges, UnavailabilityReport } from './observer.ts';

export interface InvariantInput {
  before: EmulatorSnapshot;
  after: EmulatorSnapshot;
  /** The emulator's call log for the run (every call, all accounts and Regions). */
  calls: readonly CallLogEntry[];
  source: { account: string; region: string };
  tempTagPrefix: string;
  strategy: 'promote' | 'retag-source';
  /** The execution ended SUCCEEDED (invariant 4 only applies then). */
  succeeded: boolean;
  /** Tags a third party moved during the run, with the digest they were moved to (invariant 3). */
  externalMoves?: readonly { repository: string; tag: string; digest: string }[];
  /** What an observer of the source saw (invariants 1 and 2). */
  observed?: { unavailability: UnavailabilityReport; changes: SourceChanges };
  /** Selection of the run input: repositories and tags the backfill had to deliver. Default all. */
  selectRepository?: (name: string) => boolean;
  selectTag?: (tag: string) => boolean;
  includeArchived?: boolean;
  /** The input selected untagged images: they keep the run's temp tag as their marker (invariant 7). */
  includeUntagged?: boolean;
  overwriteConflicts?: boolean;
}

export interface InvariantViolation {
  invariant: 1 | 2 | 3 | 4 | 5 | 6;
  message: string;
}

interface Destination {
  region: string;
  registryId: string;
}

const ECR_WRITES = new Set(['PutImage', 'BatchDeleteImage']);
/** A PutImage that reached the repository's state machine (not throttled, not failed by injection). */
const REACHED = new Set(['ok', 'ImageAlreadyExistsException', 'ImageTagAlreadyExistsException']);

export const registryOf = (
  snapshot: EmulatorSnapshot,
  account: string,
  region: string,
): RegistrySnapshot | undefined =>
  snapshot.registries.find((r) => r.account === account && r.region === region);

/** repository → tag → digest, and repository → digests. */
function index(registry: RegistrySnapshot | undefined): {
  tags: Map<string, Map<string, string>>;
  images: Map<string, Map<string, { status: string; tags: string[] }>>;
  immutable: Map<string, { mutability: string; filters: string[] }>;
} {
  const tags = new Map<string, Map<string, string>>();
  const images = new Map<string, Map<string, { status: string; tags: string[] }>>();
  const immutable = new Map<string, { mutability: string; filters: string[] }>();
  for (const repository of registry?.repositories ?? []) {
    const repoTags = new Map<string, string>();
    const repoImages = new Map<string, { status: string; tags: string[] }>();
    for (const image of repository.images) {
      repoImages.set(image.digest, { status: image.status, tags: image.tags });
      for (const tag of image.tags) repoTags.set(tag, image.digest);
    }
    tags.set(repository.name, repoTags);
    images.set(repository.name, repoImages);
    immutable.set(repository.name, {
      mutability: repository.imageTagMutability,
      filters: repository.imageTagMutabilityExclusionFilters.map((f) => f.filter),
    });
  }
  return { tags, images, immutable };
}

/** Destinations whose replication rules cover a repository (PREFIX_MATCH; no filter = all). */
export function coveringDestinations(
  registry: RegistrySnapshot | undefined,
  repository: string,
): Destination[] {
  const found = new Map<string, Destination>();
  for (const rule of registry?.replicationConfiguration.rules ?? []) {
    const filters = rule.repositoryFilters ?? [];
    if (filters.length > 0 && !filters.some((f) => repository.startsWith(f.filter))) continue;
    for (const d of rule.destinations) found.set(`${d.registryId}/${d.region}`, d);
  }
  return [...found.values()];
}

/** ECR's tag mutability with exclusion filters (wildcards). */
function tagImmutable(settings: { mutability: string; filters: string[] } | undefined, tag: string): boolean {
  if (!settings) return false;
  const excluded = settings.filters.some((f) => compileStarGlob(f)(tag));
  switch (settings.mutability) {
    case 'IMMUTABLE':
      return true;
    case 'IMMUTABLE_WITH_EXCLUSION':
      return !excluded;
    case 'MUTABLE_WITH_EXCLUSION':
      return excluded;
    default:
      return false;
  }
}

export function checkInvariants(input: InvariantInput): InvariantViolation[] {
  const violations: InvariantViolation[] = [];
  const fail = (invariant: InvariantViolation['invariant'], message: string) =>
    violations.push({ invariant, message });
  const { account, region } = input.source;
  const isTemp = (tag: string) => isTempTag(tag, input.tempTagPrefix);
  const selectRepository = input.selectRepository ?? (() => true);
  const selectTag = input.selectTag ?? (() => true);
  const external = new Map((input.externalMoves ?? []).map((m) => [`${m.repository}:${m.tag}`, m.digest]));

  const sourceBefore = registryOf(input.before, account, region);
  const sourceAfter = registryOf(input.after, account, region);
  const before = index(sourceBefore);
  const after = index(sourceAfter);

  // 1. No source image deleted; no source tag moved (or lost) because of us; nothing outside the
  //    covered repositories written.
  for (const [repository, images] of before.images) {
    for (const digest of images.keys()) {
      if (!after.images.get(repository)?.has(digest)) {
        fail(1, `source image ${repository}@${digest} was deleted`);
      }
    }
  }
  for (const deleted of input.observed?.changes.imagesDeleted ?? []) {
    fail(1, `source image ${deleted.repository}@${deleted.digest} was deleted during the run (observer)`);
  }
  for (const [repository, tags] of before.tags) {
    for (const [tag, digest] of tags) {
      if (isTemp(tag)) continue;
      const expected = external.get(`${repository}:${tag}`) ?? digest;
      const now = after.tags.get(repository)?.get(tag);
      if (now !== expected) {
        fail(1, `source tag ${repository}:${tag} ends at ${now ?? 'nothing'}, expected ${expected}`);
      }
    }
  }
  for (const moved of input.observed?.changes.tagsMoved ?? []) {
    if (isTemp(moved.tag) || external.has(`${moved.repository}:${moved.tag}`)) continue;
    fail(1, `source tag ${moved.repository}:${moved.tag} was moved from ${moved.from} to ${moved.to}`);
  }
  for (const call of input.calls) {
    if (!ECR_WRITES.has(call.operation) || call.account !== account || call.region !== region) continue;
    const repository = call.params.repositoryName ?? '';
    if (coveringDestinations(sourceBefore, repository).length === 0 && before.images.has(repository)) {
      fail(1, `${call.operation} on ${repository}, which no replication rule covers`);
    }
  }

  // 2. promote: no source tag ever unresolvable.
  if (input.strategy === 'promote' && input.observed) {
    const u = input.observed.unavailability;
    if (u.windows > 0) {
      fail(2, `${u.windows} source tag unavailability window(s), longest ${u.maxMs.toFixed(1)} ms`);
    }
  }
  for (const lost of input.observed?.unavailability.neverRestored ?? []) {
    if (isTemp(lost.tag)) continue;
    fail(1, `source tag ${lost.repository}:${lost.tag} was removed and never restored`);
  }

  // Every destination registry, before and after.
  const destinationKeys = new Set<string>();
  for (const rule of sourceBefore?.replicationConfiguration.rules ?? []) {
    for (const d of rule.destinations) destinationKeys.add(`${d.registryId}/${d.region}`);
  }
  const destIndex = (snapshot: EmulatorSnapshot, d: Destination) =>
    index(registryOf(snapshot, d.registryId, d.region));
  const destBefore = new Map<string, ReturnType<typeof index>>();
  const destAfter = new Map<string, ReturnType<typeof index>>();
  const destinationOf = (d: Destination) => {
    const key = `${d.registryId}/${d.region}`;
    if (!destBefore.has(key)) {
      destBefore.set(key, destIndex(input.before, d));
      destAfter.set(key, destIndex(input.after, d));
    }
    return { before: destBefore.get(key)!, after: destAfter.get(key)! };
  };

  // 3. Tags a third party moved end at the newer digest, in the source and every covering destination.
  for (const move of input.externalMoves ?? []) {
    const inSource = after.tags.get(move.repository)?.get(move.tag);
    if (inSource !== move.digest) {
      fail(
        3,
        `moved tag ${move.repository}:${move.tag} ends at ${inSource ?? 'nothing'} in the source, expected ${move.digest}`,
      );
    }
    for (const d of coveringDestinations(sourceBefore, move.repository)) {
      const inDestination = destinationOf(d).after.tags.get(move.repository)?.get(move.tag);
      if (inDestination !== move.digest) {
        fail(
          3,
          `moved tag ${move.repository}:${move.tag} ends at ${inDestination ?? 'nothing'} in ${d.registryId}/${d.region}, expected ${move.digest}`,
        );
      }
    }
  }

  /**
   * An image may keep the temp tag as its only tag — a marker (docs/architecture.md §3.2, 7) — when removing it
   * would delete the image:
   * - in the source and in every destination, an image that was untagged before the run when the
   *   input selected untagged images (CleanupTempTags leaves such markers everywhere on purpose);
   * - in the source only, an image whose tags a third party all moved away during the run
   *   (a destination copy the run brought and no tag needs is removed with its temp tag).
   */
  const isMarker = (repository: string, digest: string, inSource: boolean): boolean => {
    const tagsBefore =
      before.images
        .get(repository)
        ?.get(digest)
        ?.tags.filter((t) => !isTemp(t)) ?? [];
    if (tagsBefore.length === 0) return input.includeUntagged === true;
    if (!inSource) return false;
    return tagsBefore.every((t) => {
      const movedTo = external.get(`${repository}:${t}`);
      return movedTo !== undefined && movedTo !== digest;
    });
  };

  // 4. After a success: every selected tag in every covering destination at the source digest
  //    (conflicts excepted, see 6), and no temp tag anywhere.
  const conflicts: { d: Destination; repository: string; tag: string; digest: string }[] = [];
  for (const [repository, tags] of after.tags) {
    if (!selectRepository(repository)) continue;
    const images = after.images.get(repository);
    const covering = coveringDestinations(sourceBefore, repository);
    /** The destination tag held another digest before the run (and the input did not ask to overwrite it). */
    const conflictIn = (d: Destination, tag: string, digest: string): string | undefined => {
      const dest = destinationOf(d);
      const previously = dest.before.tags.get(repository)?.get(tag);
      if (previously === undefined || previously === digest || external.has(`${repository}:${tag}`))
        return undefined;
      const immutable = tagImmutable(dest.before.immutable.get(repository), tag);
      return !input.overwriteConflicts || immutable ? previously : undefined;
    };
    for (const [tag, digest] of tags) {
      if (isTemp(tag) || !selectTag(tag)) continue;
      if (images?.get(digest)?.status === 'ARCHIVED' && !input.includeArchived) continue;
      // retag-source carries a tag to every destination at once: a conflict in a mutable destination
      // blocks the retag, so the tag is (rightly) missing in the others too, reported as CONFLICT.
      const blocked =
        input.strategy === 'retag-source' &&
        covering.some((d) => {
          const settings = destinationOf(d).before.immutable.get(repository);
          return conflictIn(d, tag, digest) !== undefined && !tagImmutable(settings, tag);
        });
      for (const d of covering) {
        const dest = destinationOf(d);
        const previously = conflictIn(d, tag, digest);
        if (previously !== undefined) {
          conflicts.push({ d, repository, tag, digest: previously });
          continue;
        }
        if (!input.succeeded || blocked) continue;
        const now = dest.after.tags.get(repository)?.get(tag);
        if (now !== digest) {
          fail(
            4,
            `${repository}:${tag} is ${now ?? 'missing'} in ${d.registryId}/${d.region}, source has ${digest}`,
          );
        }
      }
    }
  }
  if (input.succeeded) {
    for (const registry of input.after.registries) {
      const inSource = registry.account === account && registry.region === region;
      for (const repository of registry.repositories) {
        for (const image of repository.images) {
          for (const tag of image.tags) {
            if (!isTemp(tag)) continue;
            if (image.tags.length === 1 && isMarker(repository.name, image.digest, inSource)) continue;
            fail(4, `temp tag left: ${registry.account}/${registry.region} ${repository.name}:${tag}`);
          }
        }
      }
    }
  }

  // 5. No PutImage repeated: each (registry, repository, tag) is written at most once by the run.
  // A tag a third party moved is exempt everywhere: in the source the pushes are theirs, and in a
  // destination PromoteTags may put it twice by design — ours, then the newer digest when that
  // push's replication overtook our put (functions/promote-tags/promote-tags.ts, invariant 3).
  const puts = new Map<string, number>();
  for (const call of input.calls) {
    if (call.operation !== 'PutImage' || !REACHED.has(call.outcome)) continue;
    const repository = call.params.repositoryName ?? '?';
    const tag = call.params.imageTag;
    if (tag !== undefined && external.has(`${repository}:${tag}`)) continue;
    const key = `${call.account}/${call.region} ${repository}:${tag ?? call.params.imageDigest ?? '?'}`;
    puts.set(key, (puts.get(key) ?? 0) + 1);
  }
  for (const [key, count] of puts) {
    if (count > 1) fail(5, `PutImage repeated ${count} times for ${key}`);
  }

  // 6. Conflicting destination tags are never overwritten (unless asked); immutable tags never move.
  for (const c of conflicts) {
    const now = destinationOf(c.d).after.tags.get(c.repository)?.get(c.tag);
    if (now !== c.digest) {
      fail(
        6,
        `conflicting tag ${c.repository}:${c.tag} in ${c.d.registryId}/${c.d.region} was changed from ${c.digest} to ${now ?? 'nothing'}`,
      );
    }
  }
  for (const key of destinationKeys) {
    const [registryId, destRegion] = key.split('/') as [string, string];
    const dest = destinationOf({ registryId, region: destRegion });
    for (const [repository, tags] of dest.before.tags) {
      const settings = dest.before.immutable.get(repository);
      for (const [tag, digest] of tags) {
        if (!tagImmutable(settings, tag)) continue;
        const now = dest.after.tags.get(repository)?.get(tag);
        if (now !== digest)
          fail(6, `immutable tag ${repository}:${tag} in ${key} moved to ${now ?? 'nothing'}`);
      }
    }
  }
  return violations;
}

/** One line per violation, for assertion messages and the bench output. */
export function formatViolations(violations: readonly InvariantViolation[]): string {
  return violations.map((v) => `invariant ${v.invariant}: ${v.message}`).join('\n');
}
