/**
 * VerifyDigests: read-only proof that the backfill did what it claims. In each destination the image
 * reached, every tag reported BACKFILLED / OVERWRITTEN / ALREADY_PRESENT (and for retag-source the
 * replicated tags) resolves to the source digest, and for an index every child manifest it references
 * exists there too (ECR replicates them with the index; a missing child would make pulls fail).
 * Otherwise DIGEST_MISMATCH — or MOVED, when the source tag itself moved on meanwhile. The image's
 * referrers the plan found missing there must be listed there now (verifyReferrers), or they are
 * DIGEST_MISMATCH too.
 *
 * Read per destination registry and repository (BatchGetImage takes 100 ids): its tags and its
 * indexes' manifests in one call, the indexes' children in another, the source only for a tag that
 * does not verify.
 */
import type { BatchState, ItemResult, TagOutcome } from '../../core/contracts/contracts.ts';
import {
  destinationTarget,
  isSourceGone,
  replicationSettled,
  resultsOf,
} from '../../core/batch/batch-results.ts';
import { pairItemsWithResults } from '../../core/batch/item-pairs.ts';
import { listReferrersTransitively } from '../../core/ecr/referrers.ts';
import {
  groupByDestinationRepository,
  type DestinationRepositoryGroup,
  type DestinationTags,
} from '../step-kit/destination-groups.ts';
import {
  getManifestsByDigest,
  readImages,
  resolveTags,
  type ImageReads,
  type StoredManifest,
} from '../../core/ecr/ecr.ts';
import { readAheadInOrder, settle } from '../../core/ecr/read-ahead.ts';
import { ItemErrors } from '../../core/errors/item-errors.ts';
import { imageKeys } from '../../core/logger.ts';
import { indexChildDigests, isIndexMediaType } from '../../core/ecr/media-types.ts';
import type { StepContext } from '../step-kit/step-context.ts';

const TO_VERIFY: ReadonlySet<TagOutcome> = new Set([
  'BACKFILLED',
  'OVERWRITTEN',
  'ALREADY_PRESENT',
  'PENDING',
]);

/**
 * Groups whose reads one invocation keeps in flight. Every group is a different destination
 * repository (or registry), read with BatchGetImage, whose published quota (2,000/s per Region,
 * docs/aws-facts.md) is far above a batch's few calls: read one after the other, a batch spanning
 * ten repositories and two destinations spent 20–40 round trips before the workflow could move on.
 */
export const GROUP_READS_IN_FLIGHT = 4;

/** What one group's reads found: its tags (and its indexes' manifests), and the indexes' children. */
interface GroupReads {
  there: ImageReads;
  childrenOf: Map<string, string[]>;
  children: Map<string, StoredManifest>;
}

/**
 * Reads one group: one read of its tags (and of its indexes' manifests), plus one read of the
 * indexes' child manifests — a few calls per repository and registry, not one per image.
 */
async function readGroup(group: DestinationRepositoryGroup): Promise<GroupReads> {
  const { handle, repositoryName, entries: checks } = group;
  const ref = handle.ref(repositoryName);
  const indexes = checks.filter((c) => isIndexMediaType(c.item.imageManifestMediaType));
  const there = await readImages(handle.client, ref, {
    tags: checks.flatMap((c) => c.tags),
    digests: indexes.map((c) => c.item.imageDigest),
  });
  const childrenOf = new Map<string, string[]>();
  for (const c of indexes) {
    const stored = there.manifests.get(c.item.imageDigest);
    if (stored) {
      const mediaType = stored.mediaType ?? c.item.imageManifestMediaType;
      childrenOf.set(c.item.imageDigest, indexChildDigests(stored.manifest, mediaType));
    }
  }
  const children = await getManifestsByDigest(handle.client, ref, [...childrenOf.values()].flat());
  return { there, childrenOf, children };
}

