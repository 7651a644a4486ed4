/**
 * Follows one execution until it ends: the state it is in, the item counts of its Distributed Map
 * runs (DescribeMapRun), throughput and ETA, and each failed child as it happens.
 *
 * Cost per poll: DescribeExecution, GetExecutionHistory (one page, newest first), ListMapRuns and
 * DescribeMapRun — plus ListExecutions/DescribeExecution only when the failed count grew, and while
 * BackfillImages runs the batches' progress records (run-progress.ts: a listing and the records
 * that changed), which move within a batch where the Map Run's counts move only when it ends. Map Run
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
import type { Clock } from '../../core/deps.ts';
import { cliPhaseOf, STATE_NAMES, STEPS } from '../../core/steps.ts';
import type { NativeBackfillView } from '../../core/native/native-progress.ts';
import { parseMapRunArn } from '../aws/arn.ts';
import { explainAwsError } from '../kit/errors.ts';
import { causeMessage } from './failure.ts';
import { describeNativeView, runLocationOf, type RunLocation } from './native-watch.ts';
import { finishedItems, type ItemCounts, type ProgressView } from './progress.ts';
import { RateEstimator } from './rate.ts';
import { anchoredEtaSeconds, type RunProgress } from './run-progress.ts';

/** The labels of the workflow's Distributed Maps: each map's state name (core/steps.ts). */
const PLAN_MAP_LABEL = STATE_NAMES.PlanSlices;
const BACKFILL_MAP_LABEL = STATE_NAMES.BackfillImages;
/** The native engine's map: one item (child execution) per destination. */
const NATIVE_MAP_LABEL = STATE_NAMES.NativeBackfills;

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
  /**
   * Reads the native backfills of the run at `run` (core/native/native-progress.ts). Without
   * it, the native engine shows as its map's item counts only.
   */
  nativeBackfills?: (run: RunLocation) => Promise<NativeBackfillView[]>;
  /**
   * Reads the batches' progress records of the run at `run` (run-progress.ts). Without it (or
   * without read access to the run bucket) the BackfillImages map's item counts are the progress.
   */
  runProgress?: (run: RunLocation) => Promise<RunProgress | undefined>;
}

