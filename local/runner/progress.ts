/** What the runner reports while it works (the CLI turns these into a progress display). */
import type { Json } from './asl.ts';

export type ExecutionStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

export interface MapRunCounts {
  itemsTotal: number;
  itemsSucceeded: number;
  itemsFailed: number;
  itemsRunning: number;
  itemsPending: number;
  childrenTotal: number;
  succeeded: number;
  failed: number;
  running: number;
  pending: number;
}

export interface ChildOutcome {
  name: string;
  status: ExecutionStatus;
  itemCount: number;
  output?: Json;
  error?: string;
  cause?: string;
  failedState?: string;
}

export type ProgressEvent =
  | { type: 'execution-started'; executionArn: string; root: boolean; redriveCount: number; startAt: string }
  | { type: 'state-entered'; executionArn: string; stateName: string }
  | {
      type: 'map-run-started';
      executionArn: string;
      stateName: string;
      mapRunArn: string;
      redriveCount: number;
      counts: MapRunCounts;
    }
  | {
      type: 'map-run-progress';
      executionArn: string;
      stateName: string;
      mapRunArn: string;
      counts: MapRunCounts;
      child: ChildOutcome;
    }
  | {
      type: 'map-run-finished';
      executionArn: string;
      stateName: string;
      mapRunArn: string;
      status: 'SUCCEEDED' | 'FAILED';
      counts: MapRunCounts;
    }
  | {
      type: 'execution-finished';
      executionArn: string;
      /** True for a user's execution, false for a Map Run child. */
      root: boolean;
      status: ExecutionStatus;
      error?: string;
      cause?: string;
    };

export type ProgressListener = (event: ProgressEvent) => void;
