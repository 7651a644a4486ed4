/**
 * A scripted Step Functions execution for watch tests: each DescribeExecution of the watched
 * execution moves to the next frame, and the other reads (ListMapRuns, DescribeMapRun,
 * GetExecutionHistory, ListExecutions) answer from the current frame — the API shapes the real
 * service returns, through aws-sdk-client-mock.
 */
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListMapRunsCommand,
  SFNClient,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';

export const EXECUTION_ARN =
  'arn:aws:states:ap-south-1:111122223333:execution:EcrBackfillStateMachine:backfill-20260501-120000-abcdef12';
export const MAP_RUN_ARN =
  'arn:aws:states:ap-south-1:111122223333:mapRun:EcrBackfillStateMachine/BackfillImages:3f1c2a9e-0000-4000-8000-000000000001';
export const NATIVE_MAP_RUN_ARN =
  'arn:aws:states:ap-south-1:111122223333:mapRun:EcrBackfillStateMachine/NativeBackfills:3f1c2a9e-0000-4000-8000-000000000003';
export const PLAN_MAP_RUN_ARN =
  'arn:aws:states:ap-south-1:111122223333:mapRun:EcrBackfillStateMachine/PlanSlices:3f1c2a9e-0000-4000-8000-000000000002';

export interface Counts {
  pending?: number;
  running?: number;
  succeeded?: number;
  failed?: number;
  timedOut?: number;
  aborted?: number;
  total?: number;
}

export interface FailedChild {
  name: string;
  error: string;
  cause: string;
}

export interface Frame {
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';
  stateName?: string;
  planSlices?: Counts;
  backfill?: Counts;
  /** Item counts of the native engine's NativeBackfills map run (one item per destination). */
  nativeBackfills?: Counts;
  /** Failed child executions of the BackfillImages map run, visible from this frame on. */
  failedChildren?: FailedChild[];
  output?: unknown;
  error?: string;
  cause?: string;
  redriveDate?: Date;
}

const START = new Date(Date.UTC(2026, 4, 1, 12, 0, 0));

function fullCounts(counts: Counts) {
  const base = { pending: 0, running: 0, succeeded: 0, failed: 0, timedOut: 0, aborted: 0, ...counts };
  return {
    ...base,
    total:
      counts.total ??
      base.pending + base.running + base.succeeded + base.failed + base.timedOut + base.aborted,
    resultsWritten: 0,
    failuresNotRedrivable: 0,
    pendingRedrive: 0,
  };
}

/** Installs the script on every SFNClient; returns the stub for call assertions. */
export function scriptExecution(
  frames: Frame[],
  options: {
    batchSize?: number;
    /** FinalizePlan's output (the PlannedRun), in the history from the first frame on. */
    plannedRun?: unknown;
  } = {},
): AwsClientStub<SFNClient> {
  const sfn = mockClient(SFNClient);
  let index = -1;
  const current = (): Frame => frames[Math.max(0, Math.min(index, frames.length - 1))] as Frame;
  const batchSize = options.batchSize ?? 1;
  const failedByArn = new Map<string, FailedChild>();

  sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
    const child = failedByArn.get(input.executionArn);
    if (child) {
      return { executionArn: input.executionArn, status: 'FAILED', error: child.error, cause: child.cause };
    }
    index++;
    const frame = current();
    const done = frame.status !== 'RUNNING' && frame.status !== 'PENDING_REDRIVE';
    const response: Partial<DescribeExecutionCommandOutput> = {
      executionArn: EXECUTION_ARN,
      stateMachineArn: 'arn:aws:states:ap-south-1:111122223333:stateMachine:EcrBackfillStateMachine',
      status: frame.status,
      startDate: START,
      ...(done ? { stopDate: new Date(START.getTime() + 754_000) } : {}),
      input: '{}',
      ...(frame.output !== undefined ? { output: JSON.stringify(frame.output) } : {}),
      ...(frame.error ? { error: frame.error } : {}),
      ...(frame.cause ? { cause: frame.cause } : {}),
      ...(frame.redriveDate ? { redriveDate: frame.redriveDate } : {}),
    };
    return response;
  });
  sfn.on(ListMapRunsCommand).callsFake(() => {
    const frame = current();
    const mapRuns = [];
    if (frame.planSlices) {
      mapRuns.push({
        mapRunArn: PLAN_MAP_RUN_ARN,
        executionArn: EXECUTION_ARN,
        stateMachineArn: 'x',
        startDate: START,
      });
    }
    if (frame.nativeBackfills) {
      mapRuns.push({
        mapRunArn: NATIVE_MAP_RUN_ARN,
        executionArn: EXECUTION_ARN,
        stateMachineArn: 'x',
        startDate: new Date(START.getTime() + 30_000),
      });
    }
    if (frame.backfill) {
      mapRuns.push({
        mapRunArn: MAP_RUN_ARN,
        executionArn: EXECUTION_ARN,
        stateMachineArn: 'x',
        startDate: new Date(START.getTime() + 60_000),
      });
    }
    return { mapRuns };
  });
  sfn.on(DescribeMapRunCommand).callsFake((input: { mapRunArn: string }) => {
    const frame = current();
    const counts =
      input.mapRunArn === MAP_RUN_ARN
        ? frame.backfill
        : input.mapRunArn === NATIVE_MAP_RUN_ARN
          ? frame.nativeBackfills
          : frame.planSlices;
    const items = fullCounts(counts ?? {});
    const failedExecutions = input.mapRunArn === MAP_RUN_ARN ? (frame.failedChildren?.length ?? 0) : 0;
    const executions = fullCounts({
      pending: Math.ceil(items.pending / batchSize),
      running: Math.ceil(items.running / batchSize),
      succeeded: Math.ceil(items.succeeded / batchSize),
      failed: failedExecutions,
    });
    return {
      mapRunArn: input.mapRunArn,
      executionArn: EXECUTION_ARN,
      status: 'RUNNING',
      itemCounts: items,
      executionCounts: executions,
    };
  });
  sfn.on(GetExecutionHistoryCommand).callsFake(() => {
    const frame = current();
    const planned =
      options.plannedRun === undefined
        ? []
        : [
            {
              id: 5,
              type: 'TaskStateExited',
              timestamp: START,
              stateExitedEventDetails: { name: 'FinalizePlan', output: JSON.stringify(options.plannedRun) },
            },
          ];
    return {
      events: frame.stateName
        ? [
            { id: 9, type: 'TaskScheduled', timestamp: START },
            {
              id: 8,
              type: 'TaskStateEntered',
              timestamp: START,
              stateEnteredEventDetails: { name: frame.stateName },
            },
            ...planned,
          ]
        : planned,
    };
  });
  sfn.on(ListExecutionsCommand).callsFake(() => {
    const children = current().failedChildren ?? [];
    return {
      executions: children.map((child) => {
        const executionArn = `arn:aws:states:ap-south-1:111122223333:execution:EcrBackfillStateMachine/BackfillImages:${child.name}`;
        failedByArn.set(executionArn, child);
        return { executionArn, name: child.name, status: 'FAILED', stateMachineArn: 'x', startDate: START };
      }),
    };
  });
  return sfn;
}

export function lambdaCause(errorType: string, errorMessage: string): string {
  return JSON.stringify({
    errorType,
    errorMessage,
    trace: [`${errorType}: ${errorMessage}`, '    at handler'],
  });
}
