/**
 * Exit codes of the AWS-mode commands, so scripts can tell a bad invocation from a failed backfill.
 * Documented in `--help` of `watch`, `start` and `redrive`.
 */
export const EXIT_CODES = {
  ok: 0,
  /** AWS call failed, resource not found, permissions, network. */
  error: 1,
  /** Bad flags or execution input: nothing was sent to AWS. */
  usage: 2,
  /** The execution ended FAILED (redrive it, or read its report). */
  executionFailed: 3,
  executionTimedOut: 4,
  executionAborted: 5,
  /** `plan`: a repository or tag filter matched nothing (never "nothing to backfill"). */
  nothingMatched: 6,
} as const;
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** Exit code for an execution's final status (`undefined` while it still runs). */
export function exitCodeForStatus(status: string | undefined): ExitCode | undefined {
  switch (status) {
    case 'SUCCEEDED':
      return EXIT_CODES.ok;
    case 'FAILED':
      return EXIT_CODES.executionFailed;
    case 'TIMED_OUT':
      return EXIT_CODES.executionTimedOut;
    case 'ABORTED':
      return EXIT_CODES.executionAborted;
    default:
      return undefined;
  }
}

/** The exit codes, as the `--help` of `watch`, `start` and `redrive` shows them. */
export const EXIT_CODES_HELP = `
Exit codes: 0 the execution succeeded; 3 it failed; 4 it timed out; 5 it was aborted;
            1 an AWS or network error; 2 a bad argument or input.`;
