/** `ecr-backfill watch <execution-arn>`: live progress of an execution; exits with its status. */
import type { Command } from 'commander';
import { parseExecutionArn } from '../aws/arn.ts';
import {
  addAwsOptions,
  awsOptionsOf,
  parsePositiveNumber,
  runCommand,
  sfnForArn,
} from '../kit/command-kit.ts';
import { EXIT_CODES_HELP } from '../kit/exit-codes.ts';
import { followExecution } from '../watch/follow-execution.ts';

export function registerWatchCommand(program: Command): void {
  const command = program
    .command('watch')
    .description(
      'Follow an execution: phase, tags delivered per destination, rate, ETA and failures as they happen',
    )
    .argument('<execution-arn>', 'the execution to follow (printed by `ecr-backfill start`)')
    .option('--interval <seconds>', 'seconds between polls', parsePositiveNumber, 5)
    .option('--json', 'print the final status as JSON on stdout (progress goes to stderr)')
    .addHelpText('after', `${EXIT_CODES_HELP}\nCtrl-C stops watching; the execution keeps running.`);
  addAwsOptions(command).action(
    async (
      executionArn: string,
      options: { interval: number; json?: boolean; profile?: string; region?: string },
    ) =>
      runCommand(command, async (context) => {
        parseExecutionArn(executionArn);
        const aws = awsOptionsOf(options);
        const sfn = sfnForArn(context, aws, executionArn);
        return followExecution(context, sfn, executionArn, {
          aws,
          intervalSeconds: options.interval,
          ...(options.json ? { json: true } : {}),
        });
      }),
  );
}
