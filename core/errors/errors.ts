/**
 * Named errors. Step Functions matches Retry/Catch on the thrown error's `name`, so every error a
 * step lets escape is one of these, with the original kept as `cause` for the logs.
 */
import type { ItemResult } from '../contracts/contracts.ts';
import { ERROR_NAMES } from './error-names.ts';

abstract class StepError extends Error {
  protected constructor(name: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
  }
}

const INVALID_INPUT_HEADING = 'Invalid input:';
const PROBLEM_BULLET = '- ';

/**
 * The message of an InvalidInput error: the heading, then one problem a line (`- problem`). This and
 * {@link invalidInputProblemsOf} are the one place the format lives. A problem is kept whole whatever
 * it contains (`;`, `-`, parentheses); line breaks inside a problem become spaces, so a line is
 * always exactly one problem.
 */
export function invalidInputMessage(problems: readonly string[]): string {
  const lines = problems.map(
    (problem) => `${PROBLEM_BULLET}${problem.replace(/\s*[\r\n]+\s*/g, ' ').trim()}`,
  );
  return [INVALID_INPUT_HEADING, ...lines].join('\n');
}

/**
 * The problems an InvalidInput message names, as {@link invalidInputMessage} wrote them. A message
 * in any other shape (a single line after the heading) is one problem: never split on punctuation.
 */
export function invalidInputProblemsOf(message: string): string[] {
  const trimmed = message.trim();
  const body = trimmed.toLowerCase().startsWith(INVALID_INPUT_HEADING.toLowerCase())
    ? trimmed.slice(INVALID_INPUT_HEADING.length)
    : trimmed;
  const lines = body.split(/\r?\n/).map((line) => line.trim());
  const bullets = lines.filter((line) => line.startsWith(PROBLEM_BULLET));
  if (bullets.length > 0)
    return bullets.map((line) => line.slice(PROBLEM_BULLET.length).trim()).filter(Boolean);
  const whole = lines.filter(Boolean).join(' ');
  return whole ? [whole] : [];
}

/** Bad execution input: every problem named, nothing written. */
export class InvalidInputError extends StepError {
  constructor(
    readonly problems: string[],
    options?: { cause?: unknown },
  ) {
    super(ERROR_NAMES.InvalidInput, invalidInputMessage(problems), options);
  }
}

/**
 * A child step's state whose parts do not fit together (results that do not pair with the items):
 * a wiring bug, not bad user input, but it fails the same way, as InvalidInput, never retried.
 */
export class BatchWiringError extends InvalidInputError {
  constructor(problem: string) {
    super([problem]);
  }
}

export class ReplicationNotConfiguredError extends StepError {
  constructor(message: string) {
    super(ERROR_NAMES.NotCovered, message);
  }
}

/**
 * A filter of the input selected nothing that exists (a typo is the usual cause): the run stops
 * instead of reporting "nothing to backfill". `filter` names the input field, `nearby` what exists.
 */
export class NothingMatchedError extends StepError {
  constructor(
    readonly filter: 'repositories' | 'tags',
    readonly patterns: readonly string[],
    readonly nearby: readonly string[],
    message: string,
  ) {
    super(ERROR_NAMES.NothingMatched, message);
  }
}

export class ThrottledError extends StepError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ERROR_NAMES.Throttled, message, options);
  }
}

export class TransientError extends StepError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ERROR_NAMES.Transient, message, options);
  }
}

export class ReplicationPendingError extends StepError {
  /**
   * The batch's results as far as this poll got (some images arrived): not returned — the state's
   * Retry re-sends the same input — but recorded as the batch's progress (batch-progress.ts).
   */
  readonly partialResults: ItemResult[] | undefined;

  constructor(message: string, options: { partialResults?: ItemResult[] } = {}) {
    super(ERROR_NAMES.ReplicationPending, message);
    this.partialResults = options.partialResults;
  }
}

/** A paced step stopped at its time budget with work left (work-budget.ts): the Retry continues it. */
export class WorkRemainingError extends StepError {
  /** The batch's results as far as this invocation got: recorded as its progress, not returned. */
  readonly partialResults: ItemResult[];

  constructor(step: string, remaining: number, what: string, partialResults: ItemResult[]) {
    super(
      ERROR_NAMES.WorkRemaining,
      `${step} used its time budget with ${remaining} ${what} still to write: continuing in a new invocation`,
    );
    this.partialResults = partialResults;
  }
}

export class ItemsFailedError extends StepError {
  constructor(message: string) {
    super(ERROR_NAMES.ItemsFailed, message);
  }
}

export class DeleteReplicationUnsafeError extends StepError {
  constructor(message: string) {
    super(ERROR_NAMES.DeleteReplicationUnsafe, message);
  }
}

export class ReplicationNotPermittedError extends StepError {
  constructor(message: string) {
    super(ERROR_NAMES.ReplicationNotPermitted, message);
  }
}

/** A destination in another account that the deployment grants no way into (Plan, before any write). */
export class DestinationAccountNotGrantedError extends StepError {
  constructor(message: string) {
    super(ERROR_NAMES.DestinationAccountNotGranted, message);
  }
}

/**
 * The run folder of this execution's name belongs to an earlier execution of the same name (Plan,
 * before any write): a name Step Functions let us reuse after 90 days, never a redrive of that run.
 */
export class RunNameReusedError extends StepError {
  constructor(message: string) {
    super(ERROR_NAMES.RunNameReused, message);
  }
}

export class AccessDeniedError extends StepError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ERROR_NAMES.AccessDenied, message, options);
  }
}

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  // ECR's modeled quota error for PutImage & co (not the rate quota, but retrying later helps).
  'LimitExceededException',
]);

const ACCESS_DENIED_NAMES = new Set(['AccessDeniedException', 'AccessDenied', 'UnrecognizedClientException']);

interface SdkLikeError {
  name?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
  $fault?: unknown;
  $retryable?: unknown;
  code?: unknown;
}

/** The AWS error name of a thrown SDK error (`ThrottlingException`, `ImageNotFoundException`, …). */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const name = (error as SdkLikeError).name;
  return typeof name === 'string' ? name : undefined;
}

/**
 * Maps an unexpected SDK/network error to the retryable step error it stands for, or returns it
 * unchanged when it is not retryable (a bug or a business error the caller should have handled).
 */
export function toStepError(error: unknown, context: string): Error {
  if (error instanceof StepError) return error;
  const name = awsErrorName(error) ?? '';
  const sdk = (typeof error === 'object' && error !== null ? error : {}) as SdkLikeError;
  const message = `${context}: ${typeof sdk.message === 'string' ? sdk.message : String(error)}`;
  if (THROTTLING_NAMES.has(name)) return new ThrottledError(message, { cause: error });
  if (ACCESS_DENIED_NAMES.has(name)) return new AccessDeniedError(message, { cause: error });
  const status = sdk.$metadata?.httpStatusCode;
  const networkCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);
  if (
    (status !== undefined && status >= 500) ||
    sdk.$fault === 'server' ||
    name === 'ServerException' ||
    name === 'TimeoutError' ||
    name === 'RequestTimeout' ||
    (typeof sdk.code === 'string' && networkCodes.has(sdk.code))
  ) {
    return new TransientError(message, { cause: error });
  }
  return error instanceof Error ? error : new Error(message);
}
