/**
 * Following an execution to its end, as `watch`, `start --watch` and `redrive --watch` do: live
 * progress (the Distributed Map's counts, each batch's progress record, the native backfills), then
 * the outcome, and the exit code of its final status.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { S3RunStore } from '../../core/run-files/s3-run-store.ts';
import { nativeBackfillViews } from '../../core/native/native-progress.ts';
import { regionOfArn } from '../aws/arn.ts';
import type { AwsOptions } from '../aws/aws-clients.ts';
import { writeJson } from '../kit/command-kit.ts';
import type { CliContext } from '../kit/context.ts';
import { EXIT_CODES, exitCodeForStatus } from '../kit/exit-codes.ts';
import { parseExecutionOutput, renderExecutionEnd } from './execution-summary.ts';
import { createPlainProgressView, createProgressView } from './progress.ts';
import { RunProgressReader } from './run-progress.ts';
import { watchExecution } from './watch-execution.ts';

export interface FollowOptions {
  json?: boolean;
  intervalSeconds: number;
  /** --profile/--region: also how the native backfills' progress is read (run bucket, ECR). */
  aws?: AwsOptions;
  /** Set after a redrive (see WatchParams.redrivenAt). */
  redrivenAt?: Date;
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
