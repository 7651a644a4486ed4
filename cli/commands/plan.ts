/**
 * `ecr-backfill plan`: what a backfill would do, computed locally and read-only with the workflow's
 * own planning code: per destination what is missing, present, diverged or not covered by a
 * replication rule, the PutImage calls per Region, the duration at the PutImage quota, and the
 * Step Functions + Lambda cost. Works against AWS (your credentials) or the emulator (--ecr-endpoint).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../kit/context.ts';
import {
  InvalidInputError,
  NothingMatchedError,
  ReplicationNotConfiguredError,
} from '../../core/errors/errors.ts';
import { estimateRun } from '../../core/contracts/estimate.ts';
import { DEFAULT_RUN_POLICY } from '../../core/contracts/run-policy.ts';
import { resolveRegion } from '../aws/aws-clients.ts';
import {
  addAwsOptions,
  awsOptionsOf,
  parseEndpointUrl,
  parsePositiveNumber,
  runCommand,
  writeJson,
} from '../kit/command-kit.ts';
import { CliError, explainAwsError } from '../kit/errors.ts';
import { shellQuote } from '../kit/shell.ts';
import { EXIT_CODES } from '../kit/exit-codes.ts';
import { executionNameFor } from '../aws/execution-name.ts';
import { renderPlanSummary } from '../watch/execution-summary.ts';
import { formatDuration, renderTable } from '../kit/format.ts';
import {
  addRunFlags,
  addSelectionFlags,
  inputFromFlags,
  type InputFlagValues,
} from '../input/input-flags.ts';
import { planLocally, type LocalPlan } from '../plan/local-planner.ts';
import { validateExecutionInput } from '../input/validate-input.ts';

interface PlanOptions extends InputFlagValues {
  ecrEndpoint?: string;
  out?: string;
  putImageRate?: number;
  json?: boolean;
  profile?: string;
  region?: string;
}

/** Recomputes the quota bound for the user's PutImage quota (the plan assumes ECR's default). */
function withPutImageRate(result: LocalPlan, rate: number | undefined): LocalPlan {
  if (rate === undefined) return result;
  const { planned } = result;
  const estimate = estimateRun({
    items: planned.items.count,
    batchSize: planned.config.batchSize,
    slices: planned.slices.count,
    repositories: planned.slices.count * planned.config.planSliceSize,
    destinations: planned.config.destinations.length,
    strategy: planned.config.strategy,
    putImageCalls: planned.plan.putImageCalls,
    replicationWaitSeconds: planned.config.replicationWaitSeconds,
    putImagePerSecond: rate,
  });
  return {
    ...result,
    planned: { ...planned, plan: { ...planned.plan, quotaBoundSeconds: estimate.quotaBoundSeconds } },
  };
}

/**
 * The `start` command that runs this plan: the same input and source Region, against the deployed
 * stack (start takes no --ecr-endpoint: it starts the deployed state machine).
 */
function startCommandFor(input: Record<string, unknown>, sourceRegion: string): string {
  const inputFlag = Object.keys(input).length > 0 ? ` --input ${shellQuote(JSON.stringify(input))}` : '';
  return `ecr-backfill start --stack-name <stack> --region ${sourceRegion}${inputFlag} --watch`;
}

function renderPlan(result: LocalPlan & { input: Record<string, unknown> }, rate: number): string {
  const { planned, destinations } = result;
  const config = planned.config;
  const lines = [
    `Plan for ${config.sourceRegistryId}/${config.sourceRegion} (read-only: nothing was written to ECR)`,
    '',
    'Outcomes (counted per tag and destination):',
    renderPlanSummary(planned.plan).trimEnd(),
    `(duration assumes PutImage at ${rate}/s per Region; pass --put-image-rate if your quota differs)`,
    '',
    'Per destination:',
    renderTable(
      ['Destination', 'Images to replicate', 'Images to tag', 'Tags to put'],
      destinations.map((d) => [
        `${d.registryId}/${d.region}`,
        d.imagesToReplicate,
        d.imagesToTag,
        d.tagsToPut,
      ]),
    ).trimEnd(),
  ];
  if (planned.notCoveredRepositories > 0) {
    lines.push(
      '',
      `${planned.notCoveredRepositories} selected repositor${planned.notCoveredRepositories === 1 ? 'y is' : 'ies are'} not covered by any replication rule: they are never touched.`,
    );
  }
  lines.push(
    '',
    planned.items.count === 0
      ? 'Nothing to backfill: every selected tag is already in every destination.'
      : `Backfill it (about ${formatDuration(planned.plan.quotaBoundSeconds)} at least):\n  ${startCommandFor(result.input, config.sourceRegion)}`,
  );
  return `${lines.join('\n')}\n`;
}

/** Writes the plan's rows into `dir` (report.json, report.csv); returns the files' paths. */
async function writePlanReport(
  context: Pick<CliContext, 'writeTextFile'>,
  result: LocalPlan,
  dir: string,
): Promise<string[]> {
  const { json, csv } = await result.report();
  const files = [resolve(dir, 'report.json'), resolve(dir, 'report.csv')];
  await context.writeTextFile(files[0]!, json);
  await context.writeTextFile(files[1]!, csv);
  return files;
}

/**
 * The ECR endpoint in use when it is not AWS's: --ecr-endpoint, else the SDK's endpoint variables
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html), for error messages.
 */
