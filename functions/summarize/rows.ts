/**
 * Report rows: one per (repository, digest, tag, destination) with its outcome, from the batch
 * results of succeeded children, the item results a failed child carried in its error cause, or —
 * when a child failed without results — the items of its input.
 */
import {
  BatchResultSchema,
  FAILURE_OUTCOMES,
  ItemResultSchema,
  WorkItemSchema,
  type ItemResult,
  type ReportRow,
  type WorkItem,
} from '../shared/contracts.ts';
import { parseEmbeddedJson, type ChildExecutionRecord } from './map-results.ts';

/** The child failed before it could report per-item results (e.g. retries exhausted). */
export const BATCH_FAILED = 'BATCH_FAILED';
/** The child never ran (map failed or was stopped first); a redrive runs it. */
export const NOT_STARTED = 'NOT_STARTED';
/** Dry run: what the backfill would do. */
export const PLANNED = 'PLANNED';

export const itemKey = (repositoryName: string, imageDigest: string): string =>
  `${repositoryName}@${imageDigest}`;

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
  }
  const failed = result.destinations.some((d) =>
    Object.values(d.tags).some((outcome) => FAILURE_OUTCOMES.has(outcome)),
  );
  return { key: itemKey(result.repositoryName, result.imageDigest), rows, failed };
}

/** Rows for the items of a batch whose results are unknown (failed child, never-started child, dry run). */
export function rowsOfWorkItem(item: WorkItem, outcome: string, detail?: string): ItemRows {
  const rows: ReportRow[] = [];
  for (const destination of item.destinations) {
    const tags = destination.tags.length > 0 ? destination.tags : [''];
    for (const tag of tags) {
      rows.push({
        repositoryName: item.repositoryName,
        imageDigest: item.imageDigest,
        tag,
        destinationRegion: destination.region,
        destinationRegistryId: destination.registryId,
        outcome,
        ...(detail !== undefined && { detail }),
      });
    }
  }
  return { key: itemKey(item.repositoryName, item.imageDigest), rows, failed: outcome !== PLANNED };
}

/** A succeeded child's Output: a BatchResult (as a string in the NONE shape). */
export function itemResultsOfSucceeded(record: ChildExecutionRecord): ItemResult[] {
  const output = 'Output' in record || 'Input' in record ? parseEmbeddedJson(record.Output) : record;
  const parsed = BatchResultSchema.safeParse(output);
  return parsed.success ? parsed.data.results : [];
}

/**
 * A failed child: FinishBatch throws `ItemsFailed` with the item results in its message, and Step
 * Functions hands the Lambda error on as the cause `{"errorType","errorMessage","trace"}`. The
 * results are taken from wherever they can be found; otherwise the batch's input items are reported
 * with the error.
 */
export function rowsOfFailedRecord(record: ChildExecutionRecord, outcomeWithoutResults: string): ItemRows[] {
  const reported = itemResultsInCause(record.Cause).map(rowsOfItemResult);
  const known = new Set(reported.map((r) => r.key));
  const detail = failureDetail(record);
  // Items of the batch the cause does not report on (all of them when it reports none).
  const rest = itemsOfInput(record.Input)
    .filter((item) => !known.has(itemKey(item.repositoryName, item.imageDigest)))
    .map((item) => rowsOfWorkItem(item, outcomeWithoutResults, detail));
  return [...reported, ...rest];
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
  const text = [record.Error, message].filter((p) => p !== undefined && p !== '').join(': ');
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

/** Item results inside a cause: the whole message, or the first JSON object/array embedded in it. */
export function itemResultsInCause(cause: string | undefined): ItemResult[] {
  const message = causeMessage(cause);
  if (message === undefined) return [];
  for (const candidate of jsonCandidates(message)) {
    const results = asItemResults(candidate);
    if (results.length > 0) return results;
  }
  return [];
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

function asItemResults(value: unknown): ItemResult[] {
  const list: unknown[] = Array.isArray(value)
    ? value
    : value && typeof value === 'object' && Array.isArray((value as { results?: unknown }).results)
      ? (value as { results: unknown[] }).results
      : [];
  return list.flatMap((entry) => {
    const ok = ItemResultSchema.safeParse(entry);
    return ok.success ? [ok.data] : [];
  });
}
