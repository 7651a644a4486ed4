/**
 * PlanSlice: plans one slice of repositories. For each repository, reads the source images (all
 * pages), selects what the input asks for, compares with every destination a rule covers, and
 * streams a work item per digest that some destination lacks to `plan/slice-<n>.jsonl`, and a
 * report row per tag and destination it leaves alone (already there, not covered, in conflict) to
 * `plan/slice-<n>.rows.jsonl`, so the run's report shows every tag the plan saw.
 *
 * Reads overlap, writes do not: up to REPOSITORIES_READ_AT_ONCE repositories are read concurrently
 * (and the destinations of each at once), while the items are written in slice order, so the file
 * is the same as a one-at-a-time read would write. Holds at most that many repositories' images
 * (each with its destinations' listings, until they are narrowed to what the comparison needs).
 *
 * Idempotent: a rerun rewrites the same three keys with the same content for the same registry state.
 */
import type { ECRClient, ReplicationRule } from '@aws-sdk/client-ecr';
import type { RunStore } from '../../core/run-files/run-store.ts';
import type { Logger } from '../../core/logger.ts';
import type { ReplicationSnapshot } from '../plan/plan.ts';
import { runKeys } from '../../core/run-files/run-layout.ts';
import type {
  PlanSliceEvent,
  PlanSliceResult,
  PlannedReferrer,
  RunConfig,
} from '../../core/contracts/contracts.ts';
import type { StepDeps } from '../../core/deps.ts';
import { toStepError, TransientError } from '../../core/errors/errors.ts';
import { listReferrersTransitively, type ListedReferrer } from '../../core/ecr/referrers.ts';
import { runLogger } from '../../core/logger.ts';
import { NearbyNames, repositoryCoveredFor, ruleCoversRepository } from '../../core/contracts/patterns.ts';
import { BatchBytesBound, splitItem } from '../../core/contracts/payload-bounds.ts';
import { isTempTag } from '../../core/ecr/temp-tags.ts';
import {
  getJson,
  isNotFound,
  putJson,
  s3Url,
  withJsonLinesWriter,
  type JsonLinesWriter,
} from '../../core/run-files/run-store.ts';
import { compareImage, mergeCounts, type DestinationView } from './compare.ts';
import {
  describeAllImages,
  destinationContents,
  indexChildDigests,
  sourceImagesFilter,
} from './registry-reads.ts';
import { allInOrder, readAheadInOrder } from '../../core/ecr/read-ahead.ts';
import { imageSelector, type Selection, type SourceImage } from './select-images.ts';

export type PlanSliceDeps = Pick<StepDeps, 'ecr' | 'runStore' | 'logger'>;

/**
 * How many repositories a slice reads at once. Planning is latency-bound (a DescribeImages page per
 * repository and destination, tens of milliseconds each), so a few reads in flight cut a slice's time
 * by about this factor. The bound stays small because AWS publishes no rate for DescribeImages
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html gives rates for the push
 * and pull calls only: BatchGetImage, the other read here, at 2,000/s; docs/aws-facts.md), and users
 * report low limits. A throttled read is handled as before: the SDK retries it once, then PlanSlice
 * fails with Throttled and its state retries with backoff. With D destinations, at most this ×
 * max(1, D) DescribeImages calls are in flight per slice, and the deployment's
 * `planSliceConcurrency` slices run at once.
 */
export const REPOSITORIES_READ_AT_ONCE = 8;

