/**
 * NativeVerify: our own proof of what the native backfills delivered — not the service's word.
 *
 * For every planned item and destination it checks, in the destination, that every planned tag
 * resolves to the source digest (BatchGetImage by tag, every media type accepted, so the digest is
 * the stored one) and, for an index, that every child manifest it references is there; an untagged
 * item's digest must exist. What holds is reported NATIVE_BACKFILLED (`native/verified.jsonl`);
 * everything else — failed, skipped, stopped, never started, replicated without its tag — becomes a
 * work item of `native/repair-items.jsonl`, which the re-push map (BackfillImages) then reads as
 * the run's `items`. Its per-tag logic (conflicts, moved tags, immutability) then applies unchanged.
 *
 * Streams the plan's items in chunks and batches the reads per destination and repository (up to
 * 100 image ids per call), so neither memory nor the state grow with the registry. Idempotent: a
 * retry rewrites the same two files from the same checks.
 */
import {
  NATIVE_BACKFILLED,
  WorkItemSchema,
  type ItemDestination,
  type NativeBackfillState,
  type NativeDestinationSummary,
  type NativeVerifyEvent,
  type PlannedRun,
  type ReportRow,
  type WorkItem,
} from '../shared/contracts.ts';
import type { StepDeps } from '../shared/deps.ts';
import { getManifestsByDigest, resolveTags, type RepositoryRef } from '../shared/ecr.ts';
import { toStepError } from '../shared/errors.ts';
import { runLogger } from '../shared/logger.ts';
import { indexChildDigests, isIndexMediaType } from '../shared/media-types.ts';
import { nativeKeys } from '../shared/native-run-files.ts';
import { readJsonLines, withJsonLinesWriter } from '../shared/s3.ts';
import { destinationKey } from '../shared/batch-results.ts';

export type NativeVerifyDeps = Pick<StepDeps, 'ecr' | 's3' | 'logger'>;

/** Items verified together: bounded memory, and enough per repository to fill 100-id reads. */
export const VERIFY_CHUNK_ITEMS = 200;

interface Check {
  item: WorkItem;
  destination: ItemDestination;
  /** Planned tags still to verify here; empty for an untagged item (its digest must exist). */
  tags: string[];
}

interface CheckOutcome {
  verifiedTags: string[];
  failedTags: string[];
  /** The digest (and, for an index, every child) is in the destination now. */
  digestComplete: boolean;
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

  let verifiedRows = 0;
  let repairItems = 0;
  try {
    await withJsonLinesWriter(deps.s3, run.bucket, keys.verified, async (verified) => {
      const repair = await withJsonLinesWriter(
        deps.s3,
        run.bucket,
        keys.repairItems,
        async (repairWriter) => {
          let chunk: WorkItem[] = [];
          const flush = async () => {
            const outcomes = await verifyChunk(chunk, deps);
            for (const item of chunk) {
              const repairDestinations: ItemDestination[] = [];
              for (const destination of item.destinations) {
                const key = destinationKey(destination);
                const outcome = outcomes.get(checkKey(item, destination));
                if (!outcome) continue;
                const backfillId = byDestination.get(key)?.backfill?.id;
                for (const tag of outcome.verifiedTags) {
                  await verified.write(verifiedRow(item, destination, tag, backfillId));
                }
                count(key, 'verified', outcome.verifiedTags.length);
                count(key, 'repair', outcome.failedTags.length);
                if (outcome.failedTags.length > 0) {
                  repairDestinations.push({
                    ...destination,
                    // An untagged item's only "tag" in the report is '' (the re-push engine adds its marker).
                    tags: item.tags.length === 0 ? [] : outcome.failedTags,
                    digestPresent: outcome.digestComplete,
                  });
                }
              }
              if (repairDestinations.length > 0)
                await repairWriter.write({ ...item, destinations: repairDestinations });
            }
            chunk = [];
          };
          for await (const item of readJsonLines(deps.s3, run.bucket, run.items.key, WorkItemSchema)) {
            chunk.push(item);
            if (chunk.length >= VERIFY_CHUNK_ITEMS) await flush();
          }
          if (chunk.length > 0) await flush();
        },
      );
      repairItems = repair.count;
      verifiedRows = verified.count;
    });
  } catch (error) {
    throw toStepError(error, 'verifying the native backfill');
  }

