/**
 * Invokes a step handler in-process the way Step Functions invokes a Lambda function:
 *
 * - `Resource` = the function ARN (CDK's `payloadResponseOnly`): the event is the state input and
 *   the state result is the function's return value.
 * - `Resource` = `arn:aws:states:::lambda:invoke`: the input is `{FunctionName, Payload}`, the
 *   result is `{ExecutedVersion, Payload, StatusCode, SdkHttpMetadata, SdkResponseMetadata}`.
 *   https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html
 *
 * Payloads cross a JSON boundary both ways, as they do over the wire. A thrown error becomes the
 * state error `name` = the error's `name` (Lambda's `errorType`) and cause = the JSON
 * `{errorType, errorMessage, trace}` Lambda returns, which is what Retry/Catch `ErrorEquals` and
 * `Cause` see in AWS (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
 *
 * An invocation still running at its function's configured timeout is stopped there, as Lambda stops
 * it ("Lambda runs your code for a set amount of time before timing out",
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html): its code is frozen like a
 * crashed one (nothing more reaches ECR or S3) and the state fails with `Sandbox.Timedout`, which the
 * state machine's retriers and a redrive then handle.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { StepHandler } from 'ecr-backfill/functions';
import { cloneJson, isJsonObject, type Json } from '../asl.ts';
import { UnsupportedDefinitionError } from '../validate.ts';
import type { ServiceRoleAuthorizer } from '../state-machine-role.ts';
import type { CrashInjector } from './crash.ts';
import { runInInvocation, type Invocation } from './invocation.ts';

/**
 * Step Functions' limit on a state's input or output: "Maximum input or output size for a task,
 * state, or execution: 256 KiB of data as a UTF-8 encoded string. This quota affects tasks
 * (activity, Lambda function, or integrated service), state or execution output, and input data when
 * scheduling a task, entering a state, or starting an execution"
 * (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html). Exceeding it fails
 * the execution with `States.DataLimitExceeded`
 * (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
 */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

const LAMBDA_INVOKE = /^arn:[^:]+:states:::lambda:invoke$/;
const FUNCTION_ARN = /^arn:[^:]+:lambda:[^:]+:\d{12}:function:[^:]+(:[^:]+)?$/;

export type LambdaIntegration = 'function-arn' | 'lambda-invoke';

export function lambdaIntegrationOf(resource: string | undefined): LambdaIntegration | undefined {
  if (resource === undefined) return undefined;
  if (LAMBDA_INVOKE.test(resource)) return 'lambda-invoke';
  if (FUNCTION_ARN.test(resource)) return 'function-arn';
  return undefined;
}

/** A Task error as the interpreter sees it: Retry/Catch match `name`; Catch's `Cause` is `message`. */
export class TaskError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/**
 * `States.DataLimitExceeded` is terminal: `States.ALL` does not match it. The interpreter reads
 * these flags (duck-typed) before matching any retrier or catcher.
 */
export class DataLimitExceededError extends TaskError {
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor(what: string, bytes: number) {
    super('States.DataLimitExceeded', `${what} is ${bytes} bytes, over the ${MAX_PAYLOAD_BYTES}-byte limit`);
  }
}

/** Throws States.DataLimitExceeded when `value` serializes to more than MAX_PAYLOAD_BYTES (UTF-8). */
export function checkPayloadSize(what: string, value: Json): void {
  const bytes = jsonBytes(value);
  if (bytes > MAX_PAYLOAD_BYTES) throw new DataLimitExceededError(what, bytes);
}

export function lambdaErrorCause(error: unknown): { errorType: string; cause: string } {
  const errorType = error instanceof Error ? error.name : typeof error === 'object' ? 'Error' : typeof error;
  const errorMessage = error instanceof Error ? error.message : String(error);
  const trace = error instanceof Error && error.stack ? error.stack.split('\n') : [];
  return { errorType, cause: JSON.stringify({ errorType, errorMessage, trace }) };
}

export interface InvocationRecord {
  stateName: string;
  requestId: string;
  outcome: 'succeeded' | 'failed' | 'crashed' | 'timed-out';
  errorName?: string;
  durationMs: number;
  sideEffectCalls: number;
}

