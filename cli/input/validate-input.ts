/**
 * Local validation of an execution input with the very schema the Plan Lambda uses, so that bad
 * input is refused before anything is sent to AWS, with the same messages.
 */
import { parseExecutionInput, type ResolvedInput } from '../../core/contracts/input-schema.ts';
import { parseInputWithinPolicy, type RunPolicy } from '../../core/contracts/run-policy.ts';
import { InvalidInputError } from '../../core/errors/errors.ts';
import { CliError } from '../kit/errors.ts';
import { EXIT_CODES } from '../kit/exit-codes.ts';

export function validateExecutionInput(
  input: Record<string, unknown>,
  options: { sourceRegion: string; sourceRegistryId?: string },
  /** Also hold the input to this run policy (the deployment's limits), as Plan does. */
  policy?: RunPolicy,
): ResolvedInput {
  try {
    return policy ? parseInputWithinPolicy(input, options, policy) : parseExecutionInput(input, options);
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw new CliError('The execution input is invalid; nothing was sent to AWS.', {
        exitCode: EXIT_CODES.usage,
        hints: [
          ...error.problems.map((problem) => `- ${problem}`),
          'Fix the flags (or the --input JSON) and run the command again; `--help` lists every flag.',
        ],
        cause: error,
      });
    }
    throw error;
  }
}
