/**
 * Parses the payload the state machine hands a planning/report step. A payload that does not match
 * its contract is a wiring bug, not bad user input: it is named InvalidInput (never retried) with
 * every mismatch listed, so the execution fails at once with a readable cause.
 */
import type { z } from 'zod';
import { InvalidInputError } from '../../core/errors/errors.ts';
import type { LambdaStepName } from '../../core/steps.ts';

export function parseStepEvent<T>(schema: z.ZodType<T>, event: unknown, step: LambdaStepName): T {
  const parsed = schema.safeParse(event);
  if (parsed.success) return parsed.data;
  throw new InvalidInputError(
    parsed.error.issues.map(
      (issue) => `${step} event ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
    ),
  );
}
