/**
 * A run report in the formats `ecr-backfill report` offers: a terminal table, Markdown (for a ticket
 * or a pull request), CSV (the report.csv columns) and JSON (report.json as is).
 */
import {
  FAILURE_OUTCOMES,
  isReferrerRow,
  type NativeRun,
  type PlanSummary,
  type ReportRow,
  type RunReport,
  type RunReportSummary,
} from '../../core/contracts/contracts.ts';
import { BATCH_FAILED, NOT_STARTED } from '../../functions/summarize/rows.ts';
import { CSV_COLUMNS, csvLine, csvRow } from '../../functions/summarize/report-writer.ts';
import { nativeProgressText, renderMarkdownTable, renderTable, type Cell } from '../kit/format.ts';

export const REPORT_FORMATS = ['table', 'md', 'csv', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Outcomes that mean "not done": a redrive (or a new start) would work on them again. */
export const UNDONE_OUTCOMES: ReadonlySet<string> = new Set<string>([
  ...FAILURE_OUTCOMES,
  BATCH_FAILED,
  NOT_STARTED,
  'RESULT_UNREADABLE',
]);

export function failedRows(report: RunReport): ReportRow[] {
  return report.rows.filter((row) => UNDONE_OUTCOMES.has(row.outcome));
}

/**
 * Which engine ran the backfill and why, as the plan decided (summary.plan.engine). A report written
 * before the engines existed has none, and prints without it.
 */
export function engineOf(report: RunReport): PlanSummary['engine'] | undefined {
  return report.summary.plan.engine;
}

/** The native engine's per-destination summary, when the native engine ran (summary.native). */
export function nativeOf(report: RunReport): NativeRun | undefined {
  return report.summary.native;
}

export function engineLine(engine: PlanSummary['engine']): string {
  return `Engine: ${engine.method} (${engine.reason})`;
}

function nativeTable(native: NativeRun): { headers: string[]; rows: Cell[][] } {
  return {
    headers: ['Destination', 'Backfill', 'Status', 'Progress', 'Verified', 'Repaired', 'Note'],
    rows: [...native.destinations]
      .sort((a, b) => `${a.registryId}/${a.region}`.localeCompare(`${b.registryId}/${b.region}`))
      .map((d) => [
        `${d.registryId}/${d.region}`,
        d.backfillId ? `${d.backfillId}${d.adopted ? ' (adopted)' : ''}` : '-',
        d.failureCode ? `${d.status} (${d.failureCode})` : d.status,
        nativeProgressText(d.progress),
        d.verified,
        d.repair,
        d.note ?? '',
      ]),
  };
}

function outcomeRows(report: RunReport): Cell[][] {
  return Object.entries(report.summary.counts)
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([outcome, count]) => [outcome, count]);
}

/**
 * Referrers (signatures, SBOMs, attestations) per artifact type and outcome, counted per (referrer,
 * destination) as summary.referrers holds them: one line per artifact type, one column per outcome.
 */
export function referrerTable(
  byType: RunReportSummary['referrers'],
): { headers: string[]; rows: Cell[][] } | undefined {
  if (!byType || Object.keys(byType).length === 0) return undefined;
  const outcomes = [...new Set(Object.values(byType).flatMap((counts) => Object.keys(counts)))].sort();
  return {
    headers: ['Artifact type', ...outcomes],
    rows: Object.entries(byType)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, counts]) => [type, ...outcomes.map((outcome) => counts[outcome] ?? 0)]),
  };
}

/**
 * Tag rows per destination and outcome, as a pivot: one line per destination, one column per outcome
 * (referrers have their own table).
 */
function destinationPivot(report: RunReport): { headers: string[]; rows: Cell[][] } {
  const tagRows = report.rows.filter((row) => !isReferrerRow(row));
  const outcomes = [...new Set(tagRows.map((row) => row.outcome))].sort();
  const byDestination = new Map<string, Map<string, number>>();
  for (const row of tagRows) {
    const key = `${row.destinationRegistryId}/${row.destinationRegion}`;
    const counts = byDestination.get(key) ?? new Map<string, number>();
    counts.set(row.outcome, (counts.get(row.outcome) ?? 0) + 1);
    byDestination.set(key, counts);
  }
  return {
    headers: ['Destination', ...outcomes],
    rows: [...byDestination.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([destination, counts]) => [destination, ...outcomes.map((outcome) => counts.get(outcome) ?? 0)]),
  };
}

