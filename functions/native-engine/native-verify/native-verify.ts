/**
 * NativeVerify: our own proof of what the native backfills delivered — not the service's word.
 *
 * For every planned item, destination and tag it reads the tag in the source now and in the
 * destination (BatchGetImage by tag, every media type accepted, so digests are the stored ones):
 * - source tag still at the planned digest: the destination tag must resolve to it and, for an
 *   index, every child manifest must be there; an untagged item's digest must exist. Then
 *   NATIVE_BACKFILLED (`native/verified.jsonl`); otherwise — failed, skipped, stopped, never
 *   started, replicated without its tag — a work item of `native/repair-items.jsonl`, which the
 *   re-push map (BackfillImages) reads as the run's `items`, its own per-tag rules (conflicts,
 *   moved tags, immutability) applying unchanged.
 * - source tag moved to a newer digest during the run: the newer push replicates by itself
 *   (MOVED). A backfill prepares its list first and replicates it later, so it may have put the
 *   tag back on the older digest after the newer push arrived: that revert (the destination tag
 *   on the planned digest, the newer digest present there) is undone by putting the tag on the
 *   newer manifest, re-checking both tags right before the write — docs/architecture.md §3.2 invariant 3.
 * - source tag gone: nothing left to backfill (SOURCE_GONE). If the destination holds it at the
 *   planned digest anyway, the run put it there: the plan found it missing, and a backfill
 *   "prepares" its list before it replicates it, so it may copy a tag its owner deleted meanwhile,
 *   even after a rule that replicates deletes removed it. Owners' deletes win (docs/architecture.md
 *   §3.2 #11): that tag is removed again, by tag only, after re-reading both sides, and only where
 *   removing it cannot delete a copy that was there before the run.
 * - referrers (signatures, SBOMs, attestations): in a destination that holds the image, the ones the
 *   plan found in the source must be listed there; the missing ones are copied untagged, as
 *   PromoteTags copies them (native-referrers.ts). Where the image itself is to be repaired, its
 *   repair item carries the referrers the plan found missing, for the re-push map to copy.
 *
 * Streams the plan's items in chunks and batches the reads per destination and repository (up to
 * 100 image ids per call), so neither memory nor the state grow with the registry. Idempotent: a
 * retry rewrites the same two files from the same checks.
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import { BatchBytesBound, MAX_REPLICATION_DESTINATIONS } from '../../../core/contracts/payload-bounds.ts';
import {
  NATIVE_BACKFILLED,
  WorkItemSchema,
  type ItemDestination,
  type NativeBackfillState,
  type NativeDestinationSummary,
  type NativeVerifyEvent,
  type PlannedRun,
  type ReportRow,
  type RunConfig,
  type WorkItem,
} from '../../../core/contracts/contracts.ts';
import type { StepDeps } from '../../../core/deps.ts';
import {
  deleteTags,
  getManifestsByDigest,
  putManifest,
  resolveTag,
  resolveTags,
  type RepositoryRef,
} from '../../../core/ecr/ecr.ts';
import { toStepError } from '../../../core/errors/errors.ts';
import { runLogger } from '../../../core/logger.ts';
import { indexChildDigests, isIndexMediaType } from '../../../core/ecr/media-types.ts';
import { nativeKeys } from '../../../core/native/native-run-files.ts';
import { putImageLimiter } from '../../../core/ecr/rate-limit.ts';
import { readJsonLines, withJsonLinesWriter } from '../../../core/run-files/run-store.ts';
import { destinationKey } from '../../../core/batch/batch-results.ts';
import { bringReferrers } from './native-referrers.ts';

export type NativeVerifyDeps = Pick<StepDeps, 'ecr' | 'runStore' | 'logger' | 'env'>;

/** Items verified together: bounded memory, and enough per repository to fill 100-id reads. */
export const VERIFY_CHUNK_ITEMS = 200;

/** Outcomes NativeVerify reports besides NATIVE_BACKFILLED (the re-push engine's names). */
type OtherOutcome = 'MOVED' | 'SOURCE_GONE' | 'DIGEST_MISMATCH';

interface CheckOutcome {
  verifiedTags: string[];
  /** Tags the re-push engine takes over ('' for an untagged item). */
  failedTags: string[];
  other: Array<{ tag: string; outcome: OtherOutcome; detail: string }>;
  /** The digest (and, for an index, every child) is in the destination now. */
  digestComplete: boolean;
  /** Rows of the referrers checked (and copied) in a destination holding the image. */
  referrerRows: ReportRow[];
}

