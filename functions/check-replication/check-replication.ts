/**
 * CheckReplication: has each pushed image arrived in each destination?
 *
 * Per item: one DescribeImageReplicationStatus in the source (all destinations at once); a destination
 * counts as COMPLETE only when ECR says so **and** the digest can be read there (the status alone is
 * not proof). Tags that travel by replication (retag-source's re-put tags, an untagged image's marker
 * tag) must also resolve there to the digest.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImageReplicationStatus.html
 *
 * Still pending and younger than `replicationTimeoutMinutes` (counted from `pushedAt`) → throws
 * ReplicationPending and records nothing: the state's Retry is the poll and re-sends this same input.
 * Older → REPLICATION_TIMEOUT. FAILED → REPLICATION_FAILED with ECR's failure code. Read-only.
 */
import { ReplicationPendingError } from '../shared/errors.ts';
import type { BatchState, DestinationResult, ItemResult, TagOutcome, WorkItem } from '../shared/contracts.ts';
import {
  destinationTarget,
  isMarkerItem,
  isSourceGone,
  markSourceGone,
  resultsOf,
  setTagOutcomes,
} from '../shared/batch-results.ts';
import { describeReplicationStatus, getManifestByDigest, resolveTags } from '../shared/ecr.ts';
import { ItemErrors } from '../shared/item-errors.ts';
import { imageKeys } from '../shared/logger.ts';
import type { StepContext } from '../shared/step-context.ts';

const CARRIED: ReadonlySet<TagOutcome> = new Set(['BACKFILLED', 'OVERWRITTEN']);
const WAITING: ReadonlySet<TagOutcome> = new Set(['PENDING', 'BACKFILLED', 'OVERWRITTEN']);

/** Tags of `destination` that replication itself must deliver (and whose arrival is checked here). */
export function carriedTags(
  strategy: BatchState['BatchInput']['strategy'],
  item: WorkItem,
  destination: DestinationResult,
): string[] {
  if (strategy !== 'retag-source' && !isMarkerItem(item)) return [];
  return Object.entries(destination.tags)
    .filter(([, outcome]) => CARRIED.has(outcome))
    .map(([tag]) => tag);
}

interface Pending {
  index: number;
  destination: DestinationResult;
  /** Carried tags not there yet (the destination's replication itself may be complete). */
  missingTags: string[];
}

export interface CheckReplicationOptions {
  /** FinishBatch's last look: whatever is still pending becomes REPLICATION_TIMEOUT, nothing is thrown. */
  final?: boolean;
}

async function checkItem(
  ctx: StepContext,
  item: WorkItem,
  result: ItemResult,
  index: number,
  pending: Pending[],
): Promise<void> {
  const { source } = ctx;
  const keys = imageKeys(item.repositoryName, item.imageDigest);
  let statuses: Awaited<ReturnType<typeof describeReplicationStatus>> | null = null;

  for (const [j, destination] of result.destinations.entries()) {
    const handle = ctx.destination(destinationTarget(item, j, destination));
    const ref = handle.ref(item.repositoryName);
    if (destination.replication === 'PENDING') {
      statuses ??= await describeReplicationStatus(
        source.client,
        source.ref(item.repositoryName),
        item.imageDigest,
      );
      if (statuses === undefined) {
        ctx.logger.warn('source image deleted while replicating', keys);
        markSourceGone(result);
        return;
      }
      const status = statuses.find(
        (s) => s.region === destination.region && s.registryId === destination.registryId,
      );
      if (status?.status === 'FAILED') {
        destination.replication = 'FAILED';
        destination.failureCode = status.failureCode ?? 'UNKNOWN';
        setTagOutcomes(destination, WAITING, 'REPLICATION_FAILED');
        ctx.logger.error('replication failed', {
          ...keys,
          region: destination.region,
          failureCode: destination.failureCode,
        });
        continue;
      }
      // An extra destination (no role known for it) is trusted on ECR's word: it only awaits cleanup.
      const arrived =
        status?.status === 'COMPLETE' &&
        (destination.extra === true ||
          (await getManifestByDigest(handle.client, ref, item.imageDigest)) !== undefined);
      if (!arrived) {
        pending.push({ index, destination, missingTags: [] });
        continue;
      }
      destination.replication = 'COMPLETE';
    }
    if (destination.replication !== 'COMPLETE' && destination.replication !== 'NOT_NEEDED') continue;
    const carried = carriedTags(ctx.batch.strategy, item, destination);
    if (carried.length === 0) continue;
    const resolved = await resolveTags(handle.client, ref, carried);
    const missing = carried.filter((tag) => resolved.get(tag) !== item.imageDigest);
    if (missing.length > 0) pending.push({ index, destination, missingTags: missing });
  }
}

export async function checkReplication(
  ctx: StepContext,
  state: BatchState,
  options: CheckReplicationOptions = {},
): Promise<BatchState> {
  const results = resultsOf(state);
  const errors = new ItemErrors(ctx.logger, ctx.step);
  const pending: Pending[] = [];

  for (const [i, item] of state.Items.entries()) {
    const result = results[i]!;
    if (isSourceGone(result)) continue;
    try {
      await checkItem(ctx, item, result, i, pending);
    } catch (error) {
      errors.record(error, 'checking replication', imageKeys(item.repositoryName, item.imageDigest));
    }
  }
  errors.throwIfAny();

  const now = ctx.clock.now();
  const timeoutMs = ctx.batch.replicationTimeoutMinutes * 60_000;
  const timedOut = (p: Pending) =>
    options.final === true || now - (results[p.index]!.pushedAt ?? 0) >= timeoutMs;
  const waiting = pending.filter((p) => !timedOut(p));
  if (waiting.length > 0) {
    const oldest = Math.max(...waiting.map((p) => now - (results[p.index]!.pushedAt ?? now)));
    throw new ReplicationPendingError(
      `${waiting.length} replication(s) of ${state.Items.length} item(s) still pending; oldest pushed ${Math.round(oldest / 1000)} s ago`,
      { partialResults: results },
    );
  }
  for (const p of pending) {
    const result = results[p.index]!;
    if (p.destination.replication === 'PENDING') {
      p.destination.replication = 'TIMEOUT';
      setTagOutcomes(p.destination, WAITING, 'REPLICATION_TIMEOUT');
    } else {
      setTagOutcomes(p.destination, CARRIED, 'REPLICATION_TIMEOUT', new Set(p.missingTags));
    }
    ctx.logger.error('replication timed out', {
      ...imageKeys(result.repositoryName, result.imageDigest),
      region: p.destination.region,
      registryId: p.destination.registryId,
      missingTags: p.missingTags,
    });
  }
  return { ...state, results };
}
