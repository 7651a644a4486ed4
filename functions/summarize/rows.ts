/**
 * Report rows: one per (repository, digest, tag, destination) with its outcome, and one per (referrer,
 * destination) for the referrers the plan found missing there (ReportRow.referrerOf), from the batch
 * results of succeeded children, the item results a failed child carried in its error cause, or —
 * when a child failed without results — the items of its input.
 */
import {
  BatchResultSchema,
  ItemResultSchema,
  WorkItemSchema,
  type ItemResult,
  type ReportRow,
  type WorkItem,
} from '../../core/contracts/contracts.ts';
import { hasFailure, REFERRER_LABEL_PREFIX, referrerLabel } from '../../core/batch/batch-results.ts';
import { parseEmbeddedJson, type ChildExecutionRecord } from './map-results.ts';

/** The child failed before it could report per-item results (e.g. retries exhausted). */
export const BATCH_FAILED = 'BATCH_FAILED';
/** The child never ran (map failed or was stopped first); a redrive runs it. */
export const NOT_STARTED = 'NOT_STARTED';
/** Dry run: what the backfill would do. */
export const PLANNED = 'PLANNED';

/** One work item: its image, and its part when the image's tags were split over several items. */
export const itemKey = (repositoryName: string, imageDigest: string, part?: number): string =>
  `${repositoryName}@${imageDigest}${part === undefined ? '' : `#${part}`}`;

export interface ItemRows {
  key: string;
  rows: ReportRow[];
  failed: boolean;
}

export function rowsOfItemResult(result: ItemResult): ItemRows {
  const rows: ReportRow[] = [];
  for (const destination of result.destinations) {
    const base = {
      repositoryName: result.repositoryName,
      imageDigest: result.imageDigest,
      destinationRegion: destination.region,
      destinationRegistryId: destination.registryId,
    };
    for (const [tag, outcome] of Object.entries(destination.tags)) {
      const details = [
        tag === result.tempTag ? 'marker tag of an untagged image' : undefined,
        outcome === 'REPLICATION_FAILED' && destination.failureCode
          ? `failure code ${destination.failureCode}`
          : undefined,
        result.note,
      ].filter((d): d is string => d !== undefined && d !== '');
      rows.push({ ...base, tag, outcome, ...(details.length > 0 && { detail: details.join('; ') }) });
    }
    for (const [digest, outcome] of Object.entries(destination.referrers ?? {})) {
      rows.push(referrerRow(base, digest, result.referrerTypes?.[digest], outcome));
    }
  }
  return {
    key: itemKey(result.repositoryName, result.imageDigest, result.part),
    rows,
    failed: hasFailure(result),
  };
}

/** A referrer's row: its digest in the digest column, no tag, the image it follows in `referrerOf`. */
function referrerRow(
  base: Omit<ReportRow, 'tag' | 'outcome'>,
  digest: string,
  artifactType: string | undefined,
  outcome: string,
  detail?: string,
): ReportRow {
  return {
    ...base,
    imageDigest: digest,
    tag: '',
    outcome,
    ...(detail !== undefined && { detail }),
    referrerOf: base.imageDigest,
    ...(artifactType !== undefined && { artifactType }),
  };
}

/** Rows for the items of a batch whose results are unknown (failed child, never-started child, dry run). */
export function rowsOfWorkItem(item: WorkItem, outcome: string, detail?: string): ItemRows {
  const rows: ReportRow[] = [];
  const artifactTypes = new Map((item.referrers ?? []).map((r) => [r.digest, r.artifactType]));
  for (const destination of item.destinations) {
    const base = {
      repositoryName: item.repositoryName,
      imageDigest: item.imageDigest,
      destinationRegion: destination.region,
      destinationRegistryId: destination.registryId,
    };
    const referrers = destination.referrers ?? [];
    // A destination planned for its referrers only has no tag row.
    const tags = destination.tags.length > 0 || referrers.length > 0 ? destination.tags : [''];
    for (const tag of tags) {
      rows.push({ ...base, tag, outcome, ...(detail !== undefined && { detail }) });
    }
    for (const digest of referrers) {
      rows.push(referrerRow(base, digest, artifactTypes.get(digest), outcome, detail));
    }
  }
  return {
    key: itemKey(item.repositoryName, item.imageDigest, item.part),
    rows,
    failed: outcome !== PLANNED,
  };
}

/** A succeeded child's Output: a BatchResult (as a string in the NONE shape). */
export function itemResultsOfSucceeded(record: ChildExecutionRecord): ItemResult[] {
  const output = 'Output' in record || 'Input' in record ? parseEmbeddedJson(record.Output) : record;
  const parsed = BatchResultSchema.safeParse(output);
  return parsed.success ? parsed.data.results : [];
}

/**
 * What FinishBatch's `ItemsFailed` message carries (functions/finish-batch): `{runId, failed,
 * results}` where `failed` lists each failed (item, destination, tag) and `results` every item's
 * result — or, when that would not fit in a cause, `resultsOmitted: true` and only `failed`.
 */
interface FailedTagLike {
  repositoryName: string;
  imageDigest: string;
  /** `<registryId>/<region>` */
  destination: string;
  tag: string;
  outcome: string;
  failureCode?: string;
}

interface CauseContent {
  results: ItemResult[];
  failed: FailedTagLike[];
  /** The cause was structured (a FinishBatch message), so no free-text detail is needed. */
  structured: boolean;
}

