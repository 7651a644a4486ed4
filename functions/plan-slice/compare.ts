/**
 * Source image vs. destinations (pure): which tags each destination lacks, what is already there,
 * and how many PutImage calls the backfill will spend per Region.
 */
import type {
  Destination,
  ItemDestination,
  ReportRow,
  Strategy,
  WorkItem,
} from '../../core/contracts/contracts.ts';
import type { SourceImage } from './select-images.ts';

/** What one destination repository holds: tag → digest, and every digest (tagged or not). */
export interface DestinationContents {
  tags: ReadonlyMap<string, string>;
  digests: ReadonlySet<string>;
}

export const EMPTY_DESTINATION: DestinationContents = { tags: new Map(), digests: new Set() };

/**
 * Planner outcomes, counted per (digest, tag, destination); an untagged image counts once.
 * DIVERGED is work (the destination tag will be moved, `overwriteConflicts`); CONFLICT is not.
 */
export const PLAN_OUTCOMES = [
  'MISSING',
  'DIVERGED',
  'CONFLICT',
  'ALREADY_PRESENT',
  'NOT_COVERED',
  // Per (referrer, destination): a referrer of a selected image the destination lacks (copied untagged).
  'REFERRERS_MISSING',
] as const;
export type PlanOutcome = (typeof PLAN_OUTCOMES)[number];

export interface DestinationView {
  destination: Destination;
  /** Whether a replication rule replicates this repository to this destination. */
  covered: boolean;
  contents: DestinationContents;
}

export interface Comparison {
  /** The work item, or undefined when nothing is missing or diverged anywhere. */
  item?: WorkItem;
  counts: Partial<Record<PlanOutcome, number>>;
  putImageCalls: Record<string, number>;
  /**
   * A report row per (tag, destination) the plan leaves alone (ALREADY_PRESENT, NOT_COVERED,
   * CONFLICT), so the report shows every tag the plan saw, not only the work (the item's rows).
   */
  rows: ReportRow[];
}

export function compareImage(
  repositoryName: string,
  image: SourceImage,
  views: readonly DestinationView[],
  strategy: Strategy,
  sourceRegion: string,
  overwriteConflicts: boolean,
): Comparison {
  const counts: Comparison['counts'] = {};
  const add = (outcome: PlanOutcome, n = 1) => {
    if (n > 0) counts[outcome] = (counts[outcome] ?? 0) + n;
  };
  const rows: ReportRow[] = [];
  const itemDestinations: ItemDestination[] = [];
  for (const { destination, covered, contents } of views) {
    const tagsHere = image.tags.length === 0 ? 1 : image.tags.length;
    // An untagged image's row has no tag, as its work rows have none (rowsOfWorkItem).
    const row = (tag: string, outcome: PlanOutcome, detail?: string) =>
      rows.push({
        repositoryName,
        imageDigest: image.imageDigest,
        tag,
        destinationRegion: destination.region,
        destinationRegistryId: destination.registryId,
        outcome,
        ...(detail !== undefined && { detail }),
      });
    if (!covered) {
      add('NOT_COVERED', tagsHere);
      for (const tag of image.tags.length === 0 ? [''] : image.tags)
        row(tag, 'NOT_COVERED', 'no replication rule replicates this repository to this destination');
      continue;
    }
    const digestPresent = contents.digests.has(image.imageDigest);
    const missingReferrers = (image.referrers ?? [])
      .filter((r) => !contents.digests.has(r.digest))
      .map((r) => r.digest);
    const referrers = missingReferrers.length > 0 ? { referrers: missingReferrers } : {};
    if (image.tags.length === 0) {
      // Untagged: only the digest can be missing (it keeps the run's temp tag as its marker).
      // Its referrers travel with it; those of an untagged image already there are not planned (its
      // item would wait for a marker tag no push brings).
      if (digestPresent) {
        add('ALREADY_PRESENT');
        row('', 'ALREADY_PRESENT');
      } else {
        add('MISSING');
        add('REFERRERS_MISSING', missingReferrers.length);
        itemDestinations.push({ ...destination, tags: [], digestPresent, ...referrers });
      }
      continue;
    }
    const needed: string[] = [];
    for (const tag of image.tags) {
      const there = contents.tags.get(tag);
      if (there === image.imageDigest) {
        add('ALREADY_PRESENT');
        row(tag, 'ALREADY_PRESENT');
      } else if (there !== undefined && !overwriteConflicts) {
        // Known at plan time, so no work: pushing anyway would replicate a copy whose only tag is
        // our temp tag (cleanup never removes an image's last tag), and with retag-source the
        // replicated tag would silently move the destination's tag. PromoteTags re-checks at write
        // time for conflicts that appear later.
        add('CONFLICT');
        row(tag, 'CONFLICT', `the destination tag points to ${there}; overwriteConflicts would move it`);
      } else {
        add(there === undefined ? 'MISSING' : 'DIVERGED');
        needed.push(tag);
      }
    }
    // Every tag there but some referrer missing: the item copies the referrers only.
    add('REFERRERS_MISSING', missingReferrers.length);
    if (needed.length > 0 || missingReferrers.length > 0)
      itemDestinations.push({ ...destination, tags: needed, digestPresent, ...referrers });
  }

  if (itemDestinations.length === 0) return { counts, putImageCalls: {}, rows };
  const item: WorkItem = {
    repositoryName,
    imageDigest: image.imageDigest,
    imageManifestMediaType: image.imageManifestMediaType,
    ...(image.artifactMediaType !== undefined && { artifactMediaType: image.artifactMediaType }),
    tags: image.tags,
    destinations: itemDestinations,
    ...(image.pushedAt > 0 && { imagePushedAt: image.pushedAt }),
    ...(image.referrers && image.referrers.length > 0 && { referrers: image.referrers }),
  };
  return { item, counts, putImageCalls: putImageCallsFor(item, strategy, sourceRegion), rows };
}

/**
 * PutImage calls the item will cost, per Region (the quota is per Region):
 * - promote: in the source, one temp-tag put per digest that some destination lacks; in each
 *   destination, one put per tag to promote.
 * - retag-source: in the source, the temp tag (it guards the image while its tags are re-put, so it
 *   is needed even when the digest is already everywhere) plus one re-put per distinct tag some
 *   destination lacks; nothing is written in the destinations.
 */
export function putImageCallsFor(
  item: WorkItem,
  strategy: Strategy,
  sourceRegion: string,
): Record<string, number> {
  const calls: Record<string, number> = {};
  const add = (region: string, n: number) => {
    if (n > 0) calls[region] = (calls[region] ?? 0) + n;
  };
  if (strategy === 'retag-source') {
    add(sourceRegion, 1 + new Set(item.destinations.flatMap((d) => d.tags)).size);
    return calls;
  }
  add(sourceRegion, item.destinations.some((d) => !d.digestPresent) ? 1 : 0);
  for (const d of item.destinations) add(d.region, d.tags.length);
  return calls;
}

export function mergeCounts(into: Record<string, number>, from: Partial<Record<string, number>>): void {
  for (const [key, value] of Object.entries(from)) {
    if (value !== undefined && value !== 0) into[key] = (into[key] ?? 0) + value;
  }
}