interface Check {
  item: WorkItem;
  destination: ItemDestination;
  /** Planned tags to verify here; empty for an untagged item (its digest must exist). */
  tags: string[];
}

export async function nativeVerify(event: NativeVerifyEvent, deps: NativeVerifyDeps): Promise<PlannedRun> {
  const { nativeBackfills, ...run } = event;
  const logger = runLogger(deps.logger, run.runId, 'NativeVerify');
  const keys = nativeKeys(run.runPrefix);
  const byDestination = new Map(nativeBackfills.map((state) => [destinationKey(state.destination), state]));
  const tally = new Map<string, { verified: number; repair: number }>();
  const count = (key: string, field: 'verified' | 'repair', n: number) => {
    const entry = tally.get(key) ?? { verified: 0, repair: 0 };
    entry[field] += n;
    tally.set(key, entry);
  };
  const verifier = new ChunkVerifier(
    run.config,
    deps,
    (destination) => byDestination.get(destinationKey(destination))?.backfill?.id,
  );

  let verifiedRows = 0;
  let repairItems = 0;
  const batchBytes = new BatchBytesBound();
  try {
    await withJsonLinesWriter(deps.runStore, run.bucket, keys.verified, async (rows) => {
      const repair = await withJsonLinesWriter(
        deps.runStore,
        run.bucket,
        keys.repairItems,
        async (repairWriter) => {
          let chunk: WorkItem[] = [];
          const flush = async () => {
            const outcomes = await verifier.verify(chunk);
            for (const item of chunk) {
              const repairDestinations: ItemDestination[] = [];
              for (const destination of item.destinations) {
                const key = destinationKey(destination);
                const outcome = outcomes.get(checkKey(item, destination));
                if (!outcome) continue;
                const backfillId = byDestination.get(key)?.backfill?.id;
                for (const tag of outcome.verifiedTags) {
                  await rows.write(
                    row(item, destination, tag, NATIVE_BACKFILLED, verifiedDetail(backfillId)),
                  );
                }
                for (const other of outcome.other) {
                  await rows.write(row(item, destination, other.tag, other.outcome, other.detail));
                }
                for (const referrerRow of outcome.referrerRows) await rows.write(referrerRow);
                count(key, 'verified', outcome.verifiedTags.length);
                count(key, 'repair', outcome.failedTags.length);
                // The image is not (all) there: its referrers wait for it, in the re-push map.
                const referrers = outcome.digestComplete ? [] : (destination.referrers ?? []);
                if (outcome.failedTags.length > 0 || referrers.length > 0) {
                  const { referrers: _planned, ...planned } = destination;
                  repairDestinations.push({
                    ...planned,
                    // An untagged item has no tag to name: the re-push engine gives it its marker tag.
                    tags: item.tags.length === 0 ? [] : outcome.failedTags,
                    digestPresent: outcome.digestComplete,
                    ...(referrers.length > 0 && { referrers }),
                  });
                }
              }
              if (repairDestinations.length > 0) {
                const repair = { ...item, destinations: repairDestinations };
                // A repair item is a part of a planned one (no split needed); the destinations it
                // no longer names are extra ones to its push, up to ECR's 25 (payload-bounds.ts).
                batchBytes.add(repair, MAX_REPLICATION_DESTINATIONS);
                await repairWriter.write(repair);
              }
            }
            chunk = [];
          };
          for await (const item of readJsonLines(deps.runStore, run.bucket, run.items.key, WorkItemSchema)) {
            chunk.push(item);
            if (chunk.length >= VERIFY_CHUNK_ITEMS) await flush();
          }
          if (chunk.length > 0) await flush();
        },
      );
      repairItems = repair.count;
      verifiedRows = rows.count;
    });
  } catch (error) {
    throw toStepError(error, 'verifying the native backfill');
  }

  const destinations = run.config.destinations.map((d) =>
    destinationSummary(d, byDestination.get(destinationKey(d)), tally.get(destinationKey(d))),
  );
  const verified = destinations.reduce((n, d) => n + d.verified, 0);
  const repairTags = destinations.reduce((n, d) => n + d.repair, 0);
  logger.info('native backfill verified', {
    verified,
    rows: verifiedRows,
    repairTags,
    repairItems,
    destinations,
  });
  return {
    ...run,
    items: { key: keys.repairItems, count: repairItems, maxInputBytesPerBatch: batchBytes.value },
    native: {
      plannedItems: run.items,
      destinations,
      verifiedKey: keys.verified,
      verified,
      repair: repairTags,
    },
  };
}

