/**
 * The ground truth of a generated registry: what a backfill has to deliver, and how many PutImage
 * calls each strategy needs per registry (account + Region, the unit ECR's quotas apply to), from
 * which the quota lower bound follows. Computed from the generator's records, never from a run.
 */
import type { GeneratedRegistry } from './registry-generator.ts';

/** `native`: ECR's replication backfill (method native); the others re-push. */
export type BenchStrategy = 'promote' | 'retag-source' | 'classic' | 'native';

export interface ExpectedWork {
  /** Distinct source tags (repository:tag) some destination lacks at the source digest. */
  tags: number;
  /** (tag, destination) pairs to deliver. */
  deliveries: number;
  deliveriesPerDestination: number[];
  /**
   * Digests that a covering destination lacks and must receive a tag in: each needs one source push
   * to replicate. A destination that lacks the digest but holds every one of its tags on another
   * digest (all CONFLICT) needs no copy: the push would land an image there whose only tag is the
   * temp tag, and removing an image's last tag deletes it (BatchDeleteImage, docs/aws-facts.md), so
   * the planner plans no push for it (architecture §3.2 4 and 6).
   */
  digestsToReplicate: number;
  /** Digests with at least one (tag, destination) delivery. */
  digestsWithWork: number;
  /** Tags whose delivery a conflicting destination tag blocks (retag-source leaves them alone). */
  conflictBlockedTags: number;
  /** (tag, destination) pairs already there at the source digest. */
  alreadyPresent: number;
  /** (tag, destination) pairs held by another digest in the destination. */
  conflicts: number;
  /** Tags and active images of covered repositories: what the classic trick re-pushes. */
  coveredTags: number;
  coveredImages: number;
  /** Source tags in repositories no rule covers. */
  notCoveredTags: number;
  skippedUntagged: number;
  skippedArchived: number;
  /**
   * (referrer, destination) pairs to copy: the OCI 1.1 referrers (transitively) of every selected
   * image, in each covering destination that holds the image after the run, that it lacks. An image
   * no tag of which reaches a destination (all CONFLICT) gets no copy there, so neither do its referrers.
   */
  referrersToCopy: number;
  referrersToCopyPerDestination: number[];
}

/** All counts zero, one delivery counter per destination. */
export function emptyExpectedWork(destinationCount: number): ExpectedWork {
  return {
    tags: 0,
    deliveries: 0,
    deliveriesPerDestination: new Array<number>(destinationCount).fill(0),
    digestsToReplicate: 0,
    digestsWithWork: 0,
    conflictBlockedTags: 0,
    alreadyPresent: 0,
    conflicts: 0,
    coveredTags: 0,
    coveredImages: 0,
    notCoveredTags: 0,
    skippedUntagged: 0,
    skippedArchived: 0,
    referrersToCopy: 0,
    referrersToCopyPerDestination: new Array<number>(destinationCount).fill(0),
  };
}

export function expectedWork(registry: GeneratedRegistry): ExpectedWork {
  const work = emptyExpectedWork(registry.destinations.length);
  for (const repository of registry.repositories) {
    const content = new Map(repository.destinations.map((d) => [d.destination, d]));
    for (const image of repository.images) {
      if (image.status === 'ARCHIVED') {
        work.skippedArchived += 1;
        continue;
      }
      if (image.tags.length === 0) {
        work.skippedUntagged += 1;
        continue;
      }
      if (repository.coveredBy.length === 0) {
        work.notCoveredTags += image.tags.length;
        continue;
      }
      work.coveredImages += 1;
      work.coveredTags += image.tags.length;
      let imageHasWork = false;
      // Destinations that get at least one tag of this image: only those need its digest.
      const receiving = new Set<number>();
      for (const tag of image.tags) {
        let delivered = false;
        let blocked = false;
        for (const destination of repository.coveredBy) {
          const current = content.get(destination)?.tags.get(tag);
          if (current === image.digest) work.alreadyPresent += 1;
          else if (current !== undefined) {
            work.conflicts += 1;
            blocked = true;
          } else {
            work.deliveries += 1;
            work.deliveriesPerDestination[destination] =
              (work.deliveriesPerDestination[destination] ?? 0) + 1;
            receiving.add(destination);
            delivered = true;
          }
        }
        if (delivered) {
          work.tags += 1;
          imageHasWork = true;
          if (blocked) work.conflictBlockedTags += 1;
        }
      }
      const digestMissing = [...receiving].some((d) => !content.get(d)?.digests.has(image.digest));
      if (digestMissing) work.digestsToReplicate += 1;
      if (imageHasWork) work.digestsWithWork += 1;
      for (const destination of repository.coveredBy) {
        const there = content.get(destination)?.digests;
        if (!receiving.has(destination) && !there?.has(image.digest)) continue;
        const missing = image.referrers.filter((r) => !there?.has(r.digest)).length;
        work.referrersToCopy += missing;
        work.referrersToCopyPerDestination[destination] =
          (work.referrersToCopyPerDestination[destination] ?? 0) + missing;
      }
    }
  }
  return work;
}

/** `registryId/region`: ECR's rate quotas are per account and Region. */
export const registryKey = (d: { registryId: string; region: string }): string =>
  `${d.registryId}/${d.region}`;

/**
 * PutImage calls a strategy needs, per registry, at least:
 * - promote: one temp-tag push per digest some destination lacks (source), one put per missing
 *   (tag, destination) in each destination;
 * - retag-source: one temp-tag push per digest with work plus one re-put per tag it may retag
 *   (source only: replication carries the tags);
 * - classic: two puts per tag of every covered image (temp tag + re-put of the original), since
 *   the single loop never compares with the destinations;
 * - native: none (ECR copies by itself; AWS publishes no rate for it, so there is no quota bound).
 */
export function putImageNeeds(
  registry: GeneratedRegistry,
  work: ExpectedWork,
  strategy: BenchStrategy,
): Record<string, number> {
  const source = registryKey({ registryId: registry.sourceAccount, region: registry.sourceRegion });
  switch (strategy) {
    case 'promote': {
      const needs: Record<string, number> = { [source]: work.digestsToReplicate };
      registry.destinations.forEach((d, i) => {
        needs[registryKey(d)] = (needs[registryKey(d)] ?? 0) + (work.deliveriesPerDestination[i] ?? 0);
      });
      return needs;
    }
    case 'retag-source':
      return { [source]: work.digestsWithWork + work.tags - work.conflictBlockedTags };
    case 'classic':
      return { [source]: 2 * work.coveredTags };
    case 'native':
      return {};
  }
}

export interface QuotaBound {
  /** Seconds: the busiest registry's PutImage calls at the scaled rate, plus one replication latency. */
  seconds: number;
  busiestRegistry: string;
  busiestCalls: number;
  ratePerSecond: number;
}

export function quotaBound(
  needs: Record<string, number>,
  putImageRatePerSecond: number,
  replicationLatencyMs: number,
): QuotaBound {
  let busiestRegistry = '';
  let busiestCalls = 0;
  for (const [key, calls] of Object.entries(needs)) {
    if (calls > busiestCalls) {
      busiestCalls = calls;
      busiestRegistry = key;
    }
  }
  return {
    seconds: busiestCalls / putImagePerSecondOrThrow(putImageRatePerSecond) + replicationLatencyMs / 1000,
    busiestRegistry,
    busiestCalls,
    ratePerSecond: putImageRatePerSecond,
  };
}

function putImagePerSecondOrThrow(rate: number): number {
  if (!(rate > 0) || !Number.isFinite(rate))
    throw new RangeError(`PutImage rate must be a finite number > 0, got ${rate}`);
  return rate;
}
