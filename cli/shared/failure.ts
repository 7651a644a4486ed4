/**
 * Turns an execution's `error` and `cause` into lines a person can act on.
 *
 * Lambda failures reach Step Functions with the thrown error's name as `error` and a JSON cause
 * `{errorType, errorMessage, trace}`; states' own failures (`States.*`) carry plain text.
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 */
import { ERROR_NAMES } from '../../functions/shared/error-names.ts';

export interface ExecutionFailure {
  error?: string | undefined;
  cause?: string | undefined;
}

/** The human part of a cause: `errorMessage` of a Lambda error, the text itself otherwise. */
export function causeMessage(cause: string | undefined): string | undefined {
  if (!cause) return undefined;
  try {
    const parsed = JSON.parse(cause) as unknown;
    if (parsed && typeof parsed === 'object') {
      const message = (parsed as { errorMessage?: unknown }).errorMessage;
      if (typeof message === 'string') return message;
    }
  } catch {
    // Not JSON: a state's own cause is plain text.
  }
  return cause;
}

/** The problems an `InvalidInput` cause names ("Invalid input: a; b; c" → [a, b, c]). */
export function invalidInputProblems(cause: string | undefined): string[] {
  const message = causeMessage(cause) ?? '';
  const body = message.replace(/^Invalid input:\s*/i, '');
  return body
    .split(/;\s+/)
    .map((problem) => problem.trim())
    .filter(Boolean);
}

const ITEM_FAILURE_ERRORS = new Set<string>([
  ERROR_NAMES.ItemsFailed,
  'States.ExceedToleratedFailureThreshold',
  'States.ItemReaderFailed',
  'States.ResultWriterFailed',
]);

/** What to do about a failure, given how to refer to the execution in follow-up commands. */
export function failureAdvice(failure: ExecutionFailure, executionArn: string): string[] {
  const error = failure.error ?? '';
  const redrive = `ecr-backfill redrive ${executionArn}`;
  const report = `ecr-backfill report ${executionArn}`;
  if (error === ERROR_NAMES.InvalidInput) {
    return ['Nothing was written. Fix the input and start a new execution (`ecr-backfill start --help`).'];
  }
  if (error === ERROR_NAMES.NotCovered) {
    return [
      'No replication rule covers the selection. Add rules (ECR console → Private registry → Replication,',
      "or the construct's `replication` prop), then start a new execution.",
    ];
  }
  if (error === ERROR_NAMES.AccessDenied) {
    return [`Grant the permission named above, then \`${redrive}\`: only what failed runs again.`];
  }
  if (ITEM_FAILURE_ERRORS.has(error)) {
    return [
      `Some items could not be backfilled: list them with \`${report}\`.`,
      `Once the cause is fixed, \`${redrive}\` re-runs only the failed batches.`,
    ];
  }
  if (error === ERROR_NAMES.Throttled || error === ERROR_NAMES.Transient) {
    return [
      'ECR kept throttling or failing after every retry. Lower maxConcurrency or raise the PutImage quota,',
      `then \`${redrive}\`.`,
    ];
  }
  if (error === 'States.Timeout') return [`A step timed out. \`${redrive}\` resumes from the failed step.`];
  return [`\`${redrive}\` re-runs what failed; \`${report}\` shows what was done.`];
}

/** The failure itself, readable: the error name, then the cause (each InvalidInput problem on a line). */
export function describeFailure(failure: ExecutionFailure): string[] {
  const lines = [`Error: ${failure.error ?? '(none given)'}`];
  if (failure.error === ERROR_NAMES.InvalidInput) {
    const problems = invalidInputProblems(failure.cause);
    if (problems.length > 0) {
      lines.push('The input has these problems:', ...problems.map((problem) => `  - ${problem}`));
      return lines;
    }
  }
  const message = causeMessage(failure.cause);
  if (message) lines.push(`Cause: ${message}`);
  return lines;
}