const verifiedDetail = (backfillId: string | undefined): string =>
  backfillId
    ? `verified at the source digest after replication backfill ${backfillId}`
    : 'verified at the source digest (no native backfill ran for this destination)';

function row(
  item: WorkItem,
  destination: ItemDestination,
  tag: string,
  outcome: string,
  detail: string,
): ReportRow {
  return {
    repositoryName: item.repositoryName,
    imageDigest: item.imageDigest,
    tag,
    destinationRegion: destination.region,
    destinationRegistryId: destination.registryId,
    outcome,
    detail,
  };
}

function destinationSummary(
  destination: { region: string; registryId: string },
  state: NativeBackfillState | undefined,
  counts: { verified: number; repair: number } | undefined,
): NativeDestinationSummary {
  const backfill = state?.backfill;
  return {
    region: destination.region,
    registryId: destination.registryId,
    ...(backfill && { backfillId: backfill.id }),
    adopted: backfill?.adopted ?? false,
    status: backfill?.status ?? 'NOT_STARTED',
    ...(backfill?.failureCode !== undefined && { failureCode: backfill.failureCode }),
    ...(backfill?.progress && { progress: backfill.progress }),
    ...(state?.results && { resultsKey: state.results.key }),
    ...(state?.note !== undefined && { note: state.note }),
    verified: counts?.verified ?? 0,
    repair: counts?.repair ?? 0,
  };
}

const checkKey = (item: WorkItem, destination: { region: string; registryId: string }): string =>
  `${destinationKey(destination)} ${item.repositoryName}@${item.imageDigest}`;

/** Checks of one destination and repository, read together. */
interface Group {
  destination: ItemDestination;
  ref: RepositoryRef;
  checks: Check[];
}

function groupChecks(items: readonly WorkItem[]): Group[] {
  const groups = new Map<string, Group>();
  for (const item of items) {
    for (const destination of item.destinations) {
      // A tagged item planned for a destination without tags has nothing to verify there but the
      // referrers the plan found missing there.
      if (item.tags.length > 0 && destination.tags.length === 0 && !destination.referrers?.length) continue;
      const key = `${destinationKey(destination)} ${destination.roleArn ?? ''} ${item.repositoryName}`;
      let group = groups.get(key);
      if (!group) {
        group = {
          destination,
          ref: { registryId: destination.registryId, repositoryName: item.repositoryName },
          checks: [],
        };
        groups.set(key, group);
      }
      group.checks.push({ item, destination, tags: item.tags.length === 0 ? [] : destination.tags });
    }
  }
  return [...groups.values()];
}

class ChunkVerifier {
  private readonly source: ECRClient;

  constructor(
    private readonly config: RunConfig,
    private readonly deps: NativeVerifyDeps,
    private readonly backfillIdOf: (destination: ItemDestination) => string | undefined,
  ) {
    this.source = deps.ecr({ region: config.sourceRegion, registryId: config.sourceRegistryId });
  }

  private sourceRef(repositoryName: string): RepositoryRef {
    return { registryId: this.config.sourceRegistryId, repositoryName };
  }