export async function planSlice(event: PlanSliceEvent, deps: PlanSliceDeps): Promise<PlanSliceResult> {
  const { config, slice, bucket, runPrefix } = event;
  const logger = runLogger(deps.logger, event.runId, 'PlanSlice');
  logger.appendKeys({ sliceIndex: slice.sliceIndex });
  const keys = runKeys(runPrefix);
  const rules = await replicationRules(deps.runStore, bucket, keys.replication);
  const select = imageSelector(config);

  const counts: Record<string, number> = {};
  const putImageCalls: Record<string, number> = {};
  const itemsKey = keys.sliceItems(slice.sliceIndex);

  const tagFilter = config.tags.length > 0 ? { matches: 0, nearby: new NearbyNames(config.tags) } : undefined;
  const reads: ReadContext = { deps, config, rules, select, tagFilter };
  const batchBytes = new BatchBytesBound();
  const { count } = await withJsonLinesWriter(deps.runStore, bucket, itemsKey, (writer) =>
    withJsonLinesWriter(deps.runStore, bucket, keys.sliceRows(slice.sliceIndex), (rowWriter) => {
      const writes: WriteContext = {
        logger,
        config,
        rules,
        writer,
        rowWriter,
        counts,
        putImageCalls,
        batchBytes,
      };
      return readAheadInOrder(
        slice.repositories,
        REPOSITORIES_READ_AT_ONCE,
        (repositoryName, signal) => readRepository(repositoryName, reads, signal),
        (reading) => writeRepository(reading, writes),
      );
    }),
  );

  const result: PlanSliceResult = {
    sliceIndex: slice.sliceIndex,
    itemsKey,
    items: count,
    maxInputBytesPerBatch: batchBytes.value,
    counts,
    putImageCalls,
    ...(tagFilter && {
      tagFilter: {
        matches: tagFilter.matches,
        nearby: tagFilter.matches > 0 ? [] : tagFilter.nearby.names(),
      },
    }),
  };
  await putJson(deps.runStore, bucket, keys.sliceSummary(slice.sliceIndex), result);
  logger.info('Planned slice', { repositories: slice.repositories.length, items: count, counts });
  return result;
}

/**
 * The rules Plan saved for this run: coverage is judged with the configuration the run was planned
 * with, and PlanSlice needs no ecr:DescribeRegistry (the rules can hold 1,000 filters: too much to
 * carry in the payload).
 */
async function replicationRules(store: RunStore, bucket: string, key: string): Promise<ReplicationRule[]> {
  try {
    return (await getJson<ReplicationSnapshot>(store, bucket, key)).rules;
  } catch (error) {
    if (isNotFound(error)) {
      throw new TransientError(
        `The run's replication snapshot ${s3Url(bucket, key)} is missing: Plan has not completed`,
      );
    }
    throw error;
  }
}

interface ReadContext {
  deps: PlanSliceDeps;
  config: RunConfig;
  rules: ReplicationRule[];
  select: ReturnType<typeof imageSelector>;
  /** With a tags filter: images it keeps, and the tags nearest to it while it keeps none. */
  tagFilter: { matches: number; nearby: NearbyNames } | undefined;
}

/** What one repository's reads yield: everything its items and counts are computed from. */
type RepositoryReading =
  | { repositoryName: string; gone: true }
  | {
      repositoryName: string;
      gone: false;
      skipped: Selection['skipped'];
      images: SourceImage[];
      /** Per selected digest, its view of each destination, in the config's destination order. */
      views: Map<string, DestinationView[]>;
    };

/** The reads of one repository (source, then every destination at once); writes nothing. */
async function readRepository(
  repositoryName: string,
  ctx: ReadContext,
  signal: AbortSignal,
): Promise<RepositoryReading> {
  const { deps, config } = ctx;
  const source = deps.ecr({ region: config.sourceRegion });
  const where = `${config.sourceRegion} (${config.sourceRegistryId})`;
  const details = await describeAllImages(
    source,
    config.sourceRegistryId,
    repositoryName,
    sourceImagesFilter(config.includeUntagged, config.includeArchived),
    where,
    signal,
  );
  // Deleted since Plan listed it: nothing to back up, nothing to touch.
  if (details === undefined) return { repositoryName, gone: true };
  const hasUntagged = details.some((d) => (d.imageTags ?? []).length === 0);
  const children =
    config.includeUntagged && hasUntagged
      ? await indexChildDigests(source, config.sourceRegistryId, repositoryName, details, where, signal)
      : new Set<string>();
  const selection = ctx.select(details, children);
  if (ctx.tagFilter) {
    ctx.tagFilter.matches += selection.tagMatches;
    if (ctx.tagFilter.matches === 0) {
      for (const detail of details)
        for (const tag of detail.imageTags ?? [])
          if (!isTempTag(tag, config.tempTagPrefix)) ctx.tagFilter.nearby.offer(tag);
    }
  }
  // Referrers follow their image (copied untagged), and are never selected to be re-pushed
  // themselves: with includeUntagged they are listed to be left out even when none is copied.
  const copied = referrersCopied(config);
  if (copied || config.includeUntagged) {
    await addReferrers(source, config.sourceRegistryId, repositoryName, selection, copied, signal);
  }
  const views = new Map<string, DestinationView[]>();
  if (selection.images.length === 0) {
    return { repositoryName, gone: false, skipped: selection.skipped, images: [], views };
  }

  const covered = config.destinations.map((destination) =>
    repositoryCoveredFor(ctx.rules, repositoryName, destination),
  );
  // Only covered destinations are read: the others are reported NOT_COVERED and never touched.
  const contents = await allInOrder(
    config.destinations.map((destination, d) =>
      covered[d]
        ? destinationContents(
            deps.ecr({
              region: destination.region,
              registryId: destination.registryId,
              ...(destination.roleArn !== undefined && { roleArn: destination.roleArn }),
            }),
            destination.registryId,
            repositoryName,
            `${destination.region} (${destination.registryId})`,
            signal,
          )
        : Promise.resolve(undefined),
    ),
  );
  // Each image keeps only its own slice of each listing, so the listings can go once this returns.
  for (const image of selection.images) {
    views.set(
      image.imageDigest,
      config.destinations.map((destination, d) => {
        const listing = contents[d];
        return {
          destination,
          covered: covered[d] ?? false,
          contents: listing ? narrow(listing, image) : EMPTY_VIEW,
        };
      }),
    );
  }
  return { repositoryName, gone: false, skipped: selection.skipped, images: selection.images, views };
}