export interface WatchResult {
  execution: DescribeExecutionCommandOutput;
  /** The BackfillImages map run's last item counts, when it started. */
  backfill?: ItemCounts;
  /** The native backfills as last seen while the NativeBackfills map ran. */
  native?: NativeBackfillView[];
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
export async function currentStateName(sfn: SFNClient, executionArn: string): Promise<string | undefined> {
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

/**
 * The phase from the state entered last (a state that names none shows as itself), or (history
 * unreadable) from the map the run is in, else the first step's.
 */
function phaseFor(stateName: string | undefined, activeMapLabel: string | undefined): string {
  if (stateName) return cliPhaseOf(stateName) ?? stateName;
  return (activeMapLabel && cliPhaseOf(activeMapLabel)) ?? STEPS.Plan.cliPhase;
}

export async function watchExecution(params: WatchParams): Promise<WatchResult> {
  const { sfn, executionArn, view, clock } = params;
  const maxFailureDetails = params.maxFailureDetails ?? 20;
  const rate = new RateEstimator();
  const seenFailures = new Set<string>();
  const failedChildren: WatchResult['failedChildren'] = [];
  // Per map: the count restarts at 0 in each map run (PlanSlices, NativeBackfills, BackfillImages).
  const lastFailedExecutions = new Map<string, number>();
  let historyReadable = true;
  let backfill: ItemCounts | undefined;

  // The native engine's per-destination lines: printed (as notes, so they stay on screen above a
  // progress bar) when a destination's status or counts change. Off after the first failure to
  // read them (no states:GetExecutionHistory, no s3:GetObject on the run bucket, no
  // ecr:DescribeReplicationBackfillResults): the map's item counts still show.
  let nativeLocation: RunLocation | undefined;
  let nativeReadable = params.nativeBackfills !== undefined;
  let native: NativeBackfillView[] | undefined;
  const nativeLines = new Map<string, string>();
  const showNativeBackfills = async (): Promise<void> => {
    if (!nativeReadable || !params.nativeBackfills) return;
    try {
      nativeLocation ??= await runLocationOf(sfn, executionArn);
      if (!nativeLocation) {
        nativeReadable = false;
        view.note('  (native backfills: the run bucket is not in the execution history; map counts only)');
        return;
      }
      native = await params.nativeBackfills(nativeLocation);
    } catch (error) {
      nativeReadable = false;
      const reason = error instanceof Error ? error.message : String(error);
      view.note(`  (native backfills: cannot read their progress, map counts only: ${reason})`);
      return;
    }
    for (const backfill of native) {
      const line = describeNativeView(backfill);
      if (nativeLines.get(backfill.destination) === line) continue;
      nativeLines.set(backfill.destination, line);
      view.note(`  ${NATIVE_MAP_LABEL} ${backfill.destination}: ${line}`);
    }
  };

  // The batches' own progress records while BackfillImages runs: tags per destination, the phase,
  // failures as soon as a step records them. Off after the first failure to read them.
  let progressReadable = params.runProgress !== undefined;
  let runProgress: RunProgress | undefined;
  const seenItemFailures = new Set<string>();
  const readRunProgress = async (): Promise<void> => {
    if (!progressReadable || !params.runProgress) return;
    try {
      nativeLocation ??= await runLocationOf(sfn, executionArn);
      if (!nativeLocation) {
        progressReadable = false;
        return;
      }
      const progress = await params.runProgress(nativeLocation);
      if (!progress || progress.batches === 0) return;
      runProgress = progress;
    } catch (error) {
      progressReadable = false;
      const reason = error instanceof Error ? error.message : String(error);
      view.note(`  (batch progress: cannot read the run bucket, map counts only: ${reason})`);
      return;
    }
    for (const failure of runProgress.failures) {
      const key = `${failure.repositoryName}@${failure.imageDigest}/${failure.destination}/${failure.tag}`;
      if (seenItemFailures.has(key)) continue;
      seenItemFailures.add(key);
      const code = failure.failureCode ? ` (${failure.failureCode})` : '';
      view.note(
        `✗ ${failure.repositoryName}:${failure.tag} → ${failure.destination}: ${failure.outcome}${code}`,
      );
    }
  };

  const reportNewFailures = async (mapRunArn: string, label: string): Promise<void> => {
    // A NativeBackfills child is one destination's backfill; the other maps' children are batches.
    const unit = label === NATIVE_MAP_LABEL ? 'destination' : 'batch';
    const failed = await sfn.send(
      new ListExecutionsCommand({ mapRunArn, statusFilter: 'FAILED', maxResults: 100 }),
    );
    for (const child of failed.executions ?? []) {
      if (!child.executionArn || seenFailures.has(child.executionArn)) continue;
      seenFailures.add(child.executionArn);
      if (failedChildren.length >= maxFailureDetails) {
        if (failedChildren.length === maxFailureDetails) {
          view.note(`  … more failed ${label} ${unit}s: the report lists every failed item.`);
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
        `✗ ${label} ${unit} ${entry.name} failed: ${detail.error ?? 'unknown error'}${message ? ` — ${message}` : ''}`,
      );
    }
  };

  try {
    for (;;) {
      const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      const runs = await listMapRuns(sfn, executionArn);
      const backfillRun = latestWithLabel(runs, BACKFILL_MAP_LABEL);
      const nativeRun = latestWithLabel(runs, NATIVE_MAP_LABEL);
      // The maps run in this order: PlanSlices, NativeBackfills (native engine), BackfillImages
      // (re-push, or the native engine's repairs); the latest one started is what the run is doing.
      const activeRun = backfillRun ?? nativeRun ?? latestWithLabel(runs, PLAN_MAP_LABEL);

      let map: { label: string; items: ItemCounts } | undefined;
      if (activeRun?.mapRunArn) {
        const label = parseMapRunArn(activeRun.mapRunArn).label;
        const described = await sfn.send(new DescribeMapRunCommand({ mapRunArn: activeRun.mapRunArn }));
        const items = toItemCounts(described.itemCounts);
        map = { label, items };
        const executions = toItemCounts(described.executionCounts);
        const failedExecutions = executions.failed + executions.timedOut;
        if (failedExecutions > (lastFailedExecutions.get(label) ?? 0)) {
          await reportNewFailures(activeRun.mapRunArn, label);
        }
        lastFailedExecutions.set(label, failedExecutions);
        if (activeRun === backfillRun) {
          backfill = items;
          await readRunProgress();
          rate.add(clock.now(), runProgress ? runProgress.settledTags : finishedItems(items));
        }
      }

      const status = execution.status ?? 'UNKNOWN';
      const redriveSeen =
        !params.redrivenAt || (execution.redriveDate?.getTime() ?? 0) >= params.redrivenAt.getTime();
      if (!RUNNING_STATUSES.has(status) && redriveSeen) {
        view.update({ phase: status, ...(map ? { map } : {}), ...(runProgress ? { run: runProgress } : {}) });
        view.finish();
        return {
          execution,
          ...(backfill ? { backfill } : {}),
          ...(native ? { native } : {}),
          failedChildren,
        };
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
      const startedAt = backfillRun?.startDate?.getTime();
      const etaSeconds = runProgress
        ? runProgress.settledTags < runProgress.plannedTags
          ? anchoredEtaSeconds({
              quotaBoundSeconds: runProgress.quotaBoundSeconds,
              elapsedSeconds: startedAt !== undefined ? (clock.now() - startedAt) / 1000 : 0,
              rateEtaSeconds: rate.etaSeconds(runProgress.plannedTags),
            })
          : undefined
        : backfill
          ? rate.etaSeconds(backfill.total)
          : undefined;
      view.update({
        phase: status === 'PENDING_REDRIVE' ? 'Redriving' : phaseFor(stateName, map?.label),
        ...(map ? { map } : {}),
        ...(runProgress && activeRun === backfillRun ? { run: runProgress } : {}),
        ...(ratePerSecond !== undefined ? { ratePerSecond } : {}),
        ...(etaSeconds !== undefined ? { etaSeconds } : {}),
      });
      // Once the repairs' BackfillImages map runs, the backfills are over: no more reads for them.
      if (activeRun !== undefined && activeRun === nativeRun) await showNativeBackfills();
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
