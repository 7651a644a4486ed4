/**
 * `ecr-backfill cleanup`: removes the temp tags a run left behind, in the source and every
 * destination registry. Dry-run by default; `--yes` deletes, never an image's last tag, and never
 * the temp tags of a run still RUNNING (refused with `--run`, kept with `--older-than`) unless
 * `--force` (running-runs.ts).
 */
import type { Command } from 'commander';
import { DescribeRegistryCommand, type ReplicationRule } from '@aws-sdk/client-ecr';
import { configuredDestinations } from '../../core/contracts/destinations.ts';
import { DEFAULT_STACK_NAME } from '../../core/deployment.ts';
import { runIdFromExecutionName } from '../../core/run-files/run-layout.ts';
import {
  DEFAULT_TEMP_TAG_PREFIX,
  ExecutionInputSchema,
  repositoryPatternSchema,
} from '../../core/contracts/input-schema.ts';
import { regionOfArn } from '../aws/arn.ts';
import { resolveRegion, type AwsOptions } from '../aws/aws-clients.ts';
import {
  STACK_NAME_ENV,
  STATE_MACHINE_ARN_ENV,
  stateMachineArnFromStack,
  stateMachineTargetOf,
} from '../aws/state-machine.ts';
import type { CliContext } from '../kit/context.ts';
import { runningExecution, runningRuns, type RunningRun } from '../cleanup/running-runs.ts';
import { addAwsOptions, awsOptionsOf, parseEndpointUrl, runCommand, writeJson } from '../kit/command-kit.ts';
import { CliError, explainAwsError } from '../kit/errors.ts';
import { EXIT_CODES } from '../kit/exit-codes.ts';
import { parseDuration } from '../kit/duration.ts';
import { renderTable } from '../kit/format.ts';
import { parseDestinationFlag } from '../input/input-flags.ts';
import { cleanupTempTags, type CleanupEntry, type Registry } from '../cleanup/temp-tag-cleanup.ts';

