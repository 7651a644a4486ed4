/**
 * Reading a Distributed Map's ResultWriter output.
 *
 * The map's state output is `{MapRunArn, ResultWriterDetails: {Bucket, Key}}`, where Key is the
 * run's `manifest.json`:
 *   {"DestinationBucket": "...", "MapRunArn": "...",
 *    "ResultFiles": {"FAILED": [{"Key": ".../FAILED_0.json", "Size": 1234}], "PENDING": [], "SUCCEEDED": [...]}}
 * Each result file is a JSON array (OutputType JSON, the default) or JSON Lines (OutputType JSONL) of
 * child execution records: {ExecutionArn, Name, Status, Input, Output, StartDate, StopDate, ...} with
 * `Input`/`Output` as JSON *strings* (Transformation NONE, the default when exporting), plus
 * `Error`/`Cause` for failed children. Failed children are always written in the NONE shape.
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
 * (worked example of the layout: https://sigpwned.com/2023/04/27/aws-step-functions-distributed-map-resultwriter-example)
 */
import type { RunStore } from '../../core/run-files/run-store.ts';
import { z } from 'zod';
import { TransientError } from '../../core/errors/errors.ts';
import {
  getJson,
  isNotFound,
  listObjects,
  openObject,
  readJsonLines,
  s3Url,
} from '../../core/run-files/run-store.ts';
import { jsonArrayElements } from './json-array-stream.ts';

const ResultFileSchema = z.object({ Key: z.string(), Size: z.number().optional() });

export const ResultWriterManifestSchema = z.object({
  DestinationBucket: z.string().optional(),
  MapRunArn: z.string().optional(),
  ResultFiles: z
    .object({
      SUCCEEDED: z.array(ResultFileSchema).optional(),
      FAILED: z.array(ResultFileSchema).optional(),
      PENDING: z.array(ResultFileSchema).optional(),
    })
    .loose(),
});
export type ResultWriterManifest = z.infer<typeof ResultWriterManifestSchema>;

export const RESULT_STATUSES = ['SUCCEEDED', 'FAILED', 'PENDING'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];

/** One child execution as the ResultWriter records it (only the fields the report reads). */
export interface ChildExecutionRecord {
  Name?: string;
  ExecutionArn?: string;
  Status?: string;
  Input?: unknown;
  Output?: unknown;
  Error?: string;
  Cause?: string;
}

export async function readManifest(
  store: RunStore,
  bucket: string,
  key: string,
): Promise<ResultWriterManifest> {
  try {
    return await getJson(store, bucket, key, ResultWriterManifestSchema);
  } catch (error) {
    if (isNotFound(error)) {
      throw new TransientError(`The map results manifest ${s3Url(bucket, key)} does not exist (yet)`);
    }
    throw error;
  }
}

/** The records of one result file, streamed. A record that is not an object is passed as its Output. */
export async function* readResultFile(
  store: RunStore,
  bucket: string,
  key: string,
): AsyncGenerator<ChildExecutionRecord> {
  const records = key.endsWith('.jsonl')
    ? readJsonLines<unknown>(store, bucket, key)
    : jsonArrayElements(await openObject(store, bucket, key));
  for await (const record of records) {
    yield typeof record === 'object' && record !== null ? record : { Output: record };
  }
}

/**
 * The newest `manifest.json` under the run's results prefix: lets a report be built for a run whose
 * map failed (the CLI has no state output to read the key from). Undefined when there is none.
 */
export async function locateResultManifest(
  store: RunStore,
  bucket: string,
  resultsPrefix: string,
): Promise<string | undefined> {
  let newest: { key: string; at: number } | undefined;
  for await (const object of listObjects(store, bucket, `${resultsPrefix.replace(/\/+$/, '')}/`)) {
    if (!object.key.endsWith('/manifest.json')) continue;
    const at = object.lastModified?.getTime() ?? 0;
    if (newest === undefined || at >= newest.at) newest = { key: object.key, at };
  }
  return newest?.key;
}

/** `Input`/`Output` are JSON strings in the NONE shape, plain JSON in COMPACT: accept both. */
export function parseEmbeddedJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}
