/**
 * Which source images of one repository a run backfills, and with which tags (pure).
 *
 * Order of the filters, as documented for the input: image status → tags (include/exclude; temp
 * tags left by any run are never backfilled as if they were real tags) → untagged → pushedAfter → latestPerRepository (the newest N
 * of what is left, by push time).
 */
import type { PlannedReferrer } from '../../core/contracts/contracts.ts';
import type { ImageDetail } from '@aws-sdk/client-ecr';
import type { RunConfig } from '../../core/contracts/contracts.ts';
import { tagMatcher } from '../../core/contracts/patterns.ts';
import { isTempTag } from '../../core/ecr/temp-tags.ts';

export interface SourceImage {
  imageDigest: string;
  /** The selected tags (a subset of the image's tags); empty for a selected untagged image. */
  tags: string[];
  pushedAt: number;
  imageManifestMediaType: string;
  artifactMediaType?: string;
  /** Its referrers in the source, transitively (PlanSlice adds them after the selection). */
  referrers?: PlannedReferrer[];
}

export type SkipReason = 'SKIPPED_ACTIVATING' | 'SKIPPED_INDEX_CHILD';

export interface Selection {
  images: SourceImage[];
  /** Per skip reason, counted per digest. */
  skipped: Partial<Record<SkipReason, number>>;
  /**
   * Images with a tag the `tags`/`excludeTags` filters keep, before the time filters: with a tag
   * filter, none across the whole run means the filter matched nothing (FinalizePlan says so).
   */
  tagMatches: number;
}

export type SelectionConfig = Pick<
  RunConfig,
  | 'tags'
  | 'excludeTags'
  | 'includeUntagged'
  | 'includeArchived'
  | 'pushedAfter'
  | 'latestPerRepository'
  | 'tempTagPrefix'
>;

/** Compiles the tag and time filters once per slice. */
export function imageSelector(config: SelectionConfig) {
  const keepTag = tagMatcher(config.tags, config.excludeTags);
  const pushedAfter = config.pushedAfter === undefined ? undefined : Date.parse(config.pushedAfter);

  return function select(details: readonly ImageDetail[], indexChildren: ReadonlySet<string>): Selection {
    const skipped: Selection['skipped'] = {};
    const images: SourceImage[] = [];
    let tagMatches = 0;
    for (const detail of details) {
      const digest = detail.imageDigest;
      if (digest === undefined) continue;
      // Restoring (ACTIVATING) images cannot be read yet; ARCHIVED only when asked for (the listing
      // filter already excluded them otherwise).
      if (detail.imageStatus === 'ACTIVATING') {
        skipped.SKIPPED_ACTIVATING = (skipped.SKIPPED_ACTIVATING ?? 0) + 1;
        continue;
      }
      if (detail.imageStatus === 'ARCHIVED' && !config.includeArchived) continue;

      // An image whose only tag is a temp tag (a marker from an earlier run) counts as untagged.
      const realTags = (detail.imageTags ?? []).filter((t) => !isTempTag(t, config.tempTagPrefix));
      const tags = realTags.filter(keepTag);
      if (realTags.length > 0 && tags.length === 0) continue;
      if (tags.length > 0) tagMatches += 1;
      if (realTags.length === 0) {
        if (!config.includeUntagged) continue;
        // A child of an index (platform manifest, attestation) travels with its index: replication
        // copies it, and backfilling it alone would leave a marker tag on every child.
        if (indexChildren.has(digest)) {
          skipped.SKIPPED_INDEX_CHILD = (skipped.SKIPPED_INDEX_CHILD ?? 0) + 1;
          continue;
        }
      }
      const pushedAt = detail.imagePushedAt?.getTime() ?? 0;
      if (pushedAfter !== undefined && pushedAt < pushedAfter) continue;
      images.push({
        imageDigest: digest,
        tags,
        pushedAt,
        imageManifestMediaType: detail.imageManifestMediaType ?? '',
        ...(detail.artifactMediaType !== undefined && { artifactMediaType: detail.artifactMediaType }),
      });
    }
    if (config.latestPerRepository !== undefined && images.length > config.latestPerRepository) {
      images.sort((a, b) => b.pushedAt - a.pushedAt || a.imageDigest.localeCompare(b.imageDigest));
      images.length = config.latestPerRepository;
    }
    return { images, skipped, tagMatches };
  };
}
