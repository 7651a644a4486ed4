/**
 * What `watch` shows of the native engine while its NativeBackfills map runs: per destination, the
 * backfill's status and ECR's progress counts, read from the run's records in the run bucket
 * (`runs/<runId>/native/backfills/`) and ECR (core/native/native-progress.ts).
 *
 * The run bucket and prefix are not in the execution's input (the bucket is the stack's, the run id
 * is Plan's): they are in Plan's and FinalizePlan's outputs, found once in the execution's history.
 */
import { GetExecutionHistoryCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import type { NativeBackfillView } from '../../core/native/native-progress.ts';
import { STATE_NAMES, type StateName } from '../../core/steps.ts';
import { nativeProgressText } from '../kit/format.ts';

export interface RunLocation {
  bucket: string;
  runPrefix: string;
}

const RunLocationSchema = z.object({ bucket: z.string().min(1), runPrefix: z.string().min(1) });

/** States whose output is the run context (RunContext, PlannedRun): both carry bucket and runPrefix. */
const RUN_CONTEXT_STATES: ReadonlySet<string> = new Set<StateName>([
  STATE_NAMES.FinalizePlan,
  STATE_NAMES.Plan,
]);

/**
 * Pages of history read looking for the run context. Newest first, FinalizePlan's exit is a few
 * events behind the NativeBackfills map's start; the cap keeps a long (redriven) history from
 * costing more than a handful of calls.
 */
const MAX_HISTORY_PAGES = 3;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The run's bucket and prefix from the execution history, or undefined when not found. */
export async function runLocationOf(sfn: SFNClient, executionArn: string): Promise<RunLocation | undefined> {
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
    const history = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        reverseOrder: true,
        includeExecutionData: true,
        maxResults: 200,
        nextToken,
      }),
    );
    for (const event of history.events ?? []) {
      const exited = event.stateExitedEventDetails;
      if (!exited?.output || !RUN_CONTEXT_STATES.has(exited.name ?? '')) continue;
      const parsed = RunLocationSchema.safeParse(parseJson(exited.output));
      if (parsed.success) return parsed.data;
    }
    nextToken = history.nextToken;
    if (!nextToken) return undefined;
  }
  return undefined;
}

/** `IN_PROGRESS, 40/100 done, 2 failed` — `QUEUED since 12:00:00Z` — `NOT_STARTED: <why>`. */
export function describeNativeView(view: NativeBackfillView): string {
  const parts: string[] = [view.status];
  if (view.failureCode) parts[0] = `${view.status} (${view.failureCode})`;
  if (view.adopted) parts.push('adopted');
  if (view.progress) parts.push(nativeProgressText(view.progress));
  else if (view.status === 'PREPARING') parts.push('no counts yet');
  if (view.queuedSince !== undefined) {
    parts.push(`waiting for the destination Region since ${new Date(view.queuedSince).toISOString()}`);
  }
  if (view.stopReason) parts.push(`stopped: ${view.stopReason}`);
  if (view.note) parts.push(view.note);
  return parts.join(', ');
}
