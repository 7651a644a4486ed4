/**
 * Command-line flags that mirror the execution input schema (functions/contracts/input-schema.ts),
 * and their translation into the raw input object that `start` sends and `plan` plans.
 *
 * Flags only produce the raw shape; the schema alone decides what is valid, so the console, the
 * CLI and the Plan Lambda reject exactly the same inputs with the same messages. Flags that are
 * not given are left out, so the deploy-time defaults still apply to them.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { METHODS, STRATEGIES } from '../../functions/contracts/contracts.ts';
import type { CliContext } from './context.ts';
import { CliError } from './errors.ts';
import { EXIT_CODES } from './exit-codes.ts';

export interface InputFlagValues {
  input?: string;
  destination?: string[];
  repository?: string[];
  tag?: string[];
  excludeTag?: string[];
  pushedAfter?: string;
  latest?: number;
  includeUntagged?: boolean;
  includeArchived?: boolean;
  strategy?: string;
  method?: string;
  dryRun?: boolean;
  maxConcurrency?: number;
  batchSize?: number;
  toleratedFailurePercentage?: number;
  replicationTimeoutMinutes?: number;
  replicationWaitSeconds?: number;
  tempTagPrefix?: string;
  overwriteConflicts?: boolean;
  planSliceSize?: number;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function parseNumberFlag(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) throw new InvalidArgumentError('expected a number.');
  return number;
}

/** A destination flag: `region`, `account:region` or `account:region:roleArn`. */
export function parseDestinationFlag(
  spec: string,
): string | { region: string; registryId: string; roleArn?: string } {
  const parts = spec.split(':');
  if (parts.length === 1) return spec;
  const [registryId = '', region = '', ...rest] = parts;
  const roleArn = rest.join(':');
  if (!/^\d{12}$/.test(registryId) || region === '' || (rest.length > 0 && !roleArn.startsWith('arn:'))) {
    throw new InvalidArgumentError(
      `"${spec}" is not a destination: use <region>, <account>:<region> or <account>:<region>:<roleArn>.`,
    );
  }
  return roleArn ? { region, registryId, roleArn } : { region, registryId };
}

/** Adds the selection flags (what to backfill), shared by `start` and `plan`. */
export function addSelectionFlags(command: Command): Command {
  return command
    .option(
      '--destination <dest>',
      'destination: <region>, <account>:<region> or <account>:<region>:<roleArn> (repeatable; default: every replication destination)',
      collect,
    )
    .option(
      '--repository <pattern>',
      'repository prefix, or glob with * ? (repeatable; default: all)',
      collect,
    )
    .option('--tag <pattern>', 'tag glob to include (repeatable; default: all)', collect)
    .option('--exclude-tag <pattern>', 'tag glob to exclude (repeatable)', collect)
    .option('--pushed-after <date>', 'only images pushed at or after this ISO-8601 date or date-time')
    .option('--latest <n>', 'only the n most recently pushed images per repository', parseNumberFlag)
    .option('--include-untagged', 'also backfill untagged images (they keep a marker tag)')
    .option('--include-archived', 'also backfill archived images (re-pushing restores them)')
    .option('--temp-tag-prefix <prefix>', 'prefix of the temporary tags (default: ecr-backfill-)')
    .option(
      '--input <json|@file>',
      'execution input as JSON, or @path to a JSON file; flags override its keys',
    );
}

/** Adds the flags that shape the run (how to backfill), used by `start` (and accepted by `plan`). */
export function addRunFlags(command: Command): Command {
  return command
    .option(`--strategy <strategy>`, `${STRATEGIES.join(' | ')} (default: promote)`)
    .option(`--method <method>`, `${METHODS.join(' | ')} (default: repush)`)
    .option('--dry-run', 'plan only: write nothing to ECR')
    .option(
      '--max-concurrency <n>',
      'concurrent child workflows (default: sized to the PutImage quota)',
      parseNumberFlag,
    )
    .option('--batch-size <n>', 'images per child workflow (default: 20)', parseNumberFlag)
    .option(
      '--tolerated-failure-percentage <p>',
      'share of failed batches tolerated (default: 0)',
      parseNumberFlag,
    )
    .option(
      '--replication-timeout-minutes <n>',
      'how long to wait for replication (default: 30)',
      parseNumberFlag,
    )
    .option(
      '--replication-wait-seconds <n>',
      'wait before the first replication check (default: 30)',
      parseNumberFlag,
    )
    .option(
      '--overwrite-conflicts',
      'move destination tags that point to another digest (default: report CONFLICT)',
    )
    .option('--plan-slice-size <n>', 'repositories per planning slice (default: 100)', parseNumberFlag);
}

/** Reads `--input`: inline JSON, or `@path` to a file holding it. */
export async function readInputOption(context: CliContext, value: string): Promise<Record<string, unknown>> {
  let text = value;
  if (value.startsWith('@')) {
    const path = value.slice(1);
    try {
      text = await context.readTextFile(path);
    } catch (error) {
      throw new CliError(
        `Cannot read the input file ${path}: ${error instanceof Error ? error.message : String(error)}`,
        {
          exitCode: EXIT_CODES.usage,
        },
      );
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(
      `--input is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      {
        exitCode: EXIT_CODES.usage,
        hints: ['Quote it for your shell, e.g. --input \'{"dryRun": true}\', or pass @input.json.'],
      },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError('--input must be a JSON object, such as {} or {"destinations": ["ap-northeast-2"]}.', {
      exitCode: EXIT_CODES.usage,
    });
  }
  return parsed as Record<string, unknown>;
}

/** The raw execution input: `--input` (if any) with the given flags on top. */
export async function inputFromFlags(
  context: CliContext,
  flags: InputFlagValues,
): Promise<Record<string, unknown>> {
  const base = flags.input !== undefined ? await readInputOption(context, flags.input) : {};
  let destinations: unknown[] | undefined;
  try {
    destinations = flags.destination?.map(parseDestinationFlag);
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), {
      exitCode: EXIT_CODES.usage,
    });
  }
  const fromFlags: Record<string, unknown> = {
    destinations,
    repositories: flags.repository,
    tags: flags.tag,
    excludeTags: flags.excludeTag,
    pushedAfter: flags.pushedAfter,
    latestPerRepository: flags.latest,
    includeUntagged: flags.includeUntagged,
    includeArchived: flags.includeArchived,
    strategy: flags.strategy,
    method: flags.method,
    dryRun: flags.dryRun,
    maxConcurrency: flags.maxConcurrency,
    batchSize: flags.batchSize,
    toleratedFailurePercentage: flags.toleratedFailurePercentage,
    replicationTimeoutMinutes: flags.replicationTimeoutMinutes,
    replicationWaitSeconds: flags.replicationWaitSeconds,
    tempTagPrefix: flags.tempTagPrefix,
    overwriteConflicts: flags.overwriteConflicts,
    planSliceSize: flags.planSliceSize,
  };
  const given = Object.fromEntries(Object.entries(fromFlags).filter(([, value]) => value !== undefined));
  return { ...base, ...given };
}
