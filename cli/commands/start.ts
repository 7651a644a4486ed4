/**
 * `ecr-backfill start`: validates the input locally, then StartExecution with a meaningful name.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 */
import type { Command } from 'commander';
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { DEFAULT_STACK_NAME } from '../../core/deployment.ts';
import { awsErrorName } from '../../core/errors/errors.ts';
import { executionConsoleUrl, regionOfArn } from '../aws/arn.ts';
import { resolveRegion } from '../aws/aws-clients.ts';
import {
  addAwsOptions,
  awsOptionsOf,
  parsePositiveNumber,
  runCommand,
  writeJson,
} from '../kit/command-kit.ts';
import { followExecution } from '../watch/follow-execution.ts';
import { CliError, explainAwsError } from '../kit/errors.ts';
import { EXIT_CODES, EXIT_CODES_HELP } from '../kit/exit-codes.ts';
import { executionNameFor, executionNameProblem } from '../aws/execution-name.ts';
import {
  addRunFlags,
  addSelectionFlags,
  inputFromFlags,
  type InputFlagValues,
} from '../input/input-flags.ts';
import {
  STACK_NAME_ENV,
  STATE_MACHINE_ARN_ENV,
  stateMachineArnFromStack,
  stateMachineTargetOf,
} from '../aws/state-machine.ts';
import { validateExecutionInput } from '../input/validate-input.ts';

export { STACK_NAME_ENV, STATE_MACHINE_ARN_ENV } from '../aws/state-machine.ts';

interface StartOptions extends InputFlagValues {
  stateMachineArn?: string;
  stackName?: string;
  name?: string;
  watch?: boolean;
  interval: number;
  json?: boolean;
  profile?: string;
  region?: string;
}

/** Where to start, checked before any call: an ARN as given, or a stack to look up. */
const targetOf = (options: StartOptions) => stateMachineTargetOf(options);

async function startExecution(
  sfn: SFNClient,
  stateMachineArn: string,
  name: string,
  input: Record<string, unknown>,
): Promise<{ executionArn: string; startDate?: Date }> {
  try {
    const response = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
    );
    return {
      executionArn: response.executionArn ?? '',
      ...(response.startDate ? { startDate: response.startDate } : {}),
    };
  } catch (error) {
    const errorName = awsErrorName(error);
    if (errorName === 'ExecutionAlreadyExists') {
      throw new CliError(
        `An execution named "${name}" already exists (and has ended, or has another input).`,
        {
          hints: ['Choose another --name, or leave --name out to get a fresh one.'],
          cause: error,
        },
      );
    }
    if (errorName === 'ExecutionLimitExceeded') {
      throw new CliError('Step Functions refused: the account has reached its limit of open executions.', {
        hints: ['Wait for running executions to end, or stop ones you no longer need, then start again.'],
        cause: error,
      });
    }
    if (errorName === 'InvalidExecutionInput') {
      throw new CliError('Step Functions refused the input (it must be JSON of at most 256 KiB).', {
        cause: error,
      });
    }
    throw explainAwsError(error, 'Starting the execution', { permission: 'states:StartExecution' });
  }
}

async function sourceRegionFor(options: StartOptions, target: { arn?: string }): Promise<string> {
  const region = (target.arn ? regionOfArn(target.arn) : undefined) ?? options.region;
  if (region) return region;
  try {
    return await resolveRegion(awsOptionsOf(options));
  } catch (error) {
    throw explainAwsError(error, 'Finding the Region');
  }
}

export function registerStartCommand(program: Command): void {
  const command = program
    .command('start')
    .description('Validate the input locally, then start a backfill execution (optionally watching it)')
    .option('--state-machine-arn <arn>', `the backfill state machine (or ${STATE_MACHINE_ARN_ENV})`)
    .option(
      '--stack-name <name>',
      `the deployed stack holding it (or ${STACK_NAME_ENV}; default ${DEFAULT_STACK_NAME})`,
    )
    .option('--name <execution-name>', 'execution name (default: backfill-<yyyymmdd-hhmmss>-<input hash>)')
    .option('--watch', 'follow the execution until it ends, with a progress bar')
    .option('--interval <seconds>', 'seconds between polls with --watch', parsePositiveNumber, 5);
  addSelectionFlags(command);
  addRunFlags(command);
  command
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `${EXIT_CODES_HELP}\n\nExamples:\n` +
        '  ecr-backfill start --stack-name EcrBackfill --dry-run\n' +
        '  ecr-backfill start --stack-name EcrBackfill --destination ap-northeast-2 --repository team/ --watch\n' +
        '  ecr-backfill start --state-machine-arn <arn> --input \'{"tags": ["v*"]}\' --latest 5',
    );
  addAwsOptions(command).action(async (options: StartOptions) =>
    runCommand(command, async (context) => {
      const target = targetOf(options);
      const input = await inputFromFlags(context, options);
      const sourceRegion = await sourceRegionFor(options, 'arn' in target ? target : {});
      validateExecutionInput(input, { sourceRegion });
      const name = options.name ?? executionNameFor(input, context.clock.now());
      const nameProblem = executionNameProblem(name);
      if (nameProblem) {
        throw new CliError(`--name ${nameProblem}.`, { exitCode: EXIT_CODES.usage });
      }

      const aws = awsOptionsOf(options);
      let sfn = context.sfn({ ...aws, region: aws.region ?? sourceRegion });
      const stateMachineArn =
        'arn' in target ? target.arn : await stateMachineArnFromStack(sfn, target.stackName);
      const machineRegion = regionOfArn(stateMachineArn);
      if (!aws.region && machineRegion && machineRegion !== sourceRegion) {
        sfn = context.sfn({ ...aws, region: machineRegion });
      }
      const { executionArn, startDate } = await startExecution(sfn, stateMachineArn, name, input);

      const url = executionConsoleUrl(executionArn);
      if (options.json && !options.watch) {
        writeJson(context, {
          executionArn,
          name,
          startDate: startDate?.toISOString(),
          consoleUrl: url,
          input,
        });
        return;
      }
      const out = options.json ? context.stderr : context.stdout;
      out.write(`Started ${name}\n  Execution: ${executionArn}\n`);
      if (url) out.write(`  Console:   ${url}\n`);
      if (!options.watch) {
        out.write(`Follow it with: ecr-backfill watch ${executionArn}\n`);
        return;
      }
      return followExecution(context, sfn, executionArn, {
        aws,
        intervalSeconds: options.interval,
        ...(options.json ? { json: true } : {}),
      });
    }),
  );
}
