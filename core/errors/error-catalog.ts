/**
 * Every error an execution (or one of its batches) can end with, in ONE table: what it means, what
 * to do, and whether a redrive can fix it. The CLI's failure paragraphs, the redrive refusals and
 * the README's troubleshooting table all come from here (a test checks the README against it).
 *
 * Names: the steps' own (ERROR_NAMES, NATIVE_ERROR_NAMES) and the ones Step Functions and Lambda
 * raise themselves.
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html
 */
import { ERROR_NAMES } from './error-names.ts';
import { NATIVE_ERROR_NAMES } from './native-errors.ts';

/**
 * How a redrive relates to the error:
 * - `redrive`: retry budget exhausted on something passing (throttling, 5xx, a crash): redrive as is.
 * - `fix-then-redrive`: fix the cause named in the remedy, then redrive; only what failed runs again.
 * - `start-new`: a redrive re-runs the failed step with the same input and the same world, so it
 *   cannot succeed (or, after a fix, does nothing a new execution would not): refuse it and say what
 *   to fix. Nothing was written.
 */
export type RedriveAdvice = 'redrive' | 'fix-then-redrive' | 'start-new';

export interface ErrorCatalogEntry {
  /** The error names the row is about (the README shows them in one cell). */
  names: readonly string[];
  /** Set when the README qualifies the name (e.g. "after retries"). */
  qualifier?: string;
  meaning: string;
  remedy: string;
  redrive: RedriveAdvice;
  /**
   * States in which the error means a configuration problem, so a redrive cannot help (the entry's
   * `redrive` applies everywhere else). AccessDenied in Plan is the registry's replication
   * configuration being unreadable: fix IAM and start again, nothing was written.
   */
  startNewWhenFailedIn?: readonly string[];
}

export const ERROR_CATALOG: readonly ErrorCatalogEntry[] = [
  {
    names: [ERROR_NAMES.InvalidInput],
    meaning:
      "The input failed validation, or is outside the deployment's run policy; the cause lists every problem",
    remedy:
      "Fix the input (see docs/input.md), or widen the construct's run policy, and start a new execution; nothing was written",
    redrive: 'start-new',
  },
  {
    names: [ERROR_NAMES.NotCovered],
    meaning: 'The source registry has no replication rule that covers the selection',
    remedy:
      'Configure replication (or the `replication` prop), check the source Region (`--region`), or change the selection; then start a new execution',
    redrive: 'start-new',
  },
  {
    names: [ERROR_NAMES.NothingMatched],
    meaning:
      'A `repositories` or `tags` filter matched nothing in the source registry (the cause names it and what exists nearby)',
    remedy:
      'Fix the filter (`ecr-backfill plan` shows what it selects) and start a new execution; nothing was backfilled',
    redrive: 'start-new',
  },
  {
    names: [ERROR_NAMES.AccessDenied],
    meaning: 'ECR or STS refused a call',
    remedy:
      'Fix IAM (cross-account role, registry policy), then redrive; in Plan (reading the replication configuration) start a new execution instead',
    redrive: 'fix-then-redrive',
    startNewWhenFailedIn: ['Plan'],
  },
  {
    names: [ERROR_NAMES.DeleteReplicationUnsafe],
    meaning:
      '`retag-source` under a rule that replicates deletes (its source deletes would replay in destinations)',
    remedy:
      'Use `strategy: promote`, or select repositories no such rule covers, and start a new execution; nothing was written',
    redrive: 'start-new',
  },
  {
    names: [ERROR_NAMES.ReplicationNotPermitted],
    meaning:
      "A cross-account destination's registry permissions policy is missing or does not allow the source account `ecr:ReplicateImage`",
    remedy:
      "Add a statement to the destination registry's policy allowing the source account `ecr:ReplicateImage` (and `ecr:CreateRepository` if repositories are missing), then start a new execution; nothing was written",
    redrive: 'start-new',
  },
  {
    names: [ERROR_NAMES.DestinationAccountNotGranted],
    meaning:
      'A destination in another account, selected or reached by the pushes without being selected, has no role, and the deployment does not reach that account directly (`directAccounts`)',
    remedy:
      "Name a role of that account in the destination's `roleArn` or, for a destination you do not select, deploy with `destinationRoleArns` naming a role of that account; or deploy with `directAccounts` naming the account and give its registry policy the statement the error shows; then start a new execution; nothing was written",
    redrive: 'start-new',
  },
  {
    names: [ERROR_NAMES.RunNameReused],
    meaning:
      'An earlier execution of the same name (reusable after 90 days) owns the run folder; the cause gives its start time',
    remedy:
      "Start a new execution under a name not used before; the earlier run's folder and report stay as they were, nothing was written",
    redrive: 'start-new',
  },
  {
    names: [ERROR_NAMES.Throttled],
    qualifier: 'after retries',
    meaning: 'ECR throttled beyond the retry budget',
    remedy: 'Redrive; lower `maxConcurrency` or raise the PutImage quota',
    redrive: 'redrive',
  },
  {
    names: [ERROR_NAMES.Transient],
    qualifier: 'after retries',
    meaning: '5xx or network errors beyond the retry budget',
    remedy: 'Redrive',
    redrive: 'redrive',
  },
  {
    names: [NATIVE_ERROR_NAMES.BackfillQueued, NATIVE_ERROR_NAMES.BackfillPending],
    qualifier: 'after retries',
    meaning: 'A native backfill waited for its turn, or ran, beyond the poll’s static bound',
    remedy: 'Check the backfill in the ECR console; redrive (verification re-pushes what it missed)',
    redrive: 'redrive',
  },
  {
    names: [ERROR_NAMES.WorkRemaining],
    qualifier: 'after retries',
    meaning:
      'A batch step used its time budget more times than its continuation bound allows (a batch with very many tags per image × destinations at its PutImage share)',
    remedy:
      'Redrive (it continues where it stopped); lower `batchSize` or raise `putImageRatePerSecond` with the quota',
    redrive: 'redrive',
  },
  {
    names: [ERROR_NAMES.ReplicationPending],
    qualifier: 'after retries',
    meaning: 'Replication never finished within the poll’s static bound',
    remedy: 'Check replication in the console; redrive',
    redrive: 'redrive',
  },
  {
    names: [ERROR_NAMES.ItemsFailed],
    meaning: 'A batch finished with items it could not do; the cause lists them',
    remedy: 'See the outcomes below; fix the cause, redrive (or start a new run)',
    redrive: 'fix-then-redrive',
  },
  {
    names: ['Lambda.Unknown', 'Sandbox.Timedout'],
    meaning: 'A function crashed or timed out three times in a row',
    remedy: 'Lower `batchSize`; redrive',
    redrive: 'redrive',
  },
  {
    names: ['Lambda.TooManyRequestsException'],
    qualifier: 'after retries',
    meaning: 'Lambda throttled the invocations (account or function concurrency)',
    remedy: 'Lower `maxConcurrency` or raise the Lambda concurrency quota; redrive',
    redrive: 'redrive',
  },
  {
    names: ['States.ExceedToleratedFailureThreshold'],
    meaning: 'More failed batches than `toleratedFailurePercentage` allows',
    remedy: 'Read the report’s failed items (`ecr-backfill report`); redrive',
    redrive: 'fix-then-redrive',
  },
  {
    names: ['States.ItemReaderFailed', 'States.ResultWriterFailed'],
    meaning: 'The map could not read its items from, or write its results to, the run bucket',
    remedy: 'Check the run bucket (it must still exist, with its policy); redrive',
    redrive: 'fix-then-redrive',
  },
  {
    names: ['States.Timeout'],
    meaning: 'A state ran past its timeout',
    remedy: 'Redrive: it resumes from the failed step',
    redrive: 'redrive',
  },
];

