/**
 * Follows one execution until it ends: the state it is in, the item counts of its Distributed Map
 * runs (DescribeMapRun), throughput and ETA, and each failed child as it happens.
 *
 * Cost per poll: DescribeExecution, GetExecutionHistory (one page, newest first), ListMapRuns and
 * DescribeMapRun — plus ListExecutions/DescribeExecution only when the failed count grew. Map Run
 * item counts are per *item*, not per batch, so progress is in images even with an ItemBatcher.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeMapRun.html
 */
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListMapRunsCommand,
  type DescribeExecutionCommandOutput,
  type MapRunListItem,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { Clock } from '../../functions/shared/deps.ts';
import { parseMapRunArn } from './arn.ts';
import { explainAwsError } from './errors.ts';
import { causeMessage } from './failure.ts';
import { finishedItems, type ItemCounts, type ProgressView } from './progress.ts';
import { RateEstimator } from './rate.ts';

/** Labels of the workflow's Distributed Maps (statemachine/ names them so). */
export const BACKFILL_MAP_LABEL = 'BackfillImages';
export const PLAN_MAP_LABEL = 'PlanSlices';

const PHASE_OF_STATE: Record<string, string> = {
  Plan: 'Planning',
  PlanSlices: 'Planning',
  FinalizePlan: 'Planning',
  BackfillImages: 'Backfilling',
  Summarize: 'Summarizing',
};

const RUNNING_STATUSES = new Set(['RUNNING', 'PENDING_REDRIVE']);

export interface WatchParams {
  sfn: SFNClient;
  executionArn: string;
  view: ProgressView;
  clock: Clock;
  sleep(ms: number): Promise<void>;
  intervalMs: number;
  /** Failed children described individually before the rest are only counted. */
  maxFailureDetails?: number;
  /**
   * After a RedriveExecution: its redriveDate. A terminal status read before the execution shows
   * that redrive is the status of the previous attempt, not the end of this one.
   */
  redrivenAt?: Date;
}

export interface WatchResult {
  execution: DescribeExecutionCommandOutput;
  /** The BackfillImages map run's last item counts, when it started. */
  backfill?: ItemCounts;
  /** Failed child executions reported while watching. */
  failedChildren: { name: string; error?: string; cause?: string }[];
}

function toItemCounts(counts: Partial<Record<keyof ItemCounts, number | undefined>> | undefined): ItemCounts {
  return {
    pending: counts?.pending ?? 0,
    running: counts?.running ?? 0,
    succeeded: counts?.succeeded ?? 0,
    failed: counts?.failed ?? 0,
    timedOut: counts?.timedOut ?? 0,
    aborted: counts?.aborted ?? 0,
    total: counts?.total ?? 0,
  };
}

async function listMapRuns(sfn: SFNClient, executionArn: string): Promise<MapRunListItem[]> {
  const runs: MapRunListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListMapRunsCommand({ executionArn, nextToken }));
    runs.push(...(page.mapRuns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return runs;
}

function latestWithLabel(runs: MapRunListItem[], label: string): MapRunListItem | undefined {
  return runs
    .filter((run) => run.mapRunArn && parseMapRunArn(run.mapRunArn).label === label)
    .sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0))[0];
}

/** The state the execution entered last (its history, newest first, one page). */
async function currentStateName(sfn: SFNClient, executionArn: string): Promise<string | undefined> {
  const history = await sfn.send(
    new GetExecutionHistoryCommand({
      executionArn,
      reverseOrder: true,
      maxResults: 20,
      includeExecutionData: false,
    }),
  );
  for (const event of history.events ?? []) {
    const name = event.stateEnteredEventDetails?.name;
    if (name) return name;
  }
  return undefined;
}

function phaseFor(stateName: string | undefined, hasBackfill: boolean): string {
  if (stateName) return PHASE_OF_STATE[stateName] ?? stateName;
  return hasBackfill ? 'Backfilling' : 'Planning';
}