function failedTable(rows: ReportRow[]): { headers: string[]; rows: Cell[][] } {
  return {
    headers: ['Repository', 'Digest', 'Tag', 'Destination', 'Outcome', 'Reason'],
    rows: rows.map((row) => [
      row.repositoryName,
      row.imageDigest.slice(0, 19),
      // A referrer has no tag: say what it is and which image it follows.
      isReferrerRow(row)
        ? `(referrer${row.artifactType ? ` ${row.artifactType}` : ''} of ${row.referrerOf!.slice(0, 19)})`
        : row.tag,
      `${row.destinationRegistryId}/${row.destinationRegion}`,
      row.outcome,
      row.detail ?? '',
    ]),
  };
}

function headline(report: RunReport): string {
  const { summary } = report;
  return `Run ${summary.runId}: ${summary.status} — ${summary.items.toLocaleString('en-US')} items, ${summary.failedItems.toLocaleString('en-US')} failed`;
}

export function renderReport(
  report: RunReport,
  format: ReportFormat,
  options: {
    /** Where the full report is: its s3:// URL, or the file a local run kept (its bucket is gone). */
    location: string;
    maxFailed: number;
  },
): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  if (format === 'csv') return [csvLine(CSV_COLUMNS), ...report.rows.map(csvRow)].join('');

  const failed = failedRows(report);
  const shown = failed.slice(0, options.maxFailed);
  const more = failed.length - shown.length;
  const where = options.location;
  const pivot = destinationPivot(report);
  const failures = failedTable(shown);
  const engine = engineOf(report);
  const native = nativeOf(report);
  const natives = native ? nativeTable(native) : undefined;
  const referrers = referrerTable(report.summary.referrers);

  if (format === 'md') {
    const parts = [
      `# ecr-backfill report: ${report.summary.runId}`,
      '',
      `${headline(report)}. Full report: \`${where}\` (and report.csv).`,
      '',
      ...(engine ? [`${engineLine(engine)}.`, ''] : []),
      '## Outcomes',
      '',
      renderMarkdownTable(['Outcome', 'Count'], outcomeRows(report)),
    ];
    if (natives) parts.push('## Native backfills', '', renderMarkdownTable(natives.headers, natives.rows));
    if (pivot.rows.length > 0)
      parts.push('## Per destination', '', renderMarkdownTable(pivot.headers, pivot.rows));
    if (referrers)
      parts.push(
        '## Referrers',
        '',
        'Signatures, SBOMs and attestations, per (referrer, destination):',
        '',
        renderMarkdownTable(referrers.headers, referrers.rows),
      );
    if (failed.length > 0) {
      parts.push(`## Not done (${failed.length})`, '', renderMarkdownTable(failures.headers, failures.rows));
      if (more > 0) parts.push(`…and ${more} more in the full report.`, '');
    }
    return `${parts.join('\n').trimEnd()}\n`;
  }

  const parts = [
    headline(report),
    `Report: ${where} (report.csv next to it)`,
    ...(engine ? [engineLine(engine)] : []),
    '',
    renderTable(['Outcome', 'Count'], outcomeRows(report)),
  ];
  if (natives)
    parts.push(
      'Native backfills (progress counts image × tag replications, as ECR reports them):',
      renderTable(natives.headers, natives.rows),
    );
  if (pivot.rows.length > 0)
    parts.push('Per destination (rows: tag × destination):', renderTable(pivot.headers, pivot.rows));
  if (referrers)
    parts.push(
      'Referrers (signatures, SBOMs, attestations; rows: referrer × destination):',
      renderTable(referrers.headers, referrers.rows),
    );
  if (failed.length > 0) {
    parts.push(`Not done (${failed.length}):`, renderTable(failures.headers, failures.rows));
    if (more > 0) parts.push(`…and ${more} more: --format csv lists every row.\n`);
  } else {
    parts.push('Every planned tag is done.\n');
  }
  return parts.join('\n');
}
