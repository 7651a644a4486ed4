/**
 * Live progress for `watch`: a bar redrawn in place on a terminal, plain lines otherwise.
 *
 * Written by hand rather than with cli-progress so that the two modes share one snapshot type and
 * both are testable by writing to a fake stream: the TTY view redraws one line with `\r` and an
 * erase-line sequence, the plain view prints a line only when something other than the clock
 * changed (logs and CI output stay readable: one line per change, not per poll).
 */
import type { OutputStream } from '../kit/context.ts';
import { formatDuration, formatRate } from '../kit/format.ts';
import { workFraction, type RunProgress } from './run-progress.ts';

export interface ItemCounts {
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  aborted: number;
  total: number;
}

export interface ProgressSnapshot {
  /** What the workflow is doing: the state it is in, or its final status. */
  phase: string;
  /** Counts of the map run the phase is about (PlanSlices while planning, then BackfillImages). */
  map?: { label: string; items: ItemCounts };
  /** What the batches recorded: tags and images per destination, the batches' phase. */
  run?: RunProgress;
  /** Tags settled per second (with `run`), else map items per second. */
  ratePerSecond?: number;
  etaSeconds?: number;
}

export interface ProgressView {
  update(snapshot: ProgressSnapshot): void;
  /** A line that must stay on screen (a failure), printed above the bar. */
  note(line: string): void;
  /** Leaves the bar's last state on screen and moves to a fresh line. */
  finish(): void;
}

const ERASE_LINE = '\r\u001b[2K';

export function finishedItems(items: ItemCounts): number {
  return items.succeeded + items.failed + items.timedOut + items.aborted;
}

function unsuccessful(items: ItemCounts): number {
  return items.failed + items.timedOut + items.aborted;
}

const count = (n: number): string => n.toLocaleString('en-US');

/** `37% (waiting for replication) | 111111111111/ap-northeast-2 6/24 tags, 3/7 images | …` */
function runText(run: RunProgress, withPercent = true): string {
  const percent = `${Math.floor(workFraction(run) * 100)}%`;
  const head = withPercent ? percent : '';
  const parts = [run.phase ? `${head}${head ? ' ' : ''}(${run.phase})` : head].filter(Boolean);
  for (const d of run.destinations) {
    const images =
      d.plannedImages > 0 ? `, ${count(d.replicatedImages)}/${count(d.plannedImages)} images` : '';
    const failed = d.failedTags > 0 ? `, ${count(d.failedTags)} failed` : '';
    parts.push(`${d.destination} ${count(d.deliveredTags)}/${count(d.plannedTags)} tags${images}${failed}`);
  }
  const referrers = referrersText(run);
  if (referrers) parts.push(referrers);
  return parts.join(' | ');
}

/**
 * `referrers 3/6 (application/spdx+json 1/2, application/vnd.cncf.notary.signature 2/4, 1 failed)`:
 * copies delivered out of planned, per (referrer, destination), by artifact type.
 */
export function referrersText(run: RunProgress): string | undefined {
  const byType = Object.entries(run.referrers ?? {});
  if (byType.length === 0) return undefined;
  const delivered = byType.reduce((n, [, r]) => n + r.delivered, 0);
  const planned = byType.reduce((n, [, r]) => n + r.planned, 0);
  const failed = byType.reduce((n, [, r]) => n + r.failed, 0);
  const types = byType.map(([type, r]) => `${type} ${count(r.delivered)}/${count(r.planned)}`);
  if (failed > 0) types.push(`${count(failed)} failed`);
  return `referrers ${count(delivered)}/${count(planned)} (${types.join(', ')})`;
}

function countsText(snapshot: ProgressSnapshot): string {
  if (snapshot.run) return runText(snapshot.run);
  if (!snapshot.map) return '';
  const { items, label } = snapshot.map;
  const parts = [
    `${finishedItems(items).toLocaleString('en-US')}/${items.total.toLocaleString('en-US')} ${label} items`,
  ];
  parts.push(`ok ${items.succeeded.toLocaleString('en-US')}`);
  if (unsuccessful(items) > 0) parts.push(`failed ${unsuccessful(items).toLocaleString('en-US')}`);
  if (items.running > 0) parts.push(`running ${items.running.toLocaleString('en-US')}`);
  return parts.join(', ');
}

function timingText(snapshot: ProgressSnapshot): string {
  const parts: string[] = [];
  if (snapshot.ratePerSecond !== undefined && snapshot.ratePerSecond > 0) {
    parts.push(
      snapshot.run
        ? formatRate(snapshot.ratePerSecond).replace('/s', ' tags/s')
        : formatRate(snapshot.ratePerSecond),
    );
  }
  if (snapshot.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(snapshot.etaSeconds)}`);
  return parts.join(', ');
}

/** One plain line: `Backfilling: 450/1,000 BackfillImages items, ok 440, failed 10 (3.20/s, ETA 2m 51s)`. */
export function describeSnapshot(snapshot: ProgressSnapshot): string {
  const counts = countsText(snapshot);
  const timing = timingText(snapshot);
  return `${snapshot.phase}${counts ? `: ${counts}` : ''}${timing ? ` (${timing})` : ''}`;
}

/** What counts as a change for the plain view: everything but the clock-driven rate and ETA. */
function changeKey(snapshot: ProgressSnapshot): string {
  return `${snapshot.phase}|${countsText(snapshot)}`;
}

export function createPlainProgressView(stream: OutputStream): ProgressView {
  let lastKey: string | undefined;
  return {
    update(snapshot) {
      const key = changeKey(snapshot);
      if (key === lastKey) return;
      lastKey = key;
      stream.write(`${describeSnapshot(snapshot)}\n`);
    },
    note(line) {
      stream.write(`${line}\n`);
    },
    finish() {},
  };
}

function bar(fraction: number, width: number): string {
  const clamped = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(clamped * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

export function renderBarLine(snapshot: ProgressSnapshot, columns: number): string {
  const items = snapshot.map?.items;
  const fraction = snapshot.run
    ? workFraction(snapshot.run)
    : items && items.total > 0
      ? finishedItems(items) / items.total
      : 0;
  const percent = items || snapshot.run ? `${String(Math.floor(fraction * 100)).padStart(3)}%` : '';
  const counts = snapshot.run ? runText(snapshot.run, false) : countsText(snapshot);
  const detail = [counts, timingText(snapshot)].filter(Boolean).join(' | ');
  const head = `${snapshot.phase.padEnd(12)} `;
  if (!items && !snapshot.run) return `${head}${detail}`.slice(0, columns - 1);
  const barWidth = Math.max(10, Math.min(30, columns - head.length - percent.length - detail.length - 6));
  return `${head}[${bar(fraction, barWidth)}] ${percent} ${detail}`.slice(0, Math.max(20, columns - 1));
}

export function createTtyProgressView(stream: OutputStream): ProgressView {
  let current: string | undefined;
  const columns = (): number => (stream.columns && stream.columns > 20 ? stream.columns : 80);
  return {
    update(snapshot) {
      const line = renderBarLine(snapshot, columns());
      if (line === current) return;
      current = line;
      stream.write(`${ERASE_LINE}${line}`);
    },
    note(line) {
      stream.write(`${ERASE_LINE}${line}\n`);
      if (current !== undefined) stream.write(current);
    },
    finish() {
      if (current !== undefined) stream.write('\n');
      current = undefined;
    },
  };
}

export function createProgressView(stream: OutputStream): ProgressView {
  return stream.isTTY ? createTtyProgressView(stream) : createPlainProgressView(stream);
}
