/**
 * Turns an execution's `error` and `cause` into lines a person can act on.
 *
 * Lambda failures reach Step Functions with the thrown error's name as `error` and a JSON cause
 * `{errorType, errorMessage, trace}`; states' own failures (`States.*`) carry plain text.
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 */
import { redriveVerdict } from '../../core/errors/error-catalog.ts';
import { ERROR_NAMES } from '../../core/errors/error-names.ts';
import { invalidInputProblemsOf } from '../../core/errors/errors.ts';

export interface ExecutionFailure {
  error?: string | undefined;
  cause?: string | undefined;
  /** The state the execution failed in, where known. */
  failedState?: string | undefined;
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

/** The problems an `InvalidInput` cause names, one a line as core/errors wrote them. */
export function invalidInputProblems(cause: string | undefined): string[] {
  return invalidInputProblemsOf(causeMessage(cause) ?? '');
}

/** Longest cause message shown without `--verbose` (a Lambda error message can be kilobytes). */
const MAX_MESSAGE_CHARS = 600;

/** Drops stack frames (`    at fn (file:1:2)`) a plain-text cause may carry. */
function withoutStackFrames(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\s+at\s/.test(line))
    .join('\n')
    .trim();
}

/** How to point at the execution in follow-up commands (an ARN in AWS, a note for `local`). */
export interface FailureContext {
  /** The `ecr-backfill redrive <arn>` / `report <arn>` target; omitted where there is none (local). */
  executionArn?: string;
  /** Where the full details are: the console URL, the report file, `--verbose`… */
  details?: string;
  /** Print the cause as it came (stack traces included). */
  verbose?: boolean;
}

/** What to do about a failure: the catalog's remedy, then the command that does it. */
export function failureAdvice(failure: ExecutionFailure, context: FailureContext = {}): string[] {
  const verdict = redriveVerdict(failure);
  const remedy = verdict.entry?.remedy;
  const lines = remedy ? [`What to do: ${remedy}.`] : [];
  const arn = context.executionArn;
  if (!arn) return lines.length > 0 ? lines : ['What to do: read the cause above, fix it and run again.'];
  const redrive = `ecr-backfill redrive ${arn}`;
  const report = `ecr-backfill report ${arn}`;
  if (!verdict.redrivable) {
    lines.push('Then start a new execution (`ecr-backfill start --help`); a redrive cannot fix this.');
  } else if (verdict.entry?.redrive === 'fix-then-redrive') {
    lines.push(
      `List what was not done with \`${report}\`; once the cause is fixed, \`${redrive}\` re-runs only the failed batches.`,
    );
  } else {
    lines.push(
      `\`${redrive}\` re-runs only what failed, from the failed step; \`${report}\` shows what was done.`,
    );
  }
  return lines;
}

/**
 * The failure itself, readable: the error name (and the state it failed in), then the cause — the
 * Lambda's error message, never its JSON or stack trace unless `verbose` — with each InvalidInput
 * problem on a line of its own.
 */
export function describeFailure(failure: ExecutionFailure, options: { verbose?: boolean } = {}): string[] {
  const lines = [
    `Error: ${failure.error ?? '(none given)'}${failure.failedState ? ` in ${failure.failedState}` : ''}`,
  ];
  if (options.verbose) {
    if (failure.cause) lines.push(`Cause: ${failure.cause}`);
    return lines;
  }
  if (failure.error === ERROR_NAMES.InvalidInput) {
    const problems = invalidInputProblems(failure.cause);
    if (problems.length > 0) {
      lines.push('The input has these problems:', ...problems.map((problem) => `  - ${problem}`));
      return lines;
    }
  }
  const message = causeMessage(failure.cause);
  if (message) {
    const text = withoutStackFrames(message);
    lines.push(
      `Cause: ${text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}… (--verbose shows all)` : text}`,
    );
  }
  return lines;
}

/**
 * One readable paragraph for a failed execution, the same in every command: what failed, why, what
 * to do, and where the details are.
 */
export function failureParagraph(failure: ExecutionFailure, context: FailureContext = {}): string {
  const lines = [
    ...describeFailure(failure, context.verbose ? { verbose: true } : {}),
    ...failureAdvice(failure, context),
    ...(context.details ? [`Details: ${context.details}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}
