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
import { z } from 'zod';
import { InvalidInputError } from '../../core/errors/errors.ts';
import { getJson, isNotFound, type RunStore } from '../../core/run-files/run-store.ts';

const RunOwnerSchema = z.object({ executionName: z.string() });

async function ownerOf(store: RunStore, bucket: string, key: string): Promise<string | undefined> {
  try {
    return (await getJson(store, bucket, key, RunOwnerSchema)).executionName;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function refuse(runId: string, owner: string, executionName: string): InvalidInputError {
  return new InvalidInputError([
    `executionName: "${executionName}" maps to run id "${runId}", whose run folder belongs to execution "${owner}"; start this execution under another name (run ids must be unique)`,
  ]);
}

/** Claims the run folder for `executionName`, or throws InvalidInput when another execution owns it. */
export async function claimRunFolder(
  store: RunStore,
  bucket: string,
  key: string,
  runId: string,
  executionName: string,
): Promise<void> {
  const existing = await ownerOf(store, bucket, key);
  if (existing === executionName) return;
  if (existing !== undefined) throw refuse(runId, existing, executionName);
  await store.create(bucket, key, Buffer.from(JSON.stringify({ executionName }), 'utf8'), 'application/json');
  // Read back: after a lost race (the create found the key taken), or a store that ignores the
  // condition, the owner is whoever won.
  const owner = await ownerOf(store, bucket, key);
  if (owner !== executionName) throw refuse(runId, owner ?? '(unknown)', executionName);
}
