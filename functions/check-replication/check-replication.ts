/**
 * CheckReplication: has each pushed image arrived in each destination?
 *
 * Per item: one DescribeImageReplicationStatus in the source (all destinations at once); a destination
 * counts as COMPLETE only when ECR says so **and** the digest can be read there (the status alone is
 * not proof). Tags that travel by replication (retag-source's re-put tags, an untagged image's marker
 * tag) must also resolve there to the digest. Those reads in the destinations are batched per
 * registry and repository (one BatchGetImage per 100 ids), after the per-digest status reads.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImageReplicationStatus.html
 *
 * Still pending and younger than `replicationTimeoutMinutes` (counted from `pushedAt`) → throws
 * ReplicationPending and records nothing: the state's Retry is the poll and re-sends this same input.
 * Older → REPLICATION_TIMEOUT. FAILED → REPLICATION_FAILED with ECR's failure code. Read-only.
 */
import { MAX_FAILURE_CODE_LENGTH } from '../../core/contracts/payload-bounds.ts';
import { ReplicationPendingError } from '../../core/errors/errors.ts';
import type {
  BatchState,
  DestinationResult,
  ItemResult,
  TagOutcome,
  WorkItem,
} from '../../core/contracts/contracts.ts';
import {
  destinationTarget,
  isMarkerItem,
  isSourceGone,
  markSourceGone,
  resultsOf,
  setTagOutcomes,
} from '../../core/batch/batch-results.ts';
import { pairItemsWithResults, type ItemWithResult } from '../../core/batch/item-pairs.ts';
import { describeReplicationStatus, readImages } from '../../core/ecr/ecr.ts';
import { readAheadInOrder, settle } from '../../core/ecr/read-ahead.ts';
import { ItemErrors } from '../../core/errors/item-errors.ts';
import { imageKeys } from '../../core/logger.ts';
import type { RegistryHandle, StepContext } from '../step-kit/step-context.ts';

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
  result: ItemResult;
  destination: DestinationResult;
  /** Carried tags not there yet (the destination's replication itself may be complete). */
  missingTags: string[];
}

export interface CheckReplicationOptions {
  /** FinishBatch's last look: whatever is still pending becomes REPLICATION_TIMEOUT, nothing is thrown. */
  final?: boolean;
}

/** A destination whose arrival (digest, carried tags) is read in the destination, batched per repository. */
interface Probe {
  item: WorkItem;
  result: ItemResult;
  destination: DestinationResult;
  handle: RegistryHandle;
  /** ECR says COMPLETE: the digest must also be readable there (the status alone is not proof). */
  needsProof: boolean;
  carried: string[];
}

type Statuses = Awaited<ReturnType<typeof describeReplicationStatus>>;

/**
 * Status reads one invocation keeps in flight. ECR's API reads one digest a call, so a batch of 50
 * read one after the other spends 50 round trips (1.25 s at 25 ms) before its first promotion; 4 at
 * once cut that to a quarter. AWS publishes no rate for DescribeImageReplicationStatus
 * (docs/aws-facts.md, quotas), so the window stays small: the SDK's throttling retry is the safety
 * net, not the pace.
 */
export const STATUS_READS_IN_FLIGHT = 4;

/**
 * Phase 1's read for an item: its statuses (`undefined`: the source image is gone), or `null` when no
 * destination is pending and nothing needs reading.
 */
async function readStatuses(ctx: StepContext, item: WorkItem, result: ItemResult): Promise<Statuses | null> {
  if (isSourceGone(result) || !result.destinations.some((d) => d.replication === 'PENDING')) return null;
  const { source } = ctx;
  return describeReplicationStatus(source.client, source.ref(item.repositoryName), item.imageDigest);
}