  async verify(items: readonly WorkItem[]): Promise<Map<string, CheckOutcome>> {
    const sourceTags = await this.readSourceTags(items);
    const outcomes = new Map<string, CheckOutcome>();
    for (const group of groupChecks(items)) {
      const client = this.deps.ecr({
        region: group.destination.region,
        registryId: group.destination.registryId,
        ...(group.destination.roleArn ? { roleArn: group.destination.roleArn } : {}),
      });
      const inSource = sourceTags.get(group.ref.repositoryName) ?? new Map<string, string | undefined>();
      const tags = group.checks.flatMap((check) => check.tags);
      const there = tags.length > 0 ? await resolveTags(client, group.ref, tags) : new Map<string, string>();
      // Planned digests, plus the newer digests of moved tags (a revert is undone only if it is there).
      const newer = group.checks.flatMap((check) =>
        check.tags.map((tag) => inSource.get(tag)).filter((d): d is string => d !== undefined),
      );
      const digests = [...new Set([...group.checks.map((check) => check.item.imageDigest), ...newer])];
      const complete = await this.completeDigests(client, group.ref, digests, group.checks);

      for (const check of group.checks) {
        const digest = check.item.imageDigest;
        const outcome: CheckOutcome = {
          verifiedTags: [],
          failedTags: [],
          other: [],
          digestComplete: complete.has(digest),
          referrerRows: [],
        };
        if (check.item.tags.length === 0) {
          // Untagged: the digest itself is what was to arrive ('' is the report's tag for it).
          (complete.has(digest) ? outcome.verifiedTags : outcome.failedTags).push('');
        }
        for (const tag of check.tags) {
          const now = inSource.get(tag);
          const here = there.get(tag);
          if (now === digest) {
            (complete.has(digest) && here === digest ? outcome.verifiedTags : outcome.failedTags).push(tag);
          } else if (now === undefined && here === digest) {
            outcome.other.push(
              await this.sourceGoneButHere(client, group.ref, check, tag, { there, inSource }),
            );
          } else if (now === undefined) {
            outcome.other.push({
              tag,
              outcome: 'SOURCE_GONE',
              detail: 'the tag was deleted in the source during the run',
            });
          } else {
            outcome.other.push(
              await this.movedTag(
                client,
                group.destination.region,
                group.ref,
                { tag, planned: digest, newer: now, here },
                complete,
              ),
            );
          }
        }
        if (outcome.digestComplete) {
          outcome.referrerRows = await bringReferrers(
            { client: this.source, ref: this.sourceRef(group.ref.repositoryName) },
            {
              client,
              ref: group.ref,
              limiter: putImageLimiter(group.destination.region, this.deps.env.putImageRatePerSecond),
            },
            check.item,
            check.destination,
            this.backfillIdOf(check.destination),
          );
        }
        outcomes.set(checkKey(check.item, check.destination), outcome);
      }
    }
    return outcomes;
  }

  /** Current digest of every planned tag in the source, per repository. */
  private async readSourceTags(
    items: readonly WorkItem[],
  ): Promise<Map<string, Map<string, string | undefined>>> {
    const tagsByRepository = new Map<string, Set<string>>();
    for (const item of items) {
      const tags = tagsByRepository.get(item.repositoryName) ?? new Set<string>();
      for (const destination of item.destinations) for (const tag of destination.tags) tags.add(tag);
      tagsByRepository.set(item.repositoryName, tags);
    }
    const result = new Map<string, Map<string, string | undefined>>();
    for (const [repositoryName, tags] of tagsByRepository) {
      if (tags.size === 0) continue;
      result.set(repositoryName, await resolveTags(this.source, this.sourceRef(repositoryName), [...tags]));
    }
    return result;
  }

  /** Which of `digests` are in the destination with, for an index, every child manifest. */
  private async completeDigests(
    client: ECRClient,
    ref: RepositoryRef,
    digests: readonly string[],
    checks: readonly Check[],
  ): Promise<Set<string>> {
    const stored = await getManifestsByDigest(client, ref, digests);
    const plannedType = new Map(
      checks.map((check) => [check.item.imageDigest, check.item.imageManifestMediaType]),
    );
    const childrenOf = new Map<string, string[]>();
    for (const [digest, manifest] of stored) {
      const mediaType = manifest.mediaType ?? plannedType.get(digest);
      if (isIndexMediaType(mediaType))
        childrenOf.set(digest, indexChildDigests(manifest.manifest, mediaType));
    }
    const children = [...new Set([...childrenOf.values()].flat())];
    const storedChildren =
      children.length > 0 ? await getManifestsByDigest(client, ref, children) : new Map<string, unknown>();
    return new Set(
      [...stored.keys()].filter((digest) =>
        (childrenOf.get(digest) ?? []).every((child) => storedChildren.has(child)),
      ),
    );
  }