/** The catalog entry for an error name, if the workflow knows it. */
export function catalogEntry(errorName: string | undefined): ErrorCatalogEntry | undefined {
  if (!errorName) return undefined;
  return ERROR_CATALOG.find((entry) => entry.names.includes(errorName));
}

export interface RedriveVerdict {
  redrivable: boolean;
  entry?: ErrorCatalogEntry;
  /** Why a redrive cannot help (only when not redrivable). */
  reason?: string;
}

/**
 * Whether redriving an execution that ended with `error` in `failedState` can help. Unknown errors
 * are redrivable: Step Functions decides, and re-running only what failed costs little.
 */
export function redriveVerdict(failure: {
  error?: string | undefined;
  failedState?: string | undefined;
}): RedriveVerdict {
  const entry = catalogEntry(failure.error);
  if (!entry) return { redrivable: true };
  const inConfiguration =
    failure.failedState !== undefined && (entry.startNewWhenFailedIn ?? []).includes(failure.failedState);
  if (entry.redrive !== 'start-new' && !inConfiguration) return { redrivable: true, entry };
  const where = failure.failedState ? ` in ${failure.failedState}` : '';
  return {
    redrivable: false,
    entry,
    reason:
      `${failure.error ?? 'The error'}${where} is a problem with the input or the configuration: a redrive runs ` +
      'the same step again with the same input, so it would fail the same way. Nothing was written.',
  };
}

/** The README's troubleshooting table, rendered from the catalog (Markdown). */
export function renderTroubleshootingTable(): string {
  const rows = ERROR_CATALOG.map((entry) => [
    `${entry.names.map((name) => `\`${name}\``).join(', ')}${entry.qualifier ? ` (${entry.qualifier})` : ''}`,
    entry.meaning,
    entry.remedy,
  ]);
  const header = ['Error (execution or batch)', 'What it means', 'What to do'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [
    line(header),
    `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`,
    ...rows.map(line),
    '',
  ].join('\n');
}
