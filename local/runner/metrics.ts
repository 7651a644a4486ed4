/** Counters of a local run: what Step Functions and Lambda would bill, and what went wrong. */
import type { InvocationRecord } from './lambda/lambda-task.ts';

export interface RunMetrics {
  /** State transitions, as Step Functions bills them: every state entered, every retry, every redrive. */
  transitions: number;
  /** Lambda invocations per Task state (retries and crashes included). */
  invocations: Record<string, number>;
  /** Failed invocations per error name (crashes appear as `Lambda.Unknown`). */
  invocationErrors: Record<string, number>;
  crashes: number;
  /** Invokes the function's reserved concurrency throttled, per Task state (nothing ran; not invocations). */
  throttles: Record<string, number>;
  /** The longest invocation per Task state, in ms (to compare with the function's timeout). */
  maxInvocationMs: Record<string, number>;
  mapRuns: number;
  childExecutions: number;
  redrives: number;
}

export function emptyMetrics(): RunMetrics {
  return {
    transitions: 0,
    invocations: {},
    invocationErrors: {},
    crashes: 0,
    throttles: {},
    maxInvocationMs: {},
    mapRuns: 0,
    childExecutions: 0,
    redrives: 0,
  };
}

export function recordInvocation(metrics: RunMetrics, record: InvocationRecord): void {
  metrics.invocations[record.stateName] = (metrics.invocations[record.stateName] ?? 0) + 1;
  if (record.errorName) {
    metrics.invocationErrors[record.errorName] = (metrics.invocationErrors[record.errorName] ?? 0) + 1;
  }
  if (record.outcome === 'crashed') metrics.crashes += 1;
  metrics.maxInvocationMs[record.stateName] = Math.max(
    metrics.maxInvocationMs[record.stateName] ?? 0,
    record.durationMs,
  );
}

export function totalInvocations(metrics: RunMetrics): number {
  return Object.values(metrics.invocations).reduce((sum, n) => sum + n, 0);
}