  /**
   * The source tag is gone but the destination holds it at the planned digest: the plan found it
   * missing there, so the run's backfill put it (a backfill lists its images and tags first and
   * copies them later: a tag its owner deleted in between is copied all the same, after the
   * replicated delete if the rule replicates deletes). Owners' deletes win (docs/architecture.md
   * §3.2 #11): both sides are read again right before the delete, which goes by tag only
   * (deleteTags), and only where the copy is the run's own (not in the destination before the run)
   * or keeps another planned tag that verified here; otherwise removing the copy's last tag would
   * delete a copy that was there before, so the tag stays (logged). SOURCE_GONE either way.
   * https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-backfill.html
   */
  private async sourceGoneButHere(
    client: ECRClient,
    ref: RepositoryRef,
    check: Check,
    tag: string,
    read: {
      there: ReadonlyMap<string, string | undefined>;
      inSource: ReadonlyMap<string, string | undefined>;
    },
  ): Promise<CheckOutcome['other'][number]> {
    const digest = check.item.imageDigest;
    const gone = 'the tag was deleted in the source during the run';
    // Another tag of the copy that stays: planned, delivered here and still in the source.
    const keepsAnother = check.tags.some(
      (other) => other !== tag && read.there.get(other) === digest && read.inSource.get(other) === digest,
    );
    if (check.destination.digestPresent && !keepsAnother) {
      this.deps.logger.warn('source tag deleted during the run; it stays on a copy that was here before', {
        repository: ref.repositoryName,
        region: check.destination.region,
        tag,
      });
      return { tag, outcome: 'SOURCE_GONE', detail: `${gone}; the copy that was here before keeps it` };
    }
    const sourceNow = await resolveTag(this.source, this.sourceRef(ref.repositoryName), tag);
    const hereNow = await resolveTag(client, ref, tag);
    if (sourceNow !== undefined || hereNow !== digest) {
      return sourceNow === undefined
        ? { tag, outcome: 'SOURCE_GONE', detail: gone }
        : { tag, outcome: 'MOVED', detail: 'the tag was pushed again in the source during verification' };
    }
    const { deleted } = await deleteTags(client, ref, [tag]);
    this.deps.logger.warn('source tag deleted during the run; the backfill copied it, removed again', {
      repository: ref.repositoryName,
      region: check.destination.region,
      tag,
      removed: deleted.length > 0,
    });
    return { tag, outcome: 'SOURCE_GONE', detail: `${gone}; the backfill's copy of it removed` };
  }

  /**
   * The source tag moved from `planned` to `newer` during the run. If the destination tag is on the
   * planned digest, only the backfill can have put it there (the plan found it missing, or moved it
   * by request), after or instead of the newer push: put it back on the newer manifest when that is
   * in the destination, re-reading both tags right before the write.
   */
  private async movedTag(
    client: ECRClient,
    region: string,
    ref: RepositoryRef,
    moved: { tag: string; planned: string; newer: string; here: string | undefined },
    complete: ReadonlySet<string>,
  ): Promise<CheckOutcome['other'][number]> {
    const { tag, planned, newer, here } = moved;
    if (here !== planned) {
      return {
        tag,
        outcome: 'MOVED',
        detail:
          here === newer
            ? 'the tag moved in the source during the run; the newer push reached the destination'
            : 'the tag moved in the source during the run; the newer push replicates by itself',
      };
    }
    const manifest = complete.has(newer)
      ? (await getManifestsByDigest(client, ref, [newer])).get(newer)
      : undefined;
    if (!manifest) {
      return {
        tag,
        outcome: 'MOVED',
        detail:
          'the backfill put the tag on the older digest; the newer push has not reached the destination yet and will move it',
      };
    }
    const sourceNow = await resolveTag(this.source, this.sourceRef(ref.repositoryName), tag);
    const hereNow = await resolveTag(client, ref, tag);
    if (sourceNow !== newer || hereNow !== planned) {
      return { tag, outcome: 'MOVED', detail: 'the tag moved again during verification; left as it is' };
    }
    const limiter = putImageLimiter(region, this.deps.env.putImageRatePerSecond);
    const put = await putManifest(
      client,
      ref,
      { manifest: manifest.manifest, mediaType: manifest.mediaType, imageDigest: newer, tag },
      limiter,
    );
    if (put === 'tag-exists') {
      return {
        tag,
        outcome: 'DIGEST_MISMATCH',
        detail: `the backfill put the tag on the older digest after the newer push, and the immutable destination keeps it there (newer digest ${newer})`,
      };
    }
    return {
      tag,
      outcome: 'MOVED',
      detail:
        'the backfill put the tag back on the older digest after the newer push; restored to the newer digest',
    };
  }
}
