/**
 * Errors met while processing single items. A step finishes every other item first, then throws one
 * named error, so Step Functions retries (or a redrive resumes) and the idempotent step redoes only
 * what is left: its checks-before-writes find the finished items done.
 */
import type { Logger } from '../logger.ts';
import { ERROR_NAMES } from './error-names.ts';
import { toStepError } from './errors.ts';

// Retryable first: a retry may finish those items, and a permanent error still surfaces after it.
const PRECEDENCE: readonly string[] = [
  ERROR_NAMES.Throttled,
  ERROR_NAMES.Transient,
  ERROR_NAMES.AccessDenied,
];

export class ItemErrors {
  private readonly errors: Error[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly step: string,
  ) {}

  get count(): number {
    return this.errors.length;
  }

  record(error: unknown, what: string, keys: Record<string, unknown> = {}): void {
    const stepError = toStepError(error, `${this.step}: ${what}`);
    this.errors.push(stepError);
    this.logger.warn(`${what} failed; the other items go on, the step fails at the end`, {
      ...keys,
      errorName: stepError.name,
      error: stepError.message,
    });
  }

  /** Throws the most retryable of the recorded errors (its message counts the others). */
  throwIfAny(): void {
    if (this.errors.length === 0) return;
    const rank = (e: Error) => {
      const index = PRECEDENCE.indexOf(e.name);
      return index === -1 ? PRECEDENCE.length : index;
    };
    const first = [...this.errors].sort((a, b) => rank(a) - rank(b))[0]!;
    if (this.errors.length > 1)
      first.message = `${first.message} (and ${this.errors.length - 1} more item error(s))`;
    throw first;
  }
}
