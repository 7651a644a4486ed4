/**
 * An InvalidInput message names one problem a line, and whoever reads it back (the CLI's failure
 * paragraph) gets each problem whole, whatever punctuation it contains.
 */
import { describe, expect, it } from 'vitest';
import {
  InvalidInputError,
  invalidInputMessage,
  invalidInputProblemsOf,
} from '../../../core/errors/errors.ts';
import { DEFAULT_RUN_POLICY, runPolicyProblems } from '../../../core/contracts/run-policy.ts';
import { describeFailure } from '../../../cli/watch/failure.ts';

const lambdaCause = (message: string): string =>
  JSON.stringify({ errorType: 'InvalidInput', errorMessage: message, trace: [] });

describe('InvalidInput messages', () => {
  it('keeps the run-policy refusal one bullet', () => {
    // Prepare
    const problems = runPolicyProblems({ strategy: 'retag-source' }, DEFAULT_RUN_POLICY);
    const error = new InvalidInputError(problems);

    // Act
    const lines = describeFailure({ error: 'InvalidInput', cause: lambdaCause(error.message) });

    // Assess
    const bullets = lines.filter((line) => line.startsWith('  - '));
    expect(bullets).toEqual([
      `  - strategy: "retag-source" is not allowed by this deployment's run policy (allowed: promote - the construct's allowedStrategies)`,
    ]);
  });

  it('reads back every problem whole, punctuation and line breaks included', () => {
    // Prepare
    const problems = [
      'tags[0]: must match ^[a-z]+$; got "A;B"',
      'batchSize: must be ≤ 100 (got 500) - see --help',
      'destinations[0]: not replicated\nby any rule',
    ];

    // Act
    const message = invalidInputMessage(problems);

    // Assess
    expect(message.split('\n')).toHaveLength(4);
    expect(invalidInputProblemsOf(message)).toEqual([
      'tags[0]: must match ^[a-z]+$; got "A;B"',
      'batchSize: must be ≤ 100 (got 500) - see --help',
      'destinations[0]: not replicated by any rule',
    ]);
  });

  it('reads a message in another shape as one problem, never split on punctuation', () => {
    expect(invalidInputProblemsOf('Invalid input: a: bad; b: worse')).toEqual(['a: bad; b: worse']);
  });
});