/**
 * A function's reserved concurrency: at most `limit` invocations of it run at once, across every
 * execution and Map Run child. "Reserved concurrency is the maximum number of concurrent instances
 * you want to allocate to your function"; past it, an invocation is throttled
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html): a synchronous
 * Invoke fails with `TooManyRequestsException` (HTTP 429, Reason
 * ReservedFunctionConcurrentInvocationLimitExceeded,
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html), which Step Functions reports as
 * `Lambda.TooManyRequestsException`
 * (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
 */
export class ConcurrencyPool {
  private running = 0;
  constructor(
    readonly functionName: string,
    readonly limit: number,
  ) {}

  tryAcquire(): boolean {
    if (this.running >= this.limit) return false;
    this.running += 1;
    return true;
  }

  release(): void {
    this.running = Math.max(0, this.running - 1);
  }
}

export const LAMBDA_TOO_MANY_REQUESTS = 'Lambda.TooManyRequestsException';

export interface LambdaTaskOptions {
  stateName: string;
  resource: string;
  handler: StepHandler;
  crashes?: CrashInjector;
  /** The function's configured timeout, in ms (real time): the invocation is stopped there. */
  timeoutMs?: number;
  onInvocation?: (record: InvocationRecord) => void;
  /** The function's reserved concurrency, shared by every Task that invokes it (absent: unlimited). */
  concurrency?: ConcurrencyPool;
  /** Called for an invoke the function's reserved concurrency throttled (nothing ran). */
  onThrottle?: (stateName: string) => void;
  /** Decides `lambda:InvokeFunction` as the state machine's role (state-machine-role.ts); absent: allowed. */
  authorize?: ServiceRoleAuthorizer;
}

/**
 * What a Task reports when Lambda refuses the invoke itself (an AccessDeniedException, 403, for a
 * role without `lambda:InvokeFunction`): Step Functions names Lambda's service errors
 * `Lambda.<Exception>`, this one `Lambda.AWSLambdaException`, with Lambda's message as the cause
 * (https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html,
 * https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
 */
export const LAMBDA_SERVICE_EXCEPTION = 'Lambda.AWSLambdaException';

export type LocalTaskHandler = (input: Json) => Promise<Json>;

class Crash extends Error {}
class Timedout extends Error {}

export const SANDBOX_TIMEDOUT = 'Sandbox.Timedout';

function jsonBytes(value: Json): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/**
 * The Context Lambda passes a Node.js handler (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html):
 * what the steps read of it is `getRemainingTimeInMillis()`, "the number of milliseconds left before
 * the execution times out" — here, against the same timeout the runner kills the invocation at.
 * Without a configured timeout the function has all the time in the world.
 */