interface WriteContext {
  logger: Logger;
  config: RunConfig;
  rules: ReplicationRule[];
  writer: JsonLinesWriter;
  /** The report rows of what the slice leaves alone (Summarize adds them to the report). */
  rowWriter: JsonLinesWriter;
  counts: Record<string, number>;
  putImageCalls: Record<string, number>;
  /** The largest batch of this slice's items whose child state stays within 256 KiB. */
  batchBytes: BatchBytesBound;
}

/**
 * How many destinations a push in this repository replicates to, by the rules the run was planned
 * with: the item's own and the extra ones its result may list (core/contracts/payload-bounds.ts).
 */
function pushDestinationsOf(rules: readonly ReplicationRule[], repositoryName: string): number {
  const found = new Set<string>();
  for (const rule of rules) {
    if (!ruleCoversRepository(rule, repositoryName)) continue;
    for (const d of rule.destinations ?? []) found.add(`${d.registryId}/${d.region}`);
  }
  return found.size;
}

/** Compares one repository's images and writes its items; called in slice order. */
async function writeRepository(reading: RepositoryReading, ctx: WriteContext): Promise<void> {
  const { repositoryName } = reading;
  if (reading.gone) {
    mergeCounts(ctx.counts, { SKIPPED_REPOSITORY_GONE: 1 });
    ctx.logger.warn('Repository disappeared since planning started', { repository: repositoryName });
    await ctx.rowWriter.write({
      repositoryName,
      imageDigest: '',
      tag: '',
      destinationRegion: '',
      destinationRegistryId: '',
      outcome: 'SKIPPED_REPOSITORY_GONE',
      detail: 'the repository was deleted after Plan listed it',
    });
    return;
  }
  mergeCounts(ctx.counts, reading.skipped);
  const pushDestinations = pushDestinationsOf(ctx.rules, repositoryName);
  for (const image of reading.images) {
    const comparison = compareImage(
      repositoryName,
      image,
      reading.views.get(image.imageDigest) ?? [],
      ctx.config.strategy,
      ctx.config.sourceRegion,
      ctx.config.overwriteConflicts,
    );
    mergeCounts(ctx.counts, comparison.counts);
    mergeCounts(ctx.putImageCalls, comparison.putImageCalls);
    for (const row of comparison.rows) await ctx.rowWriter.write(row);
    if (!comparison.item) continue;
    // An image with more tags and destinations than a child's state can carry travels in parts.
    for (const part of splitItem(comparison.item)) {
      ctx.batchBytes.add(part, pushDestinations);
      await ctx.writer.write(part);
    }
  }
}

const EMPTY_VIEW = { tags: new Map<string, string>(), digests: new Set<string>() };

/**
 * Keeps only what the comparison of one image needs, so the per-image views do not each pin a
 * whole destination listing.
 */