export async function watchExecution(params: WatchParams): Promise<WatchResult> {
  const { sfn, executionArn, view, clock } = params;
  const maxFailureDetails = params.maxFailureDetails ?? 20;
  const rate = new RateEstimator();
  const seenFailures = new Set<string>();
  const failedChildren: WatchResult['failedChildren'] = [];
  let lastFailedExecutions = 0;
  let historyReadable = true;
  let backfill: ItemCounts | undefined;

  const reportNewFailures = async (mapRunArn: string, label: string): Promise<void> => {
    const failed = await sfn.send(
      new ListExecutionsCommand({ mapRunArn, statusFilter: 'FAILED', maxResults: 100 }),
    );
    for (const child of failed.executions ?? []) {
      if (!child.executionArn || seenFailures.has(child.executionArn)) continue;
      seenFailures.add(child.executionArn);
      if (failedChildren.length >= maxFailureDetails) {
        if (failedChildren.length === maxFailureDetails) {
          view.note(`  … more failed ${label} batches: the report lists every failed item.`);
          failedChildren.push({ name: '(more)' });
        }
        continue;
      }
      const detail = await sfn.send(new DescribeExecutionCommand({ executionArn: child.executionArn }));
      const entry = {
        name: child.name ?? child.executionArn,
        ...(detail.error ? { error: detail.error } : {}),
        ...(detail.cause ? { cause: detail.cause } : {}),
      };
      failedChildren.push(entry);
      const message = causeMessage(detail.cause)?.split('\n')[0]?.slice(0, 400);
      view.note(
        `✗ ${label} batch ${entry.name} failed: ${detail.error ?? 'unknown error'}${message ? ` — ${message}` : ''}`,
      );
    }
  };

  try {
    for (;;) {
      const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      const runs = await listMapRuns(sfn, executionArn);
      const backfillRun = latestWithLabel(runs, BACKFILL_MAP_LABEL);
      const activeRun = backfillRun ?? latestWithLabel(runs, PLAN_MAP_LABEL);

      let map: { label: string; items: ItemCounts } | undefined;
      if (activeRun?.mapRunArn) {
        const label = parseMapRunArn(activeRun.mapRunArn).label;
        const described = await sfn.send(new DescribeMapRunCommand({ mapRunArn: activeRun.mapRunArn }));
        const items = toItemCounts(described.itemCounts);
        map = { label, items };
        const executions = toItemCounts(described.executionCounts);
        const failedExecutions = executions.failed + executions.timedOut;
        if (failedExecutions > lastFailedExecutions) await reportNewFailures(activeRun.mapRunArn, label);
        lastFailedExecutions = failedExecutions;
        if (activeRun === backfillRun) {
          backfill = items;
          rate.add(clock.now(), finishedItems(items));
        }
      }

      const status = execution.status ?? 'UNKNOWN';
      const redriveSeen =
        !params.redrivenAt || (execution.redriveDate?.getTime() ?? 0) >= params.redrivenAt.getTime();
      if (!RUNNING_STATUSES.has(status) && redriveSeen) {
        view.update({ phase: status, ...(map ? { map } : {}) });
        view.finish();
        return { execution, ...(backfill ? { backfill } : {}), failedChildren };
      }

      let stateName: string | undefined;
      if (historyReadable) {
        try {
          stateName = await currentStateName(sfn, executionArn);
        } catch {
          // Without states:GetExecutionHistory the phase is inferred from the map runs instead.
          historyReadable = false;
        }
      }
      const ratePerSecond = backfill ? rate.ratePerSecond() : undefined;
      const etaSeconds = backfill ? rate.etaSeconds(backfill.total) : undefined;
      view.update({
        phase: status === 'PENDING_REDRIVE' ? 'Redriving' : phaseFor(stateName, backfillRun !== undefined),
        ...(map ? { map } : {}),
        ...(ratePerSecond !== undefined ? { ratePerSecond } : {}),
        ...(etaSeconds !== undefined ? { etaSeconds } : {}),
      });
      await params.sleep(params.intervalMs);
    }
  } catch (error) {
    view.finish();
    throw explainAwsError(error, 'Watching the execution', {
      permission:
        'states:DescribeExecution, states:ListMapRuns, states:DescribeMapRun and states:ListExecutions',
    });
  }
}