function invocationContext(
  stateName: string,
  requestId: string,
  started: number,
  timeoutMs?: number,
): Context {
  const functionName = `local-${stateName}`;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () =>
      timeoutMs === undefined ? Number.MAX_SAFE_INTEGER : Math.max(0, timeoutMs - (Date.now() - started)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export function createLambdaTask(options: LambdaTaskOptions): LocalTaskHandler {
  const integration = lambdaIntegrationOf(options.resource);
  if (!integration) {
    throw new UnsupportedDefinitionError(
      `Task '${options.stateName}' has a Lambda handler but its resource '${options.resource}' is not a Lambda invocation`,
    );
  }
  return async (input: Json): Promise<Json> => {
    const event =
      integration === 'lambda-invoke' ? (isJsonObject(input) ? (input.Payload ?? null) : null) : input;
    if (options.authorize) {
      const functionArn =
        integration === 'lambda-invoke' && isJsonObject(input) && typeof input.FunctionName === 'string'
          ? input.FunctionName
          : options.resource;
      const denial = await options.authorize('lambda:InvokeFunction', functionArn);
      if (denial !== undefined) {
        throw new TaskError(
          LAMBDA_SERVICE_EXCEPTION,
          `${denial} (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: ${randomUUID()}; Proxy: null)`,
        );
      }
    }
    const pool = options.concurrency;
    if (pool && !pool.tryAcquire()) {
      options.onThrottle?.(options.stateName);
      throw new TaskError(
        LAMBDA_TOO_MANY_REQUESTS,
        JSON.stringify({
          errorType: 'TooManyRequestsException',
          errorMessage: `Rate Exceeded. (Service: Lambda, Status Code: 429, Reason: ReservedFunctionConcurrentInvocationLimitExceeded; function ${pool.functionName} has reserved concurrency ${pool.limit})`,
        }),
      );
    }
    try {
      return await invoke(event);
    } finally {
      pool?.release();
    }
  };

  async function invoke(event: Json): Promise<Json> {
    const started = Date.now();
    const crashAfterCalls = options.crashes?.plan();
    let killed: ((error: Error) => void) | undefined;
    const crashed = new Promise<never>((_resolve, reject) => {
      killed = reject;
    });
    // Nobody may be awaiting the crash when it happens (the handler already failed): not unhandled.
    crashed.catch(() => undefined);
    let dead = false;
    const invocation: Invocation = {
      stateName: options.stateName,
      requestId: randomUUID(),
      sideEffectCalls: 0,
      crashAfterCalls,
      get dead() {
        return dead;
      },
      die(reason) {
        if (dead) return;
        dead = true;
        killed?.(new Crash(reason));
      },
    };
    const timeoutMs = options.timeoutMs;
    const timer =
      timeoutMs !== undefined
        ? setTimeout(() => {
            if (dead) return;
            dead = true;
            killed?.(new Timedout());
          }, timeoutMs)
        : undefined;
    const record = (outcome: InvocationRecord['outcome'], errorName?: string): void =>
      options.onInvocation?.({
        stateName: options.stateName,
        requestId: invocation.requestId,
        outcome,
        ...(errorName ? { errorName } : {}),
        durationMs: Date.now() - started,
        sideEffectCalls: invocation.sideEffectCalls,
      });

    const context = invocationContext(options.stateName, invocation.requestId, started, timeoutMs);
    // Async, so a handler that throws synchronously fails its invocation like any other error.
    const running = runInInvocation(invocation, async () => options.handler(cloneJson(event), context));
    // A frozen handler's concurrent branches may still reject: that is not the caller's business.
    running.catch(() => undefined);
    let result: Json;
    try {
      result = cloneJson((await Promise.race([running, crashed])) as Json);
      if (crashAfterCalls !== undefined)
        invocation.die(`at its end, after ${invocation.sideEffectCalls} ECR calls`);
      if (invocation.dead) await crashed;
    } catch (error) {
      if (error instanceof Timedout) {
        record('timed-out', SANDBOX_TIMEDOUT);
        throw new TaskError(
          SANDBOX_TIMEDOUT,
          JSON.stringify({
            errorType: SANDBOX_TIMEDOUT,
            errorMessage: `RequestId: ${invocation.requestId} Error: Task timed out after ${((timeoutMs ?? 0) / 1000).toFixed(2)} seconds`,
          }),
        );
      }
      if (error instanceof Crash) {
        record('crashed', 'Lambda.Unknown');
        const payload = JSON.stringify({
          errorType: 'Runtime.ExitError',
          errorMessage: `RequestId: ${invocation.requestId} Error: Runtime exited with error: signal: killed (local crash injected ${error.message})`,
        });
        throw new TaskError(
          'Lambda.Unknown',
          `The cause could not be determined because Lambda did not return an error type. Returned payload: ${payload}`,
        );
      }
      const { errorType, cause } = lambdaErrorCause(error);
      record('failed', errorType);
      throw new TaskError(errorType, cause);
    } finally {
      clearTimeout(timer);
    }
    record('succeeded');
    checkPayloadSize(`The output of '${options.stateName}'`, result);
    if (integration === 'function-arn') return result;
    return {
      ExecutedVersion: '$LATEST',
      Payload: result,
      SdkHttpMetadata: { HttpStatusCode: 200 },
      SdkResponseMetadata: { RequestId: invocation.requestId },
      StatusCode: 200,
    };
  }
}
