/** `ecr-backfill watch <execution-arn>`: live progress of an execution; exits with its status. */
import { S3RunStore } from '../../core/run-files/s3-run-store.ts';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { parseExecutionArn, regionOfArn } from '../shared/arn.ts';
import { addAwsOptions, awsOptionsOf, runCommand, writeJson } from '../shared/command-kit.ts';
import type { AwsOptions, CliContext } from '../shared/context.ts';
import { EXIT_CODES, exitCodeForStatus } from '../shared/exit-codes.ts';
import { parseExecutionOutput, renderExecutionEnd } from '../shared/execution-summary.ts';
import { nativeBackfillViews } from '../../core/native/native-progress.ts';
import { createPlainProgressView, createProgressView } from '../shared/progress.ts';
import { RunProgressReader } from '../shared/run-progress.ts';
import { watchExecution } from '../shared/watch-execution.ts';

export const EXIT_CODES_HELP = `
Exit codes: 0 the execution succeeded; 3 it failed; 4 it timed out; 5 it was aborted;
            1 an AWS or network error; 2 a bad argument or input.`;

export interface FollowOptions {
  json?: boolean;
  intervalSeconds: number;
  /** --profile/--region: also how the native backfills' progress is read (run bucket, ECR). */
  aws?: AwsOptions;
  /** Set after a redrive (see WatchParams.redrivenAt). */
  redrivenAt?: Date;
}

/** An SFN client in the ARN's Region unless --region says otherwise: an ARN names its Region. */
export function sfnForArn(context: CliContext, aws: AwsOptions, arn: string): SFNClient {
  return context.sfn({ ...aws, ...(aws.region ? {} : { region: regionOfArn(arn) }) });
}

/** Watches until the end, prints the outcome, and returns the exit code for the final status. */
export async function followExecution(
  context: CliContext,
  sfn: SFNClient,
  executionArn: string,
  options: FollowOptions,
): Promise<number> {
  // With --json, stdout carries exactly one JSON document; progress goes to stderr as plain lines.
  const view = options.json ? createPlainProgressView(context.stderr) : createProgressView(context.stdout);
  const stopListening = context.onInterrupt(() => {
    view.finish();
    context.stderr.write(
      `Stopped watching; the execution goes on. Resume with: ecr-backfill watch ${executionArn}\n`,
    );
  });
  const aws = options.aws ?? {};
  // The run bucket is in the state machine's Region; ECR clients take each record's source Region.
  const runStore = new S3RunStore(
    context.s3({ ...aws, ...(aws.region ? {} : { region: regionOfArn(executionArn) }) }),
  );
  const ecr = context.ecr(aws);
  let progressReader: RunProgressReader | undefined;
  const result = await watchExecution({
    sfn,
    executionArn,
    view,
    clock: context.clock,
    sleep: (ms) => context.sleep(ms),
    intervalMs: options.intervalSeconds * 1000,
    nativeBackfills: (run) => nativeBackfillViews({ runStore, ecr }, run.bucket, run.runPrefix),
    runProgress: (run) => {
      progressReader ??= new RunProgressReader(runStore, run);
      return progressReader.read();
    },
    ...(options.redrivenAt ? { redrivenAt: options.redrivenAt } : {}),
  }).finally(stopListening);
  const { execution } = result;
  if (options.json) {
    const output = parseExecutionOutput(execution.output);
    writeJson(context, {
      executionArn,
      status: execution.status,
      startDate: execution.startDate?.toISOString(),
      stopDate: execution.stopDate?.toISOString(),
      ...(execution.error ? { error: execution.error } : {}),
      ...(execution.cause ? { cause: execution.cause } : {}),
      ...(output.report ? { report: output.report } : {}),
      ...(output.plan ? { plan: output.plan } : {}),
      ...(result.backfill ? { backfillItems: result.backfill } : {}),
      ...(result.native ? { nativeBackfills: result.native } : {}),
      failedChildren: result.failedChildren.filter((child) => child.name !== '(more)'),
    });
  } else {
    context.stdout.write(renderExecutionEnd(execution, result));
  }
  return exitCodeForStatus(execution.status) ?? EXIT_CODES.error;
}

export function parsePositiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('expected a positive number.');
  return number;
}

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