interface CleanupOptions {
  run?: string;
  olderThan?: string;
  destination?: string[];
  repository?: string[];
  tempTagPrefix: string;
  yes?: boolean;
  force?: boolean;
  stateMachineArn?: string;
  stackName?: string;
  ecrEndpoint?: string;
  json?: boolean;
  profile?: string;
  region?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** `--run` takes a run id, an execution name or an execution ARN: all name the same run. */
export function runIdFromRunOption(value: string): string {
  const name = value.startsWith('arn:') ? (value.split(':').at(-1) ?? value) : value;
  return runIdFromExecutionName(name);
}

/**
 * The registries to clean: the source, then the destinations — those of the replication
 * configuration, or the ones given. A destination given as `<account>:<region>` is cleaned even if
 * the configuration no longer lists it (a rule removed after the run still leaves its temp tags).
 */
function registriesToClean(
  source: { region: string; registryId: string },
  rules: readonly ReplicationRule[],
  requested: string[] | undefined,
): Registry[] {
  const configured = configuredDestinations(rules);
  const destinations: Registry[] = [];
  const add = (d: { region: string; registryId: string; roleArn?: string }) => {
    if (!destinations.some((e) => e.region === d.region && e.registryId === d.registryId)) {
      destinations.push({ role: 'destination', ...d });
    }
  };
  if (!requested || requested.length === 0) configured.forEach(add);
  for (const spec of requested ?? []) {
    let parsed;
    try {
      parsed = parseDestinationFlag(spec);
    } catch (error) {
      throw new CliError(error instanceof Error ? error.message : String(error), {
        exitCode: EXIT_CODES.usage,
      });
    }
    if (typeof parsed === 'string') {
      const inRegion = configured.filter((d) => d.region === parsed);
      if (inRegion.length > 0) inRegion.forEach(add);
      else add({ region: parsed, registryId: source.registryId });
    } else {
      add(parsed);
    }
  }
  return [{ role: 'source', ...source }, ...destinations];
}

/**
 * The runs of the state machine still RUNNING (with `run`, that execution read directly too), or a
 * CliError saying why that cannot be told, and that `--force` skips the check.
 */
async function runsStillGoing(
  context: CliContext,
  aws: AwsOptions,
  region: string,
  options: CleanupOptions,
): Promise<RunningRun[]> {
  const target = stateMachineTargetOf(options);
  try {
    let sfn = context.sfn({ ...aws, region: aws.region ?? region });
    const arn = 'arn' in target ? target.arn : await stateMachineArnFromStack(sfn, target.stackName);
    const machineRegion = regionOfArn(arn);
    if (!aws.region && machineRegion && machineRegion !== region)
      sfn = context.sfn({ ...aws, region: machineRegion });
    const running = await runningRuns(sfn, arn);
    if (options.run !== undefined) {
      const name = options.run.startsWith('arn:') ? (options.run.split(':').at(-1) ?? '') : options.run;
      const execution = name ? await runningExecution(sfn, arn, name) : undefined;
      if (execution && !running.some((r) => r.executionArn === execution.executionArn))
        running.push(execution);
    }
    return running;
  } catch (error) {
    const explained =
      error instanceof CliError
        ? error
        : explainAwsError(error, 'Listing the running executions', { permission: 'states:ListExecutions' });
    throw new CliError(`Cannot tell whether a run is still going: ${explained.message}`, {
      exitCode: explained.exitCode,
      hints: [
        ...explained.hints,
        `Name the state machine with --state-machine-arn or --stack-name (or ${STATE_MACHINE_ARN_ENV} / ${STACK_NAME_ENV}),`,
        'or pass --force to clean without this check (never while a run is going: its temp tags are in use).',
      ],
      cause: error,
    });
  }
}

const ACTION_TEXT: Record<CleanupEntry['action'], string> = {
  'would-delete': 'would delete',
  deleted: 'deleted',
  kept: 'kept',
  failed: 'FAILED',
};

function registryLabel(registry: Registry): string {
  return `${registry.role} ${registry.registryId}/${registry.region}`;
}

export function registerCleanupCommand(program: Command): void {
  const command = program
    .command('cleanup')
    .description("Find a run's leftover temp tags in the source and destinations; delete them with --yes")
    .option('--run <id>', 'the run: its id, execution name or execution ARN')
    .option(
      '--older-than <duration>',
      'temp tags of any run on images pushed more than this long ago (7d, 12h, 30m)',
    )
    .option(
      '--destination <dest>',
      'destination registry: <region>, <account>:<region> or <account>:<region>:<roleArn> (repeatable; default: every replication destination)',
      collect,
    )
    .option('--repository <pattern>', 'only repositories matching this prefix or glob (repeatable)', collect)
    .option('--temp-tag-prefix <prefix>', 'prefix of the temp tags', DEFAULT_TEMP_TAG_PREFIX)
    .option('--yes', 'delete (default: dry run, print what would be deleted)')
    .option(
      '--force',
      'skip the check for running executions (their temp tags are in use: only for a state machine that is gone)',
    )
    .option(
      '--state-machine-arn <arn>',
      `the backfill state machine whose running executions are spared (or ${STATE_MACHINE_ARN_ENV})`,
    )
    .option(
      '--stack-name <name>',
      `the deployed stack holding it (or ${STACK_NAME_ENV}; default ${DEFAULT_STACK_NAME})`,
    )
    .option(
      '--ecr-endpoint <url>',
      'ECR endpoint (e.g. the local emulator, http://127.0.0.1:4599)',
      parseEndpointUrl,
    )
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nAn image never loses its last tag: a temp tag that is the only tag left is kept and reported.\n' +
        'The temp tags of a run still RUNNING are never deleted: --run refuses such a run, --older-than keeps\n' +
        'its temp tags (ListExecutions of the state machine; --force skips that check).\n' +
        'ECR keeps no per-tag time, so --older-than compares the image push time (imagePushedAt).\n' +
        'Exit codes: 0 done (or dry run); 1 a registry could not be read or a delete failed; 2 bad arguments.',
    );
  addAwsOptions(command).action(async (options: CleanupOptions) =>
    runCommand(command, async (context) => {
      if ((options.run === undefined) === (options.olderThan === undefined)) {
        throw new CliError(
          'Choose the temp tags to clean: --run <id> or --older-than <duration> (one of them).',
          {
            exitCode: EXIT_CODES.usage,
          },
        );
      }
      // The same rules as the run input's tempTagPrefix: a short or release-shaped prefix could
      // match tags users pull, and cleanup deletes what it matches.
      const prefix = ExecutionInputSchema.shape.tempTagPrefix.safeParse(options.tempTagPrefix);
      if (!prefix.success) {
        throw new CliError(
          `--temp-tag-prefix ${JSON.stringify(options.tempTagPrefix)}: ${prefix.error.issues
            .map((issue) => issue.message)
            .join('; ')}`,
          { exitCode: EXIT_CODES.usage, hints: ['Use the prefix the run used (default ecr-backfill-).'] },
        );
      }
      // The run input's rules for repository patterns (characters, length, wildcards per pattern).
      const badPatterns = (options.repository ?? []).flatMap((pattern) => {
        const parsed = repositoryPatternSchema.safeParse(pattern);
        return parsed.success
          ? []
          : [
              `--repository ${JSON.stringify(pattern)}: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
            ];
      });
      if (badPatterns.length > 0) {
        throw new CliError(badPatterns.join('\n'), { exitCode: EXIT_CODES.usage });
      }
      let pushedBefore: number | undefined;
      if (options.olderThan !== undefined) {
        try {
          pushedBefore = context.clock.now() - parseDuration(options.olderThan);
        } catch (error) {
          throw new CliError(`--older-than: ${error instanceof Error ? error.message : String(error)}`, {
            exitCode: EXIT_CODES.usage,
          });
        }
      }
      const runId = options.run !== undefined ? runIdFromRunOption(options.run) : undefined;
      const aws = {
        ...awsOptionsOf(options),
        ...(options.ecrEndpoint ? { endpoint: options.ecrEndpoint } : {}),
      };
      let region: string;
      try {
        region = await resolveRegion(aws);
      } catch (error) {
        throw explainAwsError(error, 'Finding the source Region');
      }
      // A running run's temp tags hold its images until its own cleanup (running-runs.ts).
      let spared: { runId: string; reason: string }[] = [];
      if (options.force !== true) {
        const running = await runsStillGoing(context, aws, region, options);
        const mine = runId === undefined ? undefined : running.find((r) => r.runId === runId);
        if (mine) {
          throw new CliError(
            `Run ${mine.runId} is still RUNNING (${mine.executionArn}): its temp tags are in use. Nothing was read or deleted.`,
            {
              hints: [
                'Clean up after it ends (a successful run removes its own temp tags),',
                'or stop it first: aws stepfunctions stop-execution --execution-arn <arn>.',
              ],
            },
          );
        }
        spared = running.map((r) => ({
          runId: r.runId,
          reason: `its run is still RUNNING (${r.executionName})`,
        }));
      }
      const ecr = context.ecr(aws);
      let registry;
      try {
        registry = await ecr({ region }).send(new DescribeRegistryCommand({}));
      } catch (error) {
        throw explainAwsError(error, `Reading the registry in ${region}`, {
          permission: 'ecr:DescribeRegistry',
          ...(options.ecrEndpoint ? { endpoint: options.ecrEndpoint } : {}),
        });
      }
      const registries = registriesToClean(
        { region, registryId: registry.registryId ?? '' },
        registry.replicationConfiguration?.rules ?? [],
        options.destination,
      );

      const out = options.json ? context.stderr : context.stdout;
      const apply = options.yes === true;
      out.write(
        `${apply ? 'Deleting' : 'Dry run: looking for'} temp tags ${runId ? `of run ${runId}` : `older than ${options.olderThan}`} ` +
          `(prefix ${options.tempTagPrefix}) in ${registries.map(registryLabel).join(', ')}\n`,
      );
      const result = await cleanupTempTags(
        ecr,
        registries,
        {
          tempTagPrefix: options.tempTagPrefix,
          repositories: options.repository ?? [],
          ...(runId !== undefined ? { runId } : {}),
          ...(pushedBefore !== undefined ? { pushedBefore } : {}),
          spared,
        },
        { apply },
      );

      const count = (action: CleanupEntry['action']) =>
        result.entries.filter((e) => e.action === action).length;
      if (options.json) {
        writeJson(context, {
          dryRun: !apply,
          ...(runId ? { runId } : {}),
          entries: result.entries.map((e) => ({
            registryId: e.registry.registryId,
            region: e.registry.region,
            role: e.registry.role,
            repositoryName: e.repositoryName,
            imageDigest: e.imageDigest,
            tag: e.tag,
            action: e.action,
            ...(e.reason ? { reason: e.reason } : {}),
          })),
          problems: result.problems.map((p) => ({
            registryId: p.registry.registryId,
            region: p.registry.region,
            message: p.message,
          })),
        });
      } else {
        if (result.entries.length > 0) {
          out.write(
            renderTable(
              ['Registry', 'Repository', 'Digest', 'Temp tag', 'Action', 'Why'],
              result.entries.map((e) => [
                registryLabel(e.registry),
                e.repositoryName,
                e.imageDigest.slice(0, 19),
                e.tag,
                ACTION_TEXT[e.action],
                e.reason ?? '',
              ]),
            ),
          );
        }
        const summary = apply
          ? `${count('deleted')} temp tag(s) deleted, ${count('kept')} kept, ${count('failed')} failed.`
          : `${count('would-delete')} temp tag(s) would be deleted, ${count('kept')} kept. Nothing was deleted: run again with --yes to delete.`;
        out.write(`${result.entries.length === 0 ? 'No temp tags found. ' : ''}${summary}\n`);
      }
      for (const problem of result.problems) {
        context.stderr.write(
          `ecr-backfill: could not clean ${registryLabel(problem.registry)}: ${problem.message}\n` +
            (problem.message.startsWith('AccessDenied')
              ? '  A destination in another account needs a role: --destination <account>:<region>:<roleArn>.\n'
              : ''),
        );
      }
      return result.problems.length > 0 || count('failed') > 0 ? EXIT_CODES.error : EXIT_CODES.ok;
    }),
  );
}
