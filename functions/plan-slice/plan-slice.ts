/**
 * PlanSlice: plans one slice of repositories. For each repository, reads the source images (all
 * pages), selects what the input asks for, compares with every destination a rule covers, and
 * streams a work item per digest that some destination lacks to `plan/slice-<n>.jsonl`. Holds at
 * most one repository's images (plus one destination's tag map) in memory.
 *
 * Idempotent: a rerun rewrites the same two keys with the same content for the same registry state.
 */
import type { ReplicationRule } from '@aws-sdk/client-ecr';
import type { RunStore } from '../run-files/run-store.ts';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { ReplicationSnapshot } from '../plan/plan.ts';
import { runKeys } from '../run-files/run-layout.ts';
import type { PlanSliceEvent, PlanSliceResult, RunConfig } from '../contracts/contracts.ts';
import type { StepDeps } from '../lambda/deps.ts';
import { TransientError } from '../errors/errors.ts';
import { runLogger } from '../lambda/logger.ts';
import { repositoryCoveredFor } from '../contracts/patterns.ts';
import {
  getJson,
  isNotFound,
  putJson,
  s3Url,
  withJsonLinesWriter,
  type JsonLinesWriter,
} from '../run-files/run-store.ts';
import { compareImage, mergeCounts, type DestinationView } from './compare.ts';
import {
  describeAllImages,
  destinationContents,
  indexChildDigests,
  sourceImagesFilter,
} from './registry-reads.ts';
import { imageSelector } from './select-images.ts';

export type PlanSliceDeps = Pick<StepDeps, 'ecr' | 'runStore' | 'logger'>;

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

  const { count } = await withJsonLinesWriter(deps.runStore, bucket, itemsKey, async (writer) => {
    for (const repositoryName of slice.repositories) {
      await planRepository(repositoryName, {
        deps,
        logger,
        config,
        rules,
        select,
        writer,
        counts,
        putImageCalls,
      });
    }
  });

  const result: PlanSliceResult = {
    sliceIndex: slice.sliceIndex,
    itemsKey,
    items: count,
    counts,
    putImageCalls,
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

interface RepositoryContext {
  deps: PlanSliceDeps;
  logger: Logger;
  config: RunConfig;
  rules: ReplicationRule[];
  select: ReturnType<typeof imageSelector>;
  writer: JsonLinesWriter;
  counts: Record<string, number>;
  putImageCalls: Record<string, number>;
}

async function planRepository(repositoryName: string, ctx: RepositoryContext): Promise<void> {
  const { deps, config } = ctx;
  const source = deps.ecr({ region: config.sourceRegion });
  const where = `${config.sourceRegion} (${config.sourceRegistryId})`;
  const details = await describeAllImages(
    source,
    config.sourceRegistryId,
    repositoryName,
    sourceImagesFilter(config.includeUntagged, config.includeArchived),
    where,
  );
  if (details === undefined) {
    // Deleted since Plan listed it: nothing to back up, nothing to touch.
    mergeCounts(ctx.counts, { SKIPPED_REPOSITORY_GONE: 1 });
    ctx.logger.warn('Repository disappeared since planning started', { repository: repositoryName });
    return;
  }
  const hasUntagged = details.some((d) => (d.imageTags ?? []).length === 0);
  const children =
    config.includeUntagged && hasUntagged
      ? await indexChildDigests(source, config.sourceRegistryId, repositoryName, details, where)
      : new Set<string>();
  const selection = ctx.select(details, children);
  mergeCounts(ctx.counts, selection.skipped);
  if (selection.images.length === 0) return;

  // One destination's contents at a time; each image collects its per-destination view.
  const views = new Map<string, DestinationView[]>();
  for (const image of selection.images) views.set(image.imageDigest, []);
  for (const destination of config.destinations) {
    const covered = repositoryCoveredFor(ctx.rules, repositoryName, destination);
    const contents = covered
      ? await destinationContents(
          deps.ecr({
            region: destination.region,
            registryId: destination.registryId,
            ...(destination.roleArn !== undefined && { roleArn: destination.roleArn }),
          }),
          destination.registryId,
          repositoryName,
          `${destination.region} (${destination.registryId})`,
        )
      : undefined;
    for (const image of selection.images) {
      views.get(image.imageDigest)?.push({
        destination,
        covered,
        contents: contents ? narrow(contents, image.imageDigest, image.tags) : EMPTY_VIEW,
      });
    }
  }

  for (const image of selection.images) {
    const comparison = compareImage(
      repositoryName,
      image,
      views.get(image.imageDigest) ?? [],
      config.strategy,
      config.sourceRegion,
      config.overwriteConflicts,
    );
    mergeCounts(ctx.counts, comparison.counts);
    mergeCounts(ctx.putImageCalls, comparison.putImageCalls);
    if (comparison.item) await ctx.writer.write(comparison.item);
  }
}

const EMPTY_VIEW = { tags: new Map<string, string>(), digests: new Set<string>() };

/**
 * Keeps only what the comparison of one image needs, so the per-image views do not each pin a
 * whole destination listing.
 */
function narrow(
  contents: { tags: ReadonlyMap<string, string>; digests: ReadonlySet<string> },
  digest: string,
  tags: readonly string[],
) {
  const narrowed = { tags: new Map<string, string>(), digests: new Set<string>() };
  if (contents.digests.has(digest)) narrowed.digests.add(digest);
  for (const tag of tags) {
    const there = contents.tags.get(tag);
    if (there !== undefined) narrowed.tags.set(tag, there);
  }
  return narrowed;
}
