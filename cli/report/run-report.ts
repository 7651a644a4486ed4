/**
 * Gets a run's report: `report.json` from S3 when Summarize wrote it, or — for a run that failed
 * (or a dry run, which ends before Summarize) — builds it first with Summarize's own
 * `buildRunReport`, from the BackfillImages map's ResultWriter files, into the same place.
 */
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListMapRunsCommand,
  type DescribeExecutionCommandOutput,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { RunStore } from '../../core/run-files/run-store.ts';
import {
  PlannedRunSchema,
  RunReportSchema,
  type PlannedRun,
  type ReportRow,
  type RunReport,
  type S3ObjectRef,
} from '../../core/contracts/contracts.ts';
import { silentLogger } from '../../core/logger.ts';
import { STATE_NAMES } from '../../core/steps.ts';
import { runKeys } from '../../core/run-files/run-layout.ts';
import { getText, isNotFound, listObjects } from '../../core/run-files/run-store.ts';
import { buildRunReport } from '../../functions/summarize/summarize.ts';
import { parseMapRunArn } from '../aws/arn.ts';
import { CliError, explainAwsError } from '../kit/errors.ts';
import { parseExecutionOutput } from '../watch/execution-summary.ts';
import { describeFailure } from '../watch/failure.ts';

export interface FetchedReport {
  report: RunReport;
  /** Where report.json is. */
  location: S3ObjectRef;
  /** True when this command built it (failed run, dry run), false when Summarize had. */
  built: boolean;
  execution: DescribeExecutionCommandOutput;
}

/** The PlannedRun the execution carried into the backfill (FinalizePlan's output), if it got there. */
async function plannedRunOf(sfn: SFNClient, executionArn: string): Promise<PlannedRun | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        reverseOrder: true,
        includeExecutionData: true,
        nextToken,
      }),
    );
    for (const event of page.events ?? []) {
      const exited = event.stateExitedEventDetails;
      if (exited?.name !== STATE_NAMES.FinalizePlan || !exited.output) continue;
      const parsed = PlannedRunSchema.safeParse(JSON.parse(exited.output));
      if (parsed.success) return parsed.data;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

/**
 * Where the BackfillImages ResultWriter put its manifest: `<run>/results/<map run id>/manifest.json`
 * (the definition's ResultWriter prefix, to which AWS appends the map run id).
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
 */
async function backfillResults(
  sfn: SFNClient,
  store: RunStore,
  executionArn: string,
  run: PlannedRun,
): Promise<{ MapRunArn: string; ResultWriterDetails?: { Bucket: string; Key: string } } | undefined> {
  const runs = await sfn.send(new ListMapRunsCommand({ executionArn }));
  const mapRun = (runs.mapRuns ?? []).find(
    (candidate) =>
      candidate.mapRunArn && parseMapRunArn(candidate.mapRunArn).label === STATE_NAMES.BackfillImages,
  );
  if (!mapRun?.mapRunArn) return undefined;
  const { id } = parseMapRunArn(mapRun.mapRunArn);
  for await (const object of listObjects(store, run.bucket, `${runKeys(run.runPrefix).results}/`)) {
    if (object.key.endsWith(`/${id}/manifest.json`)) {
      return { MapRunArn: mapRun.mapRunArn, ResultWriterDetails: { Bucket: run.bucket, Key: object.key } };
    }
  }
  return { MapRunArn: mapRun.mapRunArn };
}

async function readReport(store: RunStore, location: S3ObjectRef): Promise<RunReport> {
  const text = await getText(store, location.bucket, location.key);
  return RunReportSchema.parse(JSON.parse(text));
}

export async function fetchRunReport(options: {
  sfn: SFNClient;
  runStore: RunStore;
  executionArn: string;
  now: () => number;
}): Promise<FetchedReport> {
  const { sfn, runStore, executionArn } = options;
  let execution: DescribeExecutionCommandOutput;
  try {
    execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    throw explainAwsError(error, 'Reading the execution', { permission: 'states:DescribeExecution' });
  }
  if (execution.status === 'RUNNING' || execution.status === 'PENDING_REDRIVE') {
    throw new CliError('The execution is still running: its report is written when it ends.', {
      hints: [`Follow it with \`ecr-backfill watch ${executionArn}\`.`],
    });
  }

  const output = parseExecutionOutput(execution.output);
  if (output.report) {
    try {
      return {
        report: await readReport(runStore, output.report.reportJson),
        location: output.report.reportJson,
        built: false,
        execution,
      };
    } catch (error) {
      if (!isNotFound(error)) {
        throw explainAwsError(error, 'Reading the report from S3', {
          permission: 's3:GetObject on the run bucket',
        });
      }
      // The run bucket's lifecycle expired it: rebuild it below from what is left.
    }
  }

  let run: PlannedRun | undefined = output.planned;
  try {
    run ??= await plannedRunOf(sfn, executionArn);
  } catch (error) {
    throw explainAwsError(error, 'Reading the execution history', {
      permission: 'states:GetExecutionHistory',
    });
  }
  if (!run) {
    throw new CliError('This execution ended before its backfill was planned: there is no report.', {
      hints: [
        ...describeFailure({ error: execution.error, cause: execution.cause }),
        'Nothing was written to ECR before the plan was complete.',
      ],
    });
  }
  try {
    const backfill = run.config.dryRun ? undefined : await backfillResults(sfn, runStore, executionArn, run);
    const summary = await buildRunReport({
      runStore,
      logger: silentLogger,
      now: options.now,
      run,
      ...(backfill ? { backfill } : {}),
    });
    return {
      report: await readReport(runStore, summary.reportJson),
      location: summary.reportJson,
      built: true,
      execution,
    };
  } catch (error) {
    throw explainAwsError(error, 'Building the report from the map results', {
      permission: 's3:ListBucket, s3:GetObject and s3:PutObject on the run bucket, and states:ListMapRuns',
    });
  }
}

// report.json's one schema lives in core; named here too for the report's other readers.
export { RunReportSchema, type ReportRow, type RunReport };
