/**
 * ECR's replication backfill API, as the native engine uses it: typed summaries instead of SDK
 * shapes (timestamps as epoch ms, progress always present), full pagination, and the documented
 * limits in one place.
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-backfill.html
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_StartReplicationBackfill.html
 */
import {
  DescribeReplicationBackfillResultsCommand,
  ListReplicationBackfillsCommand,
  StartReplicationBackfillCommand,
  StopReplicationBackfillCommand,
  type ECRClient,
  type ReplicationBackfillProgress,
  type ReplicationBackfillResult,
} from '@aws-sdk/client-ecr';
import type { NativeBackfillProgress, NativeBackfillStatus } from '../contracts/contracts.ts';
import { NATIVE_BACKFILL_STATUSES } from '../contracts/contracts.ts';

/** "A registry can have at most 10 replication backfills in progress at once" (StartReplicationBackfill). */
export const MAX_ACTIVE_BACKFILLS_PER_REGISTRY = 10;
/** DescribeReplicationBackfillResults `maxResults`: 1 to 1000. */
export const MAX_RESULTS_PER_PAGE = 1000;
/** ListReplicationBackfills `maxResults`: 1 to 50. */
export const MAX_LIST_PAGE = 50;

const ACTIVE: ReadonlySet<NativeBackfillStatus> = new Set(['PREPARING', 'IN_PROGRESS', 'STOPPING']);

/** PREPARING, IN_PROGRESS and STOPPING hold the destination Region: ECR refuses another backfill there. */
export const isActiveStatus = (status: NativeBackfillStatus): boolean => ACTIVE.has(status);
/** COMPLETE, FAILED, STOPPED: per-image results are available. */
export const isTerminalStatus = (status: NativeBackfillStatus): boolean => !ACTIVE.has(status);

export interface BackfillDestination {
  region: string;
  registryId: string;
}

export interface BackfillSummary {
  id: string;
  destination: BackfillDestination;
  status: NativeBackfillStatus;
  failureCode?: string;
  /** Null in the API while PREPARING (and when stopped before preparation completed): zeros here. */
  progress: NativeBackfillProgress;
  /** Whether the API reported progress (false while PREPARING). */
  prepared: boolean;
  startedAt?: number;
  endedAt?: number;
}

export const sameDestination = (a: BackfillDestination, b: BackfillDestination): boolean =>
  a.region === b.region && a.registryId === b.registryId;

export const describeBackfillDestination = (d: BackfillDestination): string => `${d.registryId}/${d.region}`;

function toStatus(value: string | undefined): NativeBackfillStatus {
  const status = NATIVE_BACKFILL_STATUSES.find((s) => s === value);
  // An unknown status is not terminal as far as we know: keep watching rather than read results early.
  return status ?? 'IN_PROGRESS';
}

function toProgress(progress: ReplicationBackfillProgress | undefined): NativeBackfillProgress {
  return {
    total: progress?.totalReplicationCount ?? 0,
    completed: progress?.completedReplicationCount ?? 0,
    failed: progress?.failedReplicationCount ?? 0,
    failureCodes: [...(progress?.failureCodes ?? [])].sort(),
  };
}

interface SummaryLike {
  replicationBackfillId?: string | undefined;
  destination?: { region?: string | undefined; registryId?: string | undefined } | undefined;
  status?: string | undefined;
  failureCode?: string | undefined;
  progress?: ReplicationBackfillProgress | undefined;
  startedAt?: Date | undefined;
  endedAt?: Date | undefined;
}

function toSummary(raw: SummaryLike, fallbackId = ''): BackfillSummary {
  return {
    id: raw.replicationBackfillId ?? fallbackId,
    destination: { region: raw.destination?.region ?? '', registryId: raw.destination?.registryId ?? '' },
    status: toStatus(raw.status),
    ...(raw.failureCode ? { failureCode: raw.failureCode } : {}),
    progress: toProgress(raw.progress),
    prepared: raw.progress !== undefined && raw.progress !== null,
    ...(raw.startedAt ? { startedAt: raw.startedAt.getTime() } : {}),
    ...(raw.endedAt ? { endedAt: raw.endedAt.getTime() } : {}),
  };
}

/** Every backfill of the registry ECR still reports (terminal ones are kept 90 days), newest first. */
export async function listBackfills(client: ECRClient, registryId: string): Promise<BackfillSummary[]> {
  const all: BackfillSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new ListReplicationBackfillsCommand({
        registryId,
        maxResults: MAX_LIST_PAGE,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    for (const backfill of page.backfills ?? []) all.push(toSummary(backfill));
    nextToken = page.nextToken;
  } while (nextToken);
  return all;
}

export async function startBackfill(
  client: ECRClient,
  registryId: string,
  destination: BackfillDestination,
): Promise<BackfillSummary> {
  const output = await client.send(
    new StartReplicationBackfillCommand({
      registryId,
      destination: { region: destination.region, registryId: destination.registryId },
    }),
  );
  return toSummary({ ...output, destination: output.destination ?? destination });
}

/** Status and progress only (one result asked for: the results themselves wait for a terminal status). */
export async function describeBackfill(
  client: ECRClient,
  registryId: string,
  id: string,
): Promise<BackfillSummary> {
  const output = await client.send(
    new DescribeReplicationBackfillResultsCommand({ registryId, replicationBackfillId: id, maxResults: 1 }),
  );
  return toSummary(output, id);
}

/** Every per-image result of a terminal backfill, page by page (at most 1000 each). */
export async function* backfillResults(
  client: ECRClient,
  registryId: string,
  id: string,
): AsyncGenerator<ReplicationBackfillResult[]> {
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new DescribeReplicationBackfillResultsCommand({
        registryId,
        replicationBackfillId: id,
        maxResults: MAX_RESULTS_PER_PAGE,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    yield page.results ?? [];
    nextToken = page.nextToken;
  } while (nextToken);
}

export async function stopBackfill(
  client: ECRClient,
  registryId: string,
  id: string,
): Promise<NativeBackfillStatus> {
  const output = await client.send(
    new StopReplicationBackfillCommand({ registryId, replicationBackfillId: id }),
  );
  return toStatus(output.status);
}