function narrow(
  contents: { tags: ReadonlyMap<string, string>; digests: ReadonlySet<string> },
  image: SourceImage,
) {
  const narrowed = { tags: new Map<string, string>(), digests: new Set<string>() };
  for (const digest of [image.imageDigest, ...(image.referrers ?? []).map((r) => r.digest)]) {
    if (contents.digests.has(digest)) narrowed.digests.add(digest);
  }
  for (const tag of image.tags) {
    const there = contents.tags.get(tag);
    if (there !== undefined) narrowed.tags.set(tag, there);
  }
  return narrowed;
}

/**
 * ListImageReferrers calls one repository keeps in flight (one per selected image, and one more per
 * referrer found). AWS publishes no rate for it
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html), so the bound is as
 * small as the repositories' (REPOSITORIES_READ_AT_ONCE).
 */
export const REFERRER_READS_AT_ONCE = 4;

/**
 * Lists each selected image's referrers in the source, transitively (listReferrersTransitively), and
 * takes every untagged referrer out of the selection (with `includeUntagged` they are listed as
 * images): a referrer is copied untagged with its subject, never re-pushed under a temp tag, since
 * removing an untagged image's last tag deletes it. A tagged referrer stays an image of its own (its
 * push replicates it) and is not copied again. Whether a destination holds a referrer is read from its
 * listing (DescribeImages lists untagged images too): same digest, same manifest, same subject.
 * Referrers are planned for `promote` only: `retag-source` is for destinations the run may not write to.
 */
async function addReferrers(
  client: ECRClient,
  registryId: string,
  repositoryName: string,
  selection: Selection,
  copied: ((referrer: PlannedReferrer) => boolean) | undefined,
  signal: AbortSignal,
): Promise<void> {
  const ref = { registryId, repositoryName };
  const tagged = new Set(selection.images.filter((i) => i.tags.length > 0).map((i) => i.imageDigest));
  const referrerDigests = new Set<string>();
  const images = selection.images;
  // Latency-bound like the other reads: a few images' listings at once (REFERRER_READS_AT_ONCE).
  for (let start = 0; start < images.length; start += REFERRER_READS_AT_ONCE) {
    const chunk = images.slice(start, start + REFERRER_READS_AT_ONCE);
    let listings;
    try {
      listings = await Promise.all(
        chunk.map((image) => listReferrersTransitively(client, ref, image.imageDigest, signal)),
      );
    } catch (error) {
      if (signal.aborted) throw error;
      throw toStepError(error, `ECR ListImageReferrers ${repositoryName}`);
    }
    chunk.forEach((image, i) => {
      const untagged = (listings[i] ?? []).filter((r) => !tagged.has(r.digest));
      for (const r of untagged) referrerDigests.add(r.digest);
      const planned = copied ? copiedReferrers(untagged, image.imageDigest, copied) : [];
      if (planned.length > 0) image.referrers = planned;
    });
  }
  if (referrerDigests.size > 0) {
    selection.images = selection.images.filter(
      (image) => image.tags.length > 0 || !referrerDigests.has(image.imageDigest),
    );
  }
}

/**
 * Which referrers the input's `referrers` copies (absent or `all`: every one), or undefined for none.
 * Referrers are copied for strategy `promote` only: `retag-source` is for destinations the run may
 * not write to.
 */
function referrersCopied(config: RunConfig): ((referrer: PlannedReferrer) => boolean) | undefined {
  const selection = config.referrers ?? 'all';
  if (config.strategy !== 'promote' || selection === 'none') return undefined;
  if (selection === 'all') return () => true;
  const types = new Set(selection);
  return (referrer) => referrer.artifactType !== undefined && types.has(referrer.artifactType);
}

/**
 * The referrers of a listing (subjects first) that `wanted` keeps and whose subject is the image or a
 * kept referrer: a signature of an SBOM follows only when the SBOM does.
 */
function copiedReferrers(
  listing: readonly ListedReferrer[],
  imageDigest: string,
  wanted: (referrer: PlannedReferrer) => boolean,
): PlannedReferrer[] {
  const kept = new Set([imageDigest]);
  const planned: PlannedReferrer[] = [];
  for (const { subject, ...referrer } of listing) {
    // A referrer whose subject is a tagged image of its own was left out of the listing: not followed.
    if (!wanted(referrer) || !kept.has(subject)) continue;
    kept.add(referrer.digest);
    planned.push(referrer);
  }
  return planned;
}