/** Phase 1, per item: the replication status in the source (one call per digest, as ECR's API is). */
function checkStatus(
  ctx: StepContext,
  { item, result }: ItemWithResult,
  statuses: Statuses | null,
  pending: Pending[],
  probes: Probe[],
): void {
  const keys = imageKeys(item.repositoryName, item.imageDigest);

  for (const [j, destination] of result.destinations.entries()) {
    const handle = ctx.destination(destinationTarget(item, j, destination));
    let needsProof = false;
    if (destination.replication === 'PENDING') {
      if (statuses === undefined) {
        ctx.logger.warn('source image deleted while replicating', keys);
        markSourceGone(result);
        return;
      }
      const status = statuses?.find(
        (s) => s.region === destination.region && s.registryId === destination.registryId,
      );
      if (status?.status === 'FAILED') {
        destination.replication = 'FAILED';
        // Kept short enough for the state's bound (payload-bounds.ts); the log below has it whole.
        destination.failureCode = (status.failureCode ?? 'UNKNOWN').slice(0, MAX_FAILURE_CODE_LENGTH);
        setTagOutcomes(destination, WAITING, 'REPLICATION_FAILED');
        ctx.logger.error('replication failed', {
          ...keys,
          region: destination.region,
          failureCode: status.failureCode ?? 'UNKNOWN',
        });
        continue;
      }
      if (status?.status !== 'COMPLETE') {
        pending.push({ result, destination, missingTags: [] });
        continue;
      }
      // An extra destination (no role known for it) is trusted on ECR's word: it only awaits cleanup.
      if (destination.extra === true) destination.replication = 'COMPLETE';
      else needsProof = true;
    }
    if (!needsProof && destination.replication !== 'COMPLETE' && destination.replication !== 'NOT_NEEDED')
      continue;
    const carried = carriedTags(ctx.batch.strategy, item, destination);
    if (needsProof || carried.length > 0)
      probes.push({ item, result, destination, handle, needsProof, carried });
  }
}

/**
 * Phase 2, per destination registry and repository: one BatchGetImage (per 100 ids) reads the digests
 * ECR reports COMPLETE and the tags replication must carry, instead of one call per image.
 */
async function checkArrivals(
  ctx: StepContext,
  probes: readonly Probe[],
  pending: Pending[],
  errors: ItemErrors,
): Promise<void> {
  const groups = new Map<string, Probe[]>();
  for (const probe of probes) {
    const key = `${probe.handle.registryId}/${probe.handle.region}/${probe.item.repositoryName}`;
    groups.set(key, [...(groups.get(key) ?? []), probe]);
  }
  for (const group of groups.values()) {
    const { handle, item } = group[0]!;
    let there;
    try {
      there = await readImages(handle.client, handle.ref(item.repositoryName), {
        tags: group.flatMap((p) => p.carried),
        digests: group.filter((p) => p.needsProof).map((p) => p.item.imageDigest),
      });
    } catch (error) {
      errors.record(error, 'checking replication', {
        repository: item.repositoryName,
        region: handle.region,
        registryId: handle.registryId,
      });
      continue;
    }
    for (const p of group) {
      if (p.needsProof) {
        if (!there.manifests.has(p.item.imageDigest)) {
          pending.push({ result: p.result, destination: p.destination, missingTags: [] });
          continue;
        }
        p.destination.replication = 'COMPLETE';
      }
      const missing = p.carried.filter((tag) => there.tags.get(tag) !== p.item.imageDigest);
      if (missing.length > 0)
        pending.push({ result: p.result, destination: p.destination, missingTags: missing });
    }
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
  const probes: Probe[] = [];

  // The status reads overlap (STATUS_READS_IN_FLIGHT); their outcomes are applied in item order.
  await readAheadInOrder(
    pairItemsWithResults(state.Items, results),
    STATUS_READS_IN_FLIGHT,
    ({ item, result }) => settle(readStatuses(ctx, item, result)),
    (read, pair) => {
      const { item, result } = pair;
      if (isSourceGone(result)) return;
      try {
        if (!read.ok) throw read.error;
        checkStatus(ctx, pair, read.value, pending, probes);
      } catch (error) {
        errors.record(error, 'checking replication', imageKeys(item.repositoryName, item.imageDigest));
      }
    },
  );
  // An item whose source image is gone (found by a later status read) is not probed.
  await checkArrivals(
    ctx,
    probes.filter((p) => !isSourceGone(p.result)),
    pending,
    errors,
  );
  errors.throwIfAny();

  const now = ctx.clock.now();
  const timeoutMs = ctx.batch.replicationTimeoutMinutes * 60_000;
  const timedOut = (p: Pending) => options.final === true || now - (p.result.pushedAt ?? 0) >= timeoutMs;
  const waiting = pending.filter((p) => !timedOut(p));
  if (waiting.length > 0) {
    const oldest = Math.max(...waiting.map((p) => now - (p.result.pushedAt ?? now)));
    throw new ReplicationPendingError(
      `${waiting.length} replication(s) of ${state.Items.length} item(s) still pending; oldest pushed ${Math.round(oldest / 1000)} s ago`,
      { partialResults: results },
    );
  }
  for (const p of pending) {
    const { result } = p;
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