function endpointOf(options: PlanOptions): { endpoint?: string } {
  const endpoint =
    options.ecrEndpoint ?? process.env.AWS_ENDPOINT_URL_ECR ?? process.env.AWS_ENDPOINT_URL ?? undefined;
  return endpoint ? { endpoint } : {};
}

export function registerPlanCommand(program: Command): void {
  const command = program
    .command('plan')
    .description(
      'Show what a backfill would do, read-only: missing/present/diverged per destination, calls, duration, cost',
    )
    .option(
      '--ecr-endpoint <url>',
      'ECR endpoint (e.g. the local emulator, http://127.0.0.1:4599)',
      parseEndpointUrl,
    )
    .option(
      '--put-image-rate <n>',
      'your PutImage quota per second and Region (default: ECR’s 10)',
      parsePositiveNumber,
    );
  addSelectionFlags(command);
  addRunFlags(command);
  command
    .option(
      '--out <dir>',
      'also write the plan there as report.json and report.csv: a row per repository, digest, tag and destination (PLANNED, ALREADY_PRESENT, NOT_COVERED, CONFLICT)',
    )
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\n--region is the source Region (the registry to backfill from).\n' +
        `The input is held to the construct's default run policy (${DEFAULT_RUN_POLICY.allowedStrategies.join(', ')} only, no overwriteConflicts,\n` +
        `no includeArchived, maxConcurrency ≤ ${DEFAULT_RUN_POLICY.maxConcurrencyLimit}); a deployment may allow more.\n` +
        'Exit codes: 0 planned; 2 invalid input; 6 a repository or tag filter matched nothing;\n' +
        '            1 replication not configured, AWS or network error.\n\n' +
        'Examples:\n' +
        '  ecr-backfill plan --region ap-south-1\n' +
        '  ecr-backfill plan --ecr-endpoint http://127.0.0.1:4599 --region ap-south-1 --repository team/ --json\n' +
        '  ecr-backfill plan --region ap-south-1 --out plan/   # every row in plan/report.csv',
    );
  addAwsOptions(command).action(async (options: PlanOptions) =>
    runCommand(command, async (context) => {
      const input = await inputFromFlags(context, options);
      const aws = {
        ...awsOptionsOf(options),
        ...(options.ecrEndpoint ? { endpoint: options.ecrEndpoint } : {}),
      };
      let sourceRegion: string;
      try {
        sourceRegion = await resolveRegion(aws);
      } catch (error) {
        throw explainAwsError(error, 'Finding the source Region');
      }
      // Same schema, same messages as the workflow; checked before any ECR call. The plan runs the
      // workflow's Plan with the construct's default run policy, so its limits are checked here too.
      validateExecutionInput(input, { sourceRegion }, DEFAULT_RUN_POLICY);
      const progress = options.json ? context.stderr : context.stdout;
      progress.write(
        `Planning in ${sourceRegion}${options.ecrEndpoint ? ` (${options.ecrEndpoint})` : ''}…\n`,
      );
      let result: LocalPlan;
      try {
        result = await planLocally({
          input,
          executionName: executionNameFor(input, context.clock.now(), 'plan'),
          sourceRegion,
          ecr: context.ecr(aws),
        });
      } catch (error) {
        if (error instanceof InvalidInputError) {
          throw new CliError('The input does not fit this registry.', {
            exitCode: EXIT_CODES.usage,
            hints: error.problems.map((problem) => `- ${problem}`),
            cause: error,
          });
        }
        if (error instanceof NothingMatchedError) {
          throw new CliError(`The ${error.filter} filter matched nothing: ${error.message}`, {
            exitCode: EXIT_CODES.nothingMatched,
            hints: [
              error.nearby.length > 0
                ? `Did you mean one of: ${error.nearby.join(', ')}?`
                : `Check the source Region (${sourceRegion}): pass --region if the registry is elsewhere.`,
            ],
            cause: error,
          });
        }
        if (error instanceof ReplicationNotConfiguredError) {
          throw new CliError(error.message, {
            hints: [
              'Add replication rules (ECR console → Private registry → Replication, or the construct’s',
              '`replication` prop) covering these repositories, then plan again.',
              `Or check the source Region (${sourceRegion}): pass --region if the registry is elsewhere.`,
            ],
            cause: error,
          });
        }
        throw explainAwsError(error, 'Planning', {
          permission: 'ecr:DescribeRegistry, ecr:DescribeRepositories and ecr:DescribeImages',
          ...endpointOf(options),
        });
      }
      const rate = options.putImageRate ?? 10;
      result = withPutImageRate(result, options.putImageRate);
      const files = options.out === undefined ? [] : await writePlanReport(context, result, options.out);
      if (options.json) {
        writeJson(context, {
          sourceRegion: result.planned.config.sourceRegion,
          sourceRegistryId: result.planned.config.sourceRegistryId,
          plan: result.planned.plan,
          destinations: result.destinations,
          notCoveredRepositories: result.planned.notCoveredRepositories,
          putImagePerSecond: rate,
          config: result.planned.config,
          ...(files.length > 0 && { planFiles: files }),
        });
      } else {
        context.stdout.write(renderPlan({ ...result, input }, rate));
        if (files.length > 0) context.stdout.write(`Plan rows: ${files.join(', ')}\n`);
      }
    }),
  );
}