/**
 * A failed child. Step Functions hands the Lambda error on as the cause
 * `{"errorType","errorMessage","trace"}`. Rows come from the item results in the message when
 * present; otherwise from the batch's input items, with the failed tags the message lists (or
 * `outcomeWithoutResults` and the error as detail for what it does not say).
 */
export function rowsOfFailedRecord(record: ChildExecutionRecord, outcomeWithoutResults: string): ItemRows[] {
  const content = causeContent(record.Cause);
  const reported = content.results.map(rowsOfItemResult);
  const known = new Set(reported.map((r) => r.key));
  const detail = content.structured ? record.Error : failureDetail(record);
  // Items of the batch the results do not cover (all of them when there are none).
  const rest = itemsOfInput(record.Input)
    .filter((item) => !known.has(itemKey(item.repositoryName, item.imageDigest, item.part)))
    .map((item) => rowsWithFailedTags(item, content.failed, outcomeWithoutResults, detail));
  return [...reported, ...rest];
}

function rowsWithFailedTags(
  item: WorkItem,
  failed: readonly FailedTagLike[],
  outcome: string,
  detail: string | undefined,
): ItemRows {
  const mine = failed.filter(
    (f) => f.repositoryName === item.repositoryName && f.imageDigest === item.imageDigest,
  );
  const base = rowsOfWorkItem(item, outcome, detail);
  if (mine.length === 0) return base;
  const rows = base.rows.map((row) => {
    const destination = `${row.destinationRegistryId}/${row.destinationRegion}`;
    const here = mine.filter((f) => f.destination === destination);
    const referrer = row.referrerOf !== undefined;
    // An untagged item's only tag is its marker (the temp tag), which the input does not name; a
    // referrer is named by its label (FinishBatch's failed list).
    const entry = referrer
      ? here.find((f) => f.tag === referrerLabel(row.imageDigest))
      : (here.find((f) => f.tag === row.tag) ??
        (row.tag === '' ? here.find((f) => !f.tag.startsWith(REFERRER_LABEL_PREFIX)) : undefined));
    if (entry === undefined) return row;
    const { detail: _previous, ...rest } = row;
    return {
      ...rest,
      tag: referrer ? '' : entry.tag,
      outcome: entry.outcome,
      ...(entry.failureCode !== undefined && { detail: `failure code ${entry.failureCode}` }),
    };
  });
  return { ...base, rows };
}

function itemsOfInput(input: unknown): WorkItem[] {
  const parsed = parseEmbeddedJson(input) as { Items?: unknown } | undefined;
  const items = Array.isArray(parsed?.Items) ? parsed.Items : [];
  return items.flatMap((item) => {
    const ok = WorkItemSchema.safeParse(item);
    return ok.success ? [ok.data] : [];
  });
}

export function failureDetail(record: ChildExecutionRecord): string | undefined {
  const message = causeMessage(record.Cause);
  // FAILED files also hold aborted and timed-out children (ResultWriter docs): say which it was.
  const status =
    record.Status !== undefined && record.Status !== 'FAILED' ? `child ${record.Status}` : undefined;
  const text = [status, record.Error, message].filter((p) => p !== undefined && p !== '').join(': ');
  if (text === '') return undefined;
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

function causeMessage(cause: string | undefined): string | undefined {
  if (cause === undefined) return undefined;
  const parsed = parseEmbeddedJson(cause) as { errorMessage?: unknown } | undefined;
  if (parsed && typeof parsed === 'object' && typeof parsed.errorMessage === 'string')
    return parsed.errorMessage;
  return cause;
}

/** Item results and failed tags inside a cause: its message is JSON (or embeds a JSON object). */
export function causeContent(cause: string | undefined): CauseContent {
  const message = causeMessage(cause);
  const empty: CauseContent = { results: [], failed: [], structured: false };
  if (message === undefined) return empty;
  for (const candidate of jsonCandidates(message)) {
    const results = asItemResults(candidate);
    const failed = asFailedTags(candidate);
    if (results.length > 0 || failed.length > 0) return { results, failed, structured: true };
  }
  return empty;
}

function* jsonCandidates(text: string): Generator<unknown> {
  const whole = parseEmbeddedJson(text);
  if (whole !== text) yield whole;
  for (const opener of ['{', '[']) {
    const start = text.indexOf(opener);
    if (start > 0) {
      const parsed = parseEmbeddedJson(text.slice(start));
      if (typeof parsed !== 'string') yield parsed;
    }
  }
}

function listIn(value: unknown, key: string): unknown[] {
  if (Array.isArray(value)) return key === 'results' ? value : [];
  if (value && typeof value === 'object') {
    const list = (value as Record<string, unknown>)[key];
    if (Array.isArray(list)) return list;
  }
  return [];
}

function asItemResults(value: unknown): ItemResult[] {
  return listIn(value, 'results').flatMap((entry) => {
    const ok = ItemResultSchema.safeParse(entry);
    return ok.success ? [ok.data] : [];
  });
}

function asFailedTags(value: unknown): FailedTagLike[] {
  return listIn(value, 'failed').filter((entry): entry is FailedTagLike => {
    if (!entry || typeof entry !== 'object') return false;
    const e = entry as Record<string, unknown>;
    return ['repositoryName', 'imageDigest', 'destination', 'tag', 'outcome'].every(
      (k) => typeof e[k] === 'string',
    );
  });
}