/** Judges one group's tags from its reads; the source is read only for a tag that does not verify. */
async function verifyGroup(
  ctx: StepContext,
  group: DestinationRepositoryGroup,
  { there, childrenOf, children }: GroupReads,
  sourceTags: (repositoryName: string) => Promise<Map<string, string | undefined>>,
): Promise<void> {
  const { repositoryName, entries: checks } = group;
  // An index is complete when its copy and every child manifest it references exist here.
  const complete = (c: DestinationTags) =>
    !isIndexMediaType(c.item.imageManifestMediaType) ||
    (childrenOf.get(c.item.imageDigest)?.every((digest) => children.has(digest)) ?? false);

  for (const c of checks) {
    const ok = complete(c);
    for (const tag of c.tags) {
      if (ok && there.tags.get(tag) === c.item.imageDigest) {
        if (c.destination.tags[tag] === 'PENDING') c.destination.tags[tag] = 'ALREADY_PRESENT';
        continue;
      }
      const sourceNow = (await sourceTags(repositoryName)).get(tag);
      const moved = sourceNow !== undefined && sourceNow !== c.item.imageDigest;
      c.destination.tags[tag] = moved ? 'MOVED' : 'DIGEST_MISMATCH';
      ctx.logger[moved ? 'info' : 'error']('destination tag does not resolve to the source digest', {
        ...imageKeys(c.item.repositoryName, c.item.imageDigest),
        region: c.destination.region,
        registryId: c.destination.registryId,
        tag,
        destinationDigest: there.tags.get(tag),
        indexChildrenPresent: ok,
        outcome: c.destination.tags[tag],
      });
    }
  }
}

export async function verifyDigests(ctx: StepContext, state: BatchState): Promise<BatchState> {
  const results = resultsOf(state);
  const errors = new ItemErrors(ctx.logger, ctx.step);
  // The source is read only for tags that do not verify (MOVED or DIGEST_MISMATCH), once per repository.
  const sourceReads = new Map<string, Promise<Map<string, string | undefined>>>();
  const sourceTags = (repositoryName: string) => {
    let read = sourceReads.get(repositoryName);
    if (!read) {
      const tags = state.Items.filter((item) => item.repositoryName === repositoryName).flatMap(
        (i) => i.tags,
      );
      read = resolveTags(ctx.source.client, ctx.source.ref(repositoryName), tags);
      read.catch(() => sourceReads.delete(repositoryName));
      sourceReads.set(repositoryName, read);
    }
    return read;
  };
  // The groups' reads overlap (GROUP_READS_IN_FLIGHT); each group is judged in order.
  await readAheadInOrder(
    groupByDestinationRepository(ctx, state, results, TO_VERIFY),
    GROUP_READS_IN_FLIGHT,
    (group) => settle(readGroup(group)),
    async (read, group) => {
      try {
        if (!read.ok) throw read.error;
        await verifyGroup(ctx, group, read.value, sourceTags);
      } catch (error) {
        errors.record(error, 'verifying digests', {
          repository: group.repositoryName,
          region: group.handle.region,
          registryId: group.handle.registryId,
        });
      }
    },
  );
  await verifyReferrers(ctx, state, results, errors);
  errors.throwIfAny();
  return { ...state, results };
}

const REFERRERS_TO_VERIFY: ReadonlySet<TagOutcome> = new Set(['BACKFILLED', 'ALREADY_PRESENT', 'PENDING']);

/**
 * Referrer parity, by digest: in each destination the image reached, the image's referrers as
 * ListImageReferrers lists them there (transitively, what an admission controller would look up)
 * include every referrer the plan found missing. One that does not is DIGEST_MISMATCH: it fails the
 * batch like a tag would, and FinishBatch's second look (or a redrive) copies it again.
 */
async function verifyReferrers(
  ctx: StepContext,
  state: BatchState,
  results: ItemResult[],
  errors: ItemErrors,
): Promise<void> {
  for (const { item, result } of pairItemsWithResults(state.Items, results)) {
    if (isSourceGone(result)) continue;
    for (const [j, destination] of result.destinations.entries()) {
      const outcomes = destination.referrers;
      if (!outcomes || !replicationSettled(destination)) continue;
      const toVerify = Object.keys(outcomes).filter((digest) => REFERRERS_TO_VERIFY.has(outcomes[digest]!));
      if (toVerify.length === 0) continue;
      const handle = ctx.destination(destinationTarget(item, j, destination));
      try {
        const listed = await listReferrersTransitively(
          handle.client,
          handle.ref(item.repositoryName),
          item.imageDigest,
        );
        const there = new Set(listed.map((r) => r.digest));
        for (const digest of toVerify) {
          if (there.has(digest)) {
            if (outcomes[digest] === 'PENDING') outcomes[digest] = 'ALREADY_PRESENT';
            continue;
          }
          outcomes[digest] = 'DIGEST_MISMATCH';
          ctx.logger.error('a referrer of the image is missing in the destination', {
            ...imageKeys(item.repositoryName, item.imageDigest),
            region: destination.region,
            registryId: destination.registryId,
            referrer: digest,
          });
        }
      } catch (error) {
        errors.record(error, 'verifying referrers', {
          ...imageKeys(item.repositoryName, item.imageDigest),
          region: destination.region,
          registryId: destination.registryId,
        });
      }
    }
  }
}
