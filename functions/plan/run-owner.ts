/**
 * One run per run id. Run ids are derived from execution names (run-layout.ts), and two names can
 * map to the same id (`Nightly` and `nightly-ab6b5a4d`). Plan claims `runs/<runId>/execution.json`
 * for its execution before it writes anything else there, and refuses a folder another execution
 * claimed, so two executions never share slices, items, results or temp tags.
 *
 * The claim is idempotent for its own execution: a Step Functions retry of Plan, or a redrive (same
 * execution, same name), finds its own claim and goes on.
 *
 * The claim is a conditional write (`If-None-Match: *`): when two executions claim at the same
 * moment, S3 lets exactly one create the object and answers 412 PreconditionFailed to the other.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { awsErrorName, InvalidInputError, toStepError } from '../shared/errors.ts';
import { getJson, isNotFound, s3Url } from '../shared/s3.ts';

const RunOwnerSchema = z.object({ executionName: z.string() });

async function ownerOf(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    return (await getJson(s3, bucket, key, RunOwnerSchema)).executionName;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw toStepError(error, `S3 GetObject ${s3Url(bucket, key)}`);
  }
}

function refuse(runId: string, owner: string, executionName: string): InvalidInputError {
  return new InvalidInputError([
    `executionName: "${executionName}" maps to run id "${runId}", whose run folder belongs to execution "${owner}"; start this execution under another name (run ids must be unique)`,
  ]);
}

/** Claims the run folder for `executionName`, or throws InvalidInput when another execution owns it. */
export async function claimRunFolder(
  s3: S3Client,
  bucket: string,
  key: string,
  runId: string,
  executionName: string,
): Promise<void> {
  const existing = await ownerOf(s3, bucket, key);
  if (existing === executionName) return;
  if (existing !== undefined) throw refuse(runId, existing, executionName);
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: Buffer.from(JSON.stringify({ executionName }), 'utf8'),
        ContentType: 'application/json',
        IfNoneMatch: '*',
      }),
    );
  } catch (error) {
    if (awsErrorName(error) !== 'PreconditionFailed') {
      throw toStepError(error, `S3 PutObject ${s3Url(bucket, key)}`);
    }
  }
  // Read back: after a lost race (412), or an S3 that ignores the condition, the owner is whoever won.
  const owner = await ownerOf(s3, bucket, key);
  if (owner !== executionName) throw refuse(runId, owner ?? '(unknown)', executionName);
}
