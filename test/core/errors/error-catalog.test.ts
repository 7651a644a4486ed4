import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, catalogEntry, redriveVerdict } from '../../../core/errors/error-catalog.ts';
import { ERROR_NAMES } from '../../../core/errors/error-names.ts';
import { NATIVE_ERROR_NAMES } from '../../../core/errors/native-errors.ts';
import * as retryPolicies from '../../../statemachine/retry-policies.ts';

/** Every error name a retrier of the workflow matches (a retrier exhausted ends the execution with it). */
function retriedErrorNames(): string[] {
  const names = new Set<string>();
  for (const value of Object.values(retryPolicies)) {
    if (
      typeof value === 'object' &&
      value !== null &&
      Array.isArray((value as { errors?: unknown }).errors)
    ) {
      for (const name of (value as { errors: string[] }).errors) names.add(name);
    }
  }
  return [...names];
}

describe('the error catalog', () => {
  it.each([...Object.values(ERROR_NAMES), ...Object.values(NATIVE_ERROR_NAMES), ...retriedErrorNames()])(
    '%s has exactly one entry, with a meaning and a remedy',
    (name) => {
      const entries = ERROR_CATALOG.filter((entry) => entry.names.includes(name));

      expect(entries).toHaveLength(1);
      expect(entries[0]?.meaning.length).toBeGreaterThan(10);
      expect(entries[0]?.remedy.length).toBeGreaterThan(5);
    },
  );

  it.each([ERROR_NAMES.InvalidInput, ERROR_NAMES.NotCovered])(
    '%s is never redrivable, wherever it happened',
    (error) => {
      const verdict = redriveVerdict({ error, failedState: 'Plan' });

      expect(verdict.redrivable).toBe(false);
      expect(verdict.reason).toContain('a redrive runs the same step again');
      expect(redriveVerdict({ error }).redrivable).toBe(false);
    },
  );

  it('AccessDenied on the configuration (in Plan) is not redrivable; on a later step it is, once IAM is fixed', () => {
    expect(redriveVerdict({ error: ERROR_NAMES.AccessDenied, failedState: 'Plan' }).redrivable).toBe(false);
    const later = redriveVerdict({ error: ERROR_NAMES.AccessDenied, failedState: 'BackfillImages' });
    expect(later.redrivable).toBe(true);
    expect(later.entry?.redrive).toBe('fix-then-redrive');
  });

  it.each([
    ERROR_NAMES.Throttled,
    ERROR_NAMES.Transient,
    'Lambda.Unknown',
    'States.ExceedToleratedFailureThreshold',
  ])('%s is redrivable', (error) => {
    expect(redriveVerdict({ error, failedState: 'BackfillImages' }).redrivable).toBe(true);
  });

  it('an error the workflow does not know is left to Step Functions (redrivable, no entry)', () => {
    expect(catalogEntry('Something.Else')).toBeUndefined();
    expect(redriveVerdict({ error: 'Something.Else' })).toEqual({ redrivable: true });
  });
});
