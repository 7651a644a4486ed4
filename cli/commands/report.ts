/**
 * `ecr-backfill report <execution-arn>`: the run's report (report.json in the run bucket), or for a
 * failed or dry run, the report built from the map results — as a table, Markdown, CSV or JSON.
 */
import { S3RunStore } from '../../core/run-files/s3-run-store.ts';
import { Option, type Command } from 'commander';
import { parseExecutionArn, regionOfArn } from '../aws/arn.ts';
import {
  addAwsOptions,
  awsOptionsOf,
  parsePositiveNumber,
  runCommand,
  sfnForArn,
} from '../kit/command-kit.ts';
import { CliError } from '../kit/errors.ts';
import { REPORT_FORMATS, failedRows, renderReport, type ReportFormat } from '../report/report-format.ts';
import { fetchRunReport } from '../report/run-report.ts';

interface ReportOptions {
  format: ReportFormat;
  output?: string;
  maxFailed: number;
  profile?: string;
  region?: string;
}

export function registerReportCommand(program: Command): void {
  const command = program
    .command('report')
    .description("Print a run's report: outcomes, per destination, and the items not done with their reasons")
    .argument('<execution-arn>', 'the execution (printed by `ecr-backfill start`)')
    .addOption(new Option('--format <format>', 'output format').choices(REPORT_FORMATS).default('table'))
    .option('--output <file>', 'write the report to this file instead of stdout')
    .option('--max-failed <n>', 'failed rows shown in table/md formats', parsePositiveNumber, 50)
    .addHelpText(
      'after',
      '\nFor a failed run the report is built from the BackfillImages map results and written next to\n' +
        'them (runs/<runId>/report.json, report.csv), as Summarize would have.\n' +
        'Exit codes: 0 report printed; 1 no report (still running, failed before planning) or an AWS error.',
    );
  addAwsOptions(command).action(async (executionArn: string, options: ReportOptions) =>
    runCommand(command, async (context) => {
      parseExecutionArn(executionArn);
      const aws = awsOptionsOf(options);
      const sfn = sfnForArn(context, aws, executionArn);
      // The run bucket lives in the state machine's Region.
      const s3 = context.s3({ ...aws, ...(aws.region ? {} : { region: regionOfArn(executionArn) }) });
      const fetched = await fetchRunReport({
        sfn,
        runStore: new S3RunStore(s3),
        executionArn,
        now: () => context.clock.now(),
      });
      if (fetched.built) {
        const why =
          fetched.report.summary.status === 'DRY_RUN'
            ? 'A dry run writes no report; built it from its plan'
            : `The run did not write a report (${fetched.execution.status}); built it from the map results`;
        context.stderr.write(`${why}: s3://${fetched.location.bucket}/${fetched.location.key}\n`);
      }
      const text = renderReport(fetched.report, options.format, {
        location: `s3://${fetched.location.bucket}/${fetched.location.key}`,
        maxFailed: options.maxFailed,
      });
      if (options.output) {
        try {
          await context.writeTextFile(options.output, text);
        } catch (error) {
          throw new CliError(
            `Cannot write ${options.output}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
        context.stderr.write(
          `Report written to ${options.output} (${fetched.report.rows.length} rows, ${failedRows(fetched.report).length} not done).\n`,
        );
      } else {
        context.stdout.write(text);
        const undone = failedRows(fetched.report).length;
        if (undone > 0 && options.format === 'table' && fetched.execution.status !== 'SUCCEEDED') {
          context.stdout.write(
            `Once the cause is fixed, \`ecr-backfill redrive ${executionArn}\` re-runs only the failed batches.\n`,
          );
        }
      }
    }),
  );
}