  const destinations = run.config.destinations.map((d) =>
    destinationSummary(d, byDestination.get(destinationKey(d)), tally.get(destinationKey(d))),
  );
  const repairTags = destinations.reduce((n, d) => n + d.repair, 0);
  logger.info('native backfill verified', { verified: verifiedRows, repairTags, repairItems, destinations });
  return {
    ...run,
    items: { key: keys.repairItems, count: repairItems },
    native: {
      plannedItems: run.items,
      destinations,
      verifiedKey: keys.verified,
      verified: verifiedRows,
      repair: repairTags,
    },
  };
}

function verifiedRow(
  item: WorkItem,
  destination: ItemDestination,
  tag: string,
  backfillId: string | undefined,
): ReportRow {
  return {
    repositoryName: item.repositoryName,
    imageDigest: item.imageDigest,
    tag,
    destinationRegion: destination.region,
    destinationRegistryId: destination.registryId,
    outcome: NATIVE_BACKFILLED,
    detail: backfillId
      ? `verified at the source digest after replication backfill ${backfillId}`
      : 'verified at the source digest (no native backfill ran for this destination)',
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
      // A tagged item planned for a destination without tags has nothing to verify there.
      if (item.tags.length > 0 && destination.tags.length === 0) continue;
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

async function verifyChunk(
  items: readonly WorkItem[],
  deps: NativeVerifyDeps,
): Promise<Map<string, CheckOutcome>> {
  const outcomes = new Map<string, CheckOutcome>();
  for (const group of groupChecks(items)) {
    const client = deps.ecr({
      region: group.destination.region,
      registryId: group.destination.registryId,
      ...(group.destination.roleArn ? { roleArn: group.destination.roleArn } : {}),
    });
    const tags = group.checks.flatMap((check) => check.tags);
    const tagDigests =
      tags.length > 0 ? await resolveTags(client, group.ref, tags) : new Map<string, string>();
    // Digests whose presence matters: every one (untagged items, index children, repair's digestPresent).
    const stored = await getManifestsByDigest(
      client,
      group.ref,
      group.checks.map((check) => check.item.imageDigest),
    );
    const childrenOf = new Map<string, string[]>();
    for (const check of group.checks) {
      const manifest = stored.get(check.item.imageDigest);
      const mediaType = manifest?.mediaType ?? check.item.imageManifestMediaType;
      if (manifest && isIndexMediaType(mediaType)) {
        childrenOf.set(check.item.imageDigest, indexChildDigests(manifest.manifest, mediaType));
      }
    }
    const children = [...new Set([...childrenOf.values()].flat())];
    const storedChildren =
      children.length > 0 ? await getManifestsByDigest(client, group.ref, children) : new Map();
    for (const check of group.checks) {
      const digest = check.item.imageDigest;
      const complete =
        stored.has(digest) && (childrenOf.get(digest) ?? []).every((child) => storedChildren.has(child));
      const verifiedTags: string[] = [];
      const failedTags: string[] = [];
      if (check.tags.length === 0) {
        // Untagged: the digest itself is what was to arrive ('' is the report's tag for it).
        (complete ? verifiedTags : failedTags).push('');
      }
      for (const tag of check.tags) {
        (complete && tagDigests.get(tag) === digest ? verifiedTags : failedTags).push(tag);
      }
      outcomes.set(checkKey(check.item, check.destination), {
        verifiedTags,
        failedTags,
        digestComplete: complete,
      });
    }
  }
  return outcomes;
}
