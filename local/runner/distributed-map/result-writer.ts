/**
 * ResultWriter: the Map Run's child executions exported to S3, grouped by status, as Step Functions
 * lays them out (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html):
 *
 *   <Prefix>/<mapRunId>/manifest.json        {DestinationBucket, MapRunArn, ResultFiles: {FAILED, PENDING, SUCCEEDED: [{Key, Size}]}}
 *   <Prefix>/<mapRunId>/SUCCEEDED_<n>.json   [ child execution records ]
 *   <Prefix>/<mapRunId>/FAILED_<n>.json     failed, timed-out and aborted children
 *   <Prefix>/<mapRunId>/PENDING_<n>.json    children that were not started
 *
 * Each record carries the fields of DescribeExecution: ExecutionArn, Name, StateMachineArn, Status,
 * StartDate, StopDate, Input + InputDetails, Output + OutputDetails (succeeded), Error + Cause
 * (failed), RedriveCount/RedriveStatus. The map state's output is then
 * `{MapRunArn, ResultWriterDetails: {Bucket, Key: <manifest key>}}`.
 *
 * A redriven Map Run rewrites its files in place. Files of an earlier attempt that the new manifest
 * no longer lists stay: Step Functions writes them as the state machine's role, whose ResultWriter
 * permissions are writes only (s3:PutObject, s3:GetObject, s3:ListMultipartUploadParts,
 * s3:AbortMultipartUpload: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html),
 * no listing and no delete; readers follow the manifest. The S3 client passed in is that role's
 * (local/runner/state-machine-role.ts), so the local S3 decides these writes with its policies.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Json } from '../asl.ts';
import type { ExecutionStatus } from '../progress.ts';
import { MAP_ERRORS, MapRunError } from './errors.ts';

export interface ChildResult {
  executionArn: string;
  name: string;
  stateMachineArn: string;
  status: ExecutionStatus;
  input: Json;
  output?: Json;
  error?: string;
  cause?: string;
  startDate?: Date;
  stopDate?: Date;
  redriveCount: number;
}

export interface ResultFile {
  Key: string;
  Size: number;
}

export interface Manifest {
  DestinationBucket: string;
  MapRunArn: string;
  ResultFiles: { FAILED: ResultFile[]; PENDING: ResultFile[]; SUCCEEDED: ResultFile[] };
}

type FileStatus = keyof Manifest['ResultFiles'];

const REDRIVABLE_STATUSES: ReadonlySet<string> = new Set(['FAILED', 'ABORTED', 'TIMED_OUT']);

export function resultRecord(child: ChildResult): Record<string, Json> {
  const record: Record<string, Json> = {
    ExecutionArn: child.executionArn,
    Input: JSON.stringify(child.input),
    InputDetails: { Included: true },
    Name: child.name,
  };
  if (child.status === 'SUCCEEDED') {
    record.Output = JSON.stringify(child.output ?? null);
    record.OutputDetails = { Included: true };
  }
  record.RedriveCount = child.redriveCount;
  // Failed, aborted and timed-out executions can be redriven; succeeded ones cannot.
  // https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html
  record.RedriveStatus = REDRIVABLE_STATUSES.has(child.status) ? 'REDRIVABLE' : 'NOT_REDRIVABLE';
  if (child.status === 'SUCCEEDED')
    record.RedriveStatusReason = 'Execution is SUCCEEDED and cannot be redriven';
  if (child.startDate) record.StartDate = child.startDate.toISOString();
  record.StateMachineArn = child.stateMachineArn;
  record.Status = child.status;
  if (child.stopDate) record.StopDate = child.stopDate.toISOString();
  if (FAILED_FILE_STATUSES.has(child.status)) {
    record.Error = child.error ?? null;
    record.Cause = child.cause ?? null;
  }
  return record;
}

/**
 * "FAILED_n.json: the results of failed, timed out, and aborted child workflow executions";
 * "PENDING_n.json: the child workflow executions that weren't started".
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
 * So a child that ran and was aborted or timed out (and may have written to ECR) is a failure of the
 * Map Run, never "not started".
 */
const FAILED_FILE_STATUSES: ReadonlySet<string> = new Set(['FAILED', 'ABORTED', 'TIMED_OUT']);

function statusOf(child: ChildResult): FileStatus {
  if (child.status === 'SUCCEEDED') return 'SUCCEEDED';
  if (FAILED_FILE_STATUSES.has(child.status)) return 'FAILED';
  return 'PENDING';
}

/** Splits records into JSON arrays of at most `maxBytes` each (at least one record per file). */
function chunk(records: Record<string, Json>[], maxBytes: number): string[] {
  const files: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const record of records) {
    const text = JSON.stringify(record);
    const bytes = Buffer.byteLength(text);
    if (current.length > 0 && size + bytes + 1 > maxBytes) {
      files.push(`[${current.join(',')}]`);
      current = [];
      size = 2;
    }
    current.push(text);
    size += bytes + 1;
  }
  if (current.length > 0) files.push(`[${current.join(',')}]`);
  return files;
}

export interface ResultWriterTarget {
  bucket: string;
  prefix: string;
  mapRunId: string;
  mapRunArn: string;
  maxFileBytes: number;
}

export function resultKeyPrefix(prefix: string, mapRunId: string): string {
  const base = prefix.replace(/\/+$/, '');
  return base === '' ? mapRunId : `${base}/${mapRunId}`;
}

/** Writes the result files and the manifest; returns where the manifest is. */
export async function writeResults(
  s3: S3Client,
  target: ResultWriterTarget,
  children: ChildResult[],
): Promise<{ Bucket: string; Key: string }> {
  const directory = resultKeyPrefix(target.prefix, target.mapRunId);
  const manifest: Manifest = {
    DestinationBucket: target.bucket,
    MapRunArn: target.mapRunArn,
    ResultFiles: { FAILED: [], PENDING: [], SUCCEEDED: [] },
  };
  try {
    for (const status of ['FAILED', 'PENDING', 'SUCCEEDED'] as const) {
      const records = children.filter((child) => statusOf(child) === status).map(resultRecord);
      for (const [n, body] of chunk(records, target.maxFileBytes).entries()) {
        const key = `${directory}/${status}_${n}.json`;
        await s3.send(
          new PutObjectCommand({
            Bucket: target.bucket,
            Key: key,
            Body: body,
            ContentType: 'application/json',
          }),
        );
        manifest.ResultFiles[status].push({ Key: key, Size: Buffer.byteLength(body) });
      }
    }
    const manifestKey = `${directory}/manifest.json`;
    await s3.send(
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: manifestKey,
        Body: JSON.stringify(manifest),
        ContentType: 'application/json',
      }),
    );
    return { Bucket: target.bucket, Key: manifestKey };
  } catch (error) {
    throw new MapRunError(
      MAP_ERRORS.ResultWriterFailed,
      `Writing the Map Run results to s3://${target.bucket}/${directory}/ failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
