/**
 * One run per run id. Run ids are derived from execution names (run-layout.ts), and two names can
 * map to the same id (`Nightly` and `nightly-ab6b5a4d`). Plan claims `runs/<runId>/execution.json`
 * for its execution before it writes anything else there, and refuses a folder another execution
 * claimed, so two executions never share slices, items, results or temp tags.
 *
 * The claim is idempotent for its own execution: a Step Functions retry of Plan, or a redrive (same
 * execution: "the same ... execution ARN as the original execution attempt", and so the same
 * `$$.Execution.StartTime`), finds its own claim and goes on.
 * https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html
 *
 * A name alone does not identify an execution for ever: it "must be unique for your AWS account,
 * Region, and state machine for 90 days", and then StartExecution accepts it again.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 * So the claim also records the execution's start time, and a claim of the same name with another
 * start time is an earlier execution's run: refused (RunNameReused) rather than taken for a redrive
 * of it, which would mix the new run into the old run's slices, results and temp tags.
 * A claim written before start times were recorded has none; it is taken as the same execution.
 *
 * The claim is a conditional write (`If-None-Match: *`): when two executions claim at the same
 * moment, S3 lets exactly one create the object and answers 412 PreconditionFailed to the other.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 */
import { z } from 'zod';
import { InvalidInputError, RunNameReusedError } from '../../core/errors/errors.ts';
import { getJson, isNotFound, type RunStore } from '../../core/run-files/run-store.ts';

const RunOwnerSchema = z.object({ executionName: z.string(), executionStartTime: z.string().optional() });
type RunOwner = z.infer<typeof RunOwnerSchema>;

/** The execution claiming a run folder: its name and, in a deployed workflow, `$$.Execution.StartTime`. */
export interface RunClaimant {
  executionName: string;
  executionStartTime?: string;
}

async function ownerOf(store: RunStore, bucket: string, key: string): Promise<RunOwner | undefined> {
  try {
    return await getJson(store, bucket, key, RunOwnerSchema);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Two start times name the same instant (Step Functions writes ISO 8601; compare the instants). */
function sameInstant(a: string, b: string): boolean {
  const [left, right] = [Date.parse(a), Date.parse(b)];
  return Number.isNaN(left) || Number.isNaN(right) ? a === b : left === right;
}

/** The owner is this execution: same name and, when both are known, the same start time. */
function isClaimant(owner: RunOwner, claimant: RunClaimant): boolean {
  if (owner.executionName !== claimant.executionName) return false;
  if (owner.executionStartTime === undefined || claimant.executionStartTime === undefined) return true;
  return sameInstant(owner.executionStartTime, claimant.executionStartTime);
}

function refuse(runId: string, owner: RunOwner, claimant: RunClaimant): Error {
  if (owner.executionName === claimant.executionName) {
    return new RunNameReusedError(
      `Execution name "${claimant.executionName}" (started ${claimant.executionStartTime ?? 'now'}) was used by an earlier execution started ${owner.executionStartTime ?? '(unknown)'}, whose run folder runs/${runId}/ is still there (Step Functions allows a name again after 90 days); start this execution under a new name`,
    );
  }
  return new InvalidInputError([
    `executionName: "${claimant.executionName}" maps to run id "${runId}", whose run folder belongs to execution "${owner.executionName}"; start this execution under another name (run ids must be unique)`,
  ]);
}

/**
 * Claims the run folder for the execution, or throws InvalidInput when an execution of another name
 * owns it, RunNameReused when an earlier execution of the same name does.
 */
export async function claimRunFolder(
  store: RunStore,
  bucket: string,
  key: string,
  runId: string,
  claimant: RunClaimant,
): Promise<void> {
  const existing = await ownerOf(store, bucket, key);
  if (existing !== undefined) {
    if (isClaimant(existing, claimant)) return;
    throw refuse(runId, existing, claimant);
  }
  const claim: RunOwner = {
    executionName: claimant.executionName,
    ...(claimant.executionStartTime !== undefined && { executionStartTime: claimant.executionStartTime }),
  };
  await store.create(bucket, key, Buffer.from(JSON.stringify(claim), 'utf8'), 'application/json');
  // Read back: after a lost race (the create found the key taken), or a store that ignores the
  // condition, the owner is whoever won.
  const owner = await ownerOf(store, bucket, key);
  if (owner === undefined) throw refuse(runId, { executionName: '(unknown)' }, claimant);
  if (!isClaimant(owner, claimant)) throw refuse(runId, owner, claimant);
}
