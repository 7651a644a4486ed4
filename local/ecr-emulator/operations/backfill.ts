import type { Backfill } from '../backfill.ts';
import type { OperationHandler } from '../context.ts';
import { epochSeconds } from '../context.ts';
import { invalidParameter } from '../errors.ts';
import { paginate } from '../pagination.ts';
import { isRecord, isValidRegion, isValidRegistryId, pageSize, requireString } from '../validation.ts';

/**
 * `progress` is null while the backfill is PREPARING, and stays null for one stopped before its
 * preparation completed (the SDK model's documentation of ReplicationBackfillSummary.progress; see
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-backfill.html).
 */
function progress(backfill: Backfill): Record<string, unknown> | null {
  if (!backfill.prepared) return null;
  return {
    totalReplicationCount: backfill.items.length,
    completedReplicationCount: backfill.completed,
    failedReplicationCount: backfill.failed,
    failureCodes: [...backfill.failureCodes].sort(),
  };
}

function summary(backfill: Backfill): Record<string, unknown> {
  return {
    replicationBackfillId: backfill.id,
    destination: { ...backfill.destination },
    status: backfill.status,
    ...(backfill.failureCode ? { failureCode: backfill.failureCode } : {}),
    progress: progress(backfill),
    startedAt: epochSeconds(backfill.startedAt),
    ...(backfill.endedAt !== undefined ? { endedAt: epochSeconds(backfill.endedAt) } : {}),
  };
}

const startReplicationBackfill: OperationHandler = (ctx, input) => {
  const destination = input.destination;
  if (
    !isRecord(destination) ||
    typeof destination.region !== 'string' ||
    !isValidRegion(destination.region) ||
    typeof destination.registryId !== 'string' ||
    !isValidRegistryId(destination.registryId)
  ) {
    throw invalidParameter(
      "Invalid parameter at 'destination': a region and a 12-digit registryId are required",
    );
  }
  const backfill = ctx.backfills.start(ctx.account, ctx.region, {
    region: destination.region,
    registryId: destination.registryId,
  });
  return {
    replicationBackfillId: backfill.id,
    registryId: ctx.account,
    destination: { ...backfill.destination },
    status: backfill.status,
    startedAt: epochSeconds(backfill.startedAt),
  };
};

const describeReplicationBackfillResults: OperationHandler = (ctx, input) => {
  const id = requireString(input.replicationBackfillId, 'replicationBackfillId');
  const limit = pageSize(input.maxResults, 1000, 100);
  const filter = input.resultStatusFilter;
  if (filter !== undefined && filter !== 'COMPLETE' && filter !== 'FAILED') {
    throw invalidParameter("Invalid parameter at 'resultStatusFilter': must be COMPLETE or FAILED");
  }
  const backfill = ctx.backfills.get(ctx.account, ctx.region, id);
  // Per-image results are available only once the backfill reached a terminal status.
  const indexed = ctx.backfills.isTerminal(backfill)
    ? backfill.results.map((result, index) => ({ result, key: String(index).padStart(10, '0') }))
    : [];
  const { page, nextToken } = paginate(
    indexed.filter((entry) => filter === undefined || entry.result.status === filter),
    (entry) => entry.key,
    `backfill-results:${id}:${String(filter)}`,
    input.nextToken,
    limit,
  );
  return {
    registryId: ctx.account,
    ...summary(backfill),
    results: page.map((entry) => entry.result),
    ...(nextToken ? { nextToken } : {}),
  };
};

const listReplicationBackfills: OperationHandler = (ctx, input) => {
  // "This value can be between 1 and 50. If this parameter is not used, ... returns up to 25 results."
  const limit = pageSize(input.maxResults, 50, 25);
  const backfills = ctx.backfills.list(ctx.account, ctx.region);
  const { page, nextToken } = paginate(
    // Newest first, keyed by start time then id, so a page sequence survives backfills started meanwhile.
    backfills.map((backfill) => ({
      backfill,
      key: `${String(Number.MAX_SAFE_INTEGER - backfill.startedAt).padStart(16, '0')}:${backfill.id}`,
    })),
    (entry) => entry.key,
    `backfills:${ctx.account}:${ctx.region}`,
    input.nextToken,
    limit,
  );
  return {
    registryId: ctx.account,
    backfills: page.map((entry) => summary(entry.backfill)),
    ...(nextToken ? { nextToken } : {}),
  };
};

const stopReplicationBackfill: OperationHandler = (ctx, input) => {
  const id = requireString(input.replicationBackfillId, 'replicationBackfillId');
  const backfill = ctx.backfills.stop(ctx.account, ctx.region, id);
  return {
    registryId: ctx.account,
    replicationBackfillId: backfill.id,
    destination: { ...backfill.destination },
    status: backfill.status,
    startedAt: epochSeconds(backfill.startedAt),
  };
};

export const backfillOperations: Record<string, OperationHandler> = {
  StartReplicationBackfill: startReplicationBackfill,
  DescribeReplicationBackfillResults: describeReplicationBackfillResults,
  ListReplicationBackfills: listReplicationBackfills,
  StopReplicationBackfill: stopReplicationBackfill,
};
