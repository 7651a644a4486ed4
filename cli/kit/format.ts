/** Small text formatters shared by the commands: aligned tables, CSV, Markdown, durations, progress. */
import type { NativeBackfillProgress } from '../../core/contracts/contracts.ts';

export type Cell = string | number;

function cellText(cell: Cell): string {
  return typeof cell === 'number' ? cell.toLocaleString('en-US') : cell;
}

function isNumeric(cell: Cell): boolean {
  return typeof cell === 'number';
}

/** A plain-text table: columns padded to their widest cell, numbers right-aligned. */
export function renderTable(headers: string[], rows: Cell[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => cellText(row[column] ?? '').length)),
  );
  const line = (cells: Cell[], header: boolean): string =>
    widths
      .map((width, column) => {
        const cell = cells[column] ?? '';
        const text = cellText(cell);
        return !header && isNumeric(cell) ? text.padStart(width) : text.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(headers, true), rule, ...rows.map((row) => line(row, false))].join('\n') + '\n';
}

function escapeMarkdown(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function renderMarkdownTable(headers: string[], rows: Cell[][]): string {
  const align = headers.map((_, column) =>
    rows.some((row) => isNumeric(row[column] ?? '')) ? '---:' : '---',
  );
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return (
    [
      line(headers.map(escapeMarkdown)),
      line(align),
      ...rows.map((row) => line(headers.map((_, column) => escapeMarkdown(cellText(row[column] ?? ''))))),
    ].join('\n') + '\n'
  );
}

/** `3h 05m`, `4m 10s`, `12s`: the two most significant units. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const total = Math.round(seconds);
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const secs = total % 60;
  if (days > 0) return `${days}d ${String(hours).padStart(2, '0')}h`;
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m ${String(secs).padStart(2, '0')}s`;
  return `${secs}s`;
}

export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '-';
  return perSecond >= 10 ? `${perSecond.toFixed(0)}/s` : `${perSecond.toFixed(2)}/s`;
}

export function formatUsd(amount: number): string {
  return amount < 0.01 && amount > 0 ? '< $0.01' : `$${amount.toFixed(2)}`;
}

/** `completed/total done, failed n`: each image and tag combination counts as one replication. */
export function nativeProgressText(progress: NativeBackfillProgress | undefined): string {
  if (!progress) return '-';
  const done = `${progress.completed.toLocaleString('en-US')}/${progress.total.toLocaleString('en-US')} done`;
  return progress.failed > 0 ? `${done}, ${progress.failed.toLocaleString('en-US')} failed` : done;
}
