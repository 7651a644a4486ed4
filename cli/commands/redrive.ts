/**
 * `ecr-backfill redrive <execution-arn>`: RedriveExecution, which re-runs only what failed — for the
 * BackfillImages Distributed Map, only the failed, timed-out or aborted child workflows, each
 * resuming at its failed step. When AWS refuses, say why and what to do instead.
 * https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html
 */
import type { Command } from 'commander';
import { DescribeExecutionCommand, RedriveExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { catalogEntry, redriveVerdict } from '../../core/errors/error-catalog.ts';
import { awsErrorName } from '../../core/errors/errors.ts';
import { executionConsoleUrl, parseExecutionArn } from '../aws/arn.ts';
import {
  addAwsOptions,
  awsOptionsOf,
  parsePositiveNumber,
  runCommand,
  sfnForArn,
  writeJson,
} from '../kit/command-kit.ts';
import { followExecution } from '../watch/follow-execution.ts';
import { EXIT_CODES_HELP } from '../kit/exit-codes.ts';
import { CliError, explainAwsError } from '../kit/errors.ts';
import { describeFailure, failureAdvice } from '../watch/failure.ts';
import { formatDuration } from '../kit/format.ts';
import { currentStateName } from '../watch/watch-execution.ts';
import { shellQuote } from '../kit/shell.ts';

/** Step Functions keeps an execution redrivable for 14 days after it ended. */
const REDRIVE_WINDOW_MS = 14 * 86_400_000;

function startAgainHint(stateMachineArn: string | undefined, input: string | undefined): string[] {
  const inputArgument = input && input.trim() !== '{}' ? ` --input ${shellQuote(input)}` : '';
  const target = stateMachineArn ? ` --state-machine-arn ${shellQuote(stateMachineArn)}` : '';
  return [
    'Start a new execution with the same input instead; its plan skips everything already done,',
    'so only the failed items are worked on again:',
    `  ecr-backfill start${target}${inputArgument} --watch`,
  ];
}

/** Why AWS refused: reads the execution to explain ExecutionNotRedrivable in the user's terms. */
async function notRedrivable(
  sfn: SFNClient,
  executionArn: string,
  awsMessage: string,
  now: number,
): Promise<CliError> {
  let execution;
  try {
    execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch {
    return new CliError('This execution cannot be redriven.', { hints: [`AWS said: ${awsMessage}`] });
  }
  const reasons: string[] = [];
  if (execution.status === 'SUCCEEDED') {
    return new CliError('This execution succeeded: there is nothing to redrive.', {
      hints: [`Read its report with \`ecr-backfill report ${executionArn}\`.`],
    });
  }
  if (execution.status === 'RUNNING' || execution.status === 'PENDING_REDRIVE') {
    return new CliError('This execution is still running: only a finished execution can be redriven.', {
      hints: [`Follow it with \`ecr-backfill watch ${executionArn}\`.`],
    });
  }
  const stoppedAt = execution.stopDate?.getTime();
  if (stoppedAt !== undefined && now - stoppedAt > REDRIVE_WINDOW_MS) {
    reasons.push(
      `it ended ${formatDuration((now - stoppedAt) / 1000)} ago, and Step Functions only redrives within 14 days`,
    );
  }
  if (execution.redriveStatusReason) reasons.push(execution.redriveStatusReason);
  if (reasons.length === 0) reasons.push(awsMessage);
  return new CliError('This execution cannot be redriven.', {
    hints: [
      ...reasons.map((reason) => `Why: ${reason}`),
      'Redrive also needs the same state machine definition (a `cdk deploy` since the run changes it)',
      'and a Standard execution.',
      ...startAgainHint(execution.stateMachineArn, execution.input),
    ],
  });
}

/**
 * Refuses to redrive an execution whose error a redrive cannot fix (core/errors/error-catalog.ts):
 * bad input, no replication rule, the configuration unreadable. The state it failed in is read only
 * when it matters (AccessDenied in Plan), and an unreadable history leaves the decision to AWS.
 */
async function refuseHopelessRedrive(sfn: SFNClient, executionArn: string): Promise<void> {
  let execution;
  try {
    execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch {
    return; // RedriveExecution reports a missing execution or permission in its own words.
  }
  if (execution?.status !== 'FAILED') return;
  const failure = { error: execution.error, cause: execution.cause };
  let failedState: string | undefined;
  if (catalogEntry(execution.error)?.startNewWhenFailedIn) {
    failedState = await currentStateName(sfn, executionArn).catch(() => undefined);
  }
  const verdict = redriveVerdict({ ...failure, failedState });
  if (verdict.redrivable) return;
  throw new CliError('Not redriving: a redrive cannot fix this failure.', {
    hints: [
      `Why: ${verdict.reason ?? ''}`,
      ...describeFailure({ ...failure, failedState }),
      ...failureAdvice({ ...failure, failedState }, { executionArn }),
      ...startAgainHint(execution.stateMachineArn, execution.input).slice(2),
    ],
  });
}

export async function redriveExecution(
  sfn: SFNClient,
  executionArn: string,
  now: number,
): Promise<{ redriveDate?: Date }> {
  await refuseHopelessRedrive(sfn, executionArn);
  try {
    const response = await sfn.send(new RedriveExecutionCommand({ executionArn }));
    return response.redriveDate ? { redriveDate: response.redriveDate } : {};
  } catch (error) {
    const name = awsErrorName(error);
    const message = error instanceof Error ? error.message : String(error);
    if (name === 'ExecutionNotRedrivable') throw await notRedrivable(sfn, executionArn, message, now);
    if (name === 'ExecutionLimitExceeded') {
      throw new CliError('Step Functions refused: the account has reached its limit of open executions.', {
        hints: [
          'Wait for running executions to end (or stop ones you no longer need), then redrive again.',
          `AWS said: ${message}`,
        ],
        cause: error,
      });
    }
    if (name === 'ExecutionDoesNotExist') {
      throw new CliError('No such execution: nothing to redrive.', {
        hints: [
          'Check the ARN and the account of your credentials (the command uses the ARN’s Region).',
          'Executions are listed in the Step Functions console, or by `aws stepfunctions list-executions`.',
        ],
        cause: error,
      });
    }
    throw explainAwsError(error, 'Redriving the execution', { permission: 'states:RedriveExecution' });
  }
}

export function registerRedriveCommand(program: Command): void {
  const command = program
    .command('redrive')
    .description('Redrive a failed execution: only the failed batches run again, from their failed step')
    .argument('<execution-arn>', 'the failed execution')
    .option('--watch', 'follow the redriven execution until it ends')
    .option('--interval <seconds>', 'seconds between polls with --watch', parsePositiveNumber, 5)
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `${EXIT_CODES_HELP}\nAWS redrives Standard executions within 14 days of their end, with an unchanged definition.`,
    );
  addAwsOptions(command).action(
    async (
      executionArn: string,
      options: { watch?: boolean; interval: number; json?: boolean; profile?: string; region?: string },
    ) =>
      runCommand(command, async (context) => {
        parseExecutionArn(executionArn);
        const aws = awsOptionsOf(options);
        const sfn = sfnForArn(context, aws, executionArn);
        const { redriveDate } = await redriveExecution(sfn, executionArn, context.clock.now());
        if (options.json && !options.watch) {
          writeJson(context, { executionArn, redriveDate: redriveDate?.toISOString() });
          return;
        }
        const progressStream = options.json ? context.stderr : context.stdout;
        progressStream.write(`Redrive started: ${executionArn}\n`);
        progressStream.write('Only the failed, timed-out or aborted batches run again.\n');
        const url = executionConsoleUrl(executionArn);
        if (url) progressStream.write(`Console: ${url}\n`);
        if (!options.watch) {
          progressStream.write(`Follow it with: ecr-backfill watch ${executionArn}\n`);
          return;
        }
        return followExecution(context, sfn, executionArn, {
          aws,
          intervalSeconds: options.interval,
          ...(options.json ? { json: true } : {}),
          ...(redriveDate ? { redrivenAt: redriveDate } : {}),
        });
      }),
  );
}
