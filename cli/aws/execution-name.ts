/**
 * Execution names: `backfill-<yyyymmdd-hhmmss>-<hash>`, readable in the console's list, sortable
 * by time, and tied to the input (the hash), so two starts with different inputs in the same second
 * cannot collide. The name also becomes the run id (S3 prefix, temp tags).
 *
 * Step Functions allows 1–80 characters and rejects whitespace, brackets, wildcards, most
 * punctuation and control characters; names with only ASCII letters, digits, `-` and `_` are the
 * ones CloudWatch Logs accepts too.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 */
import { createHash } from 'node:crypto';

export const MAX_EXECUTION_NAME_LENGTH = 80;
const ALLOWED_NAME = /^[A-Za-z0-9_-]{1,80}$/;

function utcStamp(epochMs: number): string {
  const iso = new Date(epochMs).toISOString(); // 2026-05-01T12:34:56.789Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

/** Canonical JSON (sorted keys), so the hash does not depend on flag order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function shortInputHash(input: unknown): string {
  return createHash('sha256').update(canonicalJson(input)).digest('hex').slice(0, 8);
}

export function executionNameFor(input: unknown, epochMs: number, prefix = 'backfill'): string {
  return `${prefix}-${utcStamp(epochMs)}-${shortInputHash(input)}`.slice(0, MAX_EXECUTION_NAME_LENGTH);
}

/** Why a user-chosen name would be refused, or undefined when it is fine. */
export function executionNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > MAX_EXECUTION_NAME_LENGTH) {
    return `must be 1 to ${MAX_EXECUTION_NAME_LENGTH} characters (got ${name.length})`;
  }
  if (!ALLOWED_NAME.test(name)) return 'may contain only letters, digits, "-" and "_"';
  return undefined;
}
