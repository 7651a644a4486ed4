/**
 * Command-line flags that mirror the execution input schema (core/contracts/input-schema.ts),
 * and their translation into the raw input object that `start` sends and `plan` plans.
 *
 * Flags only produce the raw shape; the schema alone decides what is valid, so the console, the
 * CLI and the Plan Lambda reject exactly the same inputs with the same messages. Flags that are
 * not given are left out, so the deploy-time defaults still apply to them.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { METHODS, STRATEGIES } from '../../core/contracts/contracts.ts';
import { DEFAULTS } from '../../core/contracts/input-schema.ts';
import type { ExecutionInput } from '../../core/contracts/execution-input.ts';
import type { CliContext } from '../kit/context.ts';
import { CliError } from '../kit/errors.ts';
import { EXIT_CODES } from '../kit/exit-codes.ts';

/** A repeatable flag: each occurrence adds its value. */
const collect = (value: string, previous: unknown): string[] => [
  ...(Array.isArray(previous) ? (previous as string[]) : []),
  value,
];

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

/** How one execution input field is given on the command line. */
interface InputFlag {
  /** Commander's flag spelling, e.g. `--batch-size <n>`. */
  flags: string;
  description: string;
  /** Turns each occurrence into the flag's value (repeatable flags collect). */
  parse?: (value: string, previous: unknown) => unknown;
  /** Selection (what to backfill) or run (how to backfill); `plan` and `start` take both. */
  group: 'selection' | 'run';
}

const defaultNote = (value: unknown) => `(default: ${String(value)})`;

/** `all`, `none`, or a comma-separated list of artifact types (the schema validates each). */
const parseReferrersFlag = (value: string): string | string[] =>
  value === 'all' || value === 'none'
    ? value
    : value
        .split(',')
        .map((type) => type.trim())
        .filter((type) => type.length > 0);

/**
 * One flag per execution input field, keyed by the field: `satisfies` makes a field added to the
 * schema (ExecutionInputSchema) without a flag a type error, and a flag for no field one too. The
 * defaults shown are the schema's own (DEFAULTS). The order is the order of `--help`.
 */
const INPUT_FLAGS = {
  destinations: {
    flags: '--destination <dest>',
    description:
      'destination: <region>, <account>:<region> or <account>:<region>:<roleArn> (repeatable; default: every replication destination)',
    parse: collect,
    group: 'selection',
  },
  repositories: {
    flags: '--repository <pattern>',
    description: 'repository prefix, or glob with * ? (repeatable; default: all)',
    parse: collect,
    group: 'selection',
  },
  tags: {
    flags: '--tag <pattern>',
    description: 'tag glob to include (repeatable; default: all)',
    parse: collect,
    group: 'selection',
  },
  excludeTags: {
    flags: '--exclude-tag <pattern>',
    description: 'tag glob to exclude (repeatable)',
    parse: collect,
    group: 'selection',
  },
  pushedAfter: {
    flags: '--pushed-after <date>',
    description: 'only images pushed at or after this ISO-8601 date or date-time',
    group: 'selection',
  },
  latestPerRepository: {
    flags: '--latest <n>',
    description: 'only the n most recently pushed images per repository',
    parse: parseNumberFlag,
    group: 'selection',
  },
  includeUntagged: {
    flags: '--include-untagged',
    description: 'also backfill untagged images (they keep a marker tag)',
    group: 'selection',
  },
  referrers: {
    flags: '--referrers <all|none|types>',
    description:
      'referrers copied with their image: all, none, or comma-separated artifact types (default: all)',
    parse: parseReferrersFlag,
    group: 'selection',
  },
  includeArchived: {
    flags: '--include-archived',
    description: 'also backfill archived images (re-pushing restores them)',
    group: 'selection',
  },
  tempTagPrefix: {
    flags: '--temp-tag-prefix <prefix>',
    description: `prefix of the temporary tags ${defaultNote(DEFAULTS.tempTagPrefix)}`,
    group: 'selection',
  },
  strategy: {
    flags: '--strategy <strategy>',
    description: `${STRATEGIES.join(' | ')} ${defaultNote(DEFAULTS.strategy)}`,
    group: 'run',
  },
  method: {
    flags: '--method <method>',
    description: `${METHODS.join(' | ')} ${defaultNote(DEFAULTS.method)}`,
    group: 'run',
  },
  dryRun: { flags: '--dry-run', description: 'plan only: write nothing to ECR', group: 'run' },
  maxConcurrency: {
    flags: '--max-concurrency <n>',
    description: 'concurrent child workflows (default: sized to the PutImage quota)',
    parse: parseNumberFlag,
    group: 'run',
  },
  batchSize: {
    flags: '--batch-size <n>',
    description: `images per child workflow ${defaultNote(DEFAULTS.batchSize)}`,
    parse: parseNumberFlag,
    group: 'run',
  },
  toleratedFailurePercentage: {
    flags: '--tolerated-failure-percentage <p>',
    description: `share of failed batches tolerated ${defaultNote(DEFAULTS.toleratedFailurePercentage)}`,
    parse: parseNumberFlag,
    group: 'run',
  },
  replicationTimeoutMinutes: {
    flags: '--replication-timeout-minutes <n>',
    description: `how long to wait for replication ${defaultNote(DEFAULTS.replicationTimeoutMinutes)}`,
    parse: parseNumberFlag,
    group: 'run',
  },
  replicationWaitSeconds: {
    flags: '--replication-wait-seconds <n>',
    description: `wait before the first replication check ${defaultNote(DEFAULTS.replicationWaitSeconds)}`,
    parse: parseNumberFlag,
    group: 'run',
  },
  overwriteConflicts: {
    flags: '--overwrite-conflicts',
    description: 'move destination tags that point to another digest (default: report CONFLICT)',
    group: 'run',
  },
  planSliceSize: {
    flags: '--plan-slice-size <n>',
    description: `repositories per planning slice ${defaultNote(DEFAULTS.planSliceSize)}`,
    parse: parseNumberFlag,
    group: 'run',
  },
} satisfies Record<keyof ExecutionInput, InputFlag>;

type InputField = keyof typeof INPUT_FLAGS;
const INPUT_FIELDS = Object.keys(INPUT_FLAGS) as InputField[];

/** The option name commander stores a flag's value under (`--exclude-tag` → `excludeTag`). */
export function flagAttribute(field: InputField): string {
  return new Option(INPUT_FLAGS[field].flags).attributeName();
}

/** The flag that sets each execution input field, for help texts and tests. */
export function inputFlagOf(field: InputField): string {
  return INPUT_FLAGS[field].flags;
}

/** What commander parsed from the input flags: `--input`, and one value per flag given. */
export type InputFlagValues = { input?: string } & Record<string, unknown>;

function addInputFlags(command: Command, group: InputFlag['group']): Command {
  for (const field of INPUT_FIELDS) {
    const flag: InputFlag = INPUT_FLAGS[field];
    if (flag.group !== group) continue;
    if (flag.parse) command.option<unknown>(flag.flags, flag.description, flag.parse);
    else command.option(flag.flags, flag.description);
  }
  return command;
}

/**
 * Adds the selection flags (what to backfill), shared by `start`, `plan` and the rig's `local` and
 * `demo`. `defaultInput`, when a command runs some input without --input, is shown in its help.
 */
export function addSelectionFlags(command: Command, defaultInput?: Record<string, unknown>): Command {
  const fallback = defaultInput === undefined ? '' : ` (default: ${JSON.stringify(defaultInput)})`;
  return addInputFlags(command, 'selection').option(
    '--input <json|@file>',
    `execution input as JSON, or @path to a JSON file; flags override its keys${fallback}`,
  );
}

/** Adds the flags that shape the run (how to backfill), used by `start` (and accepted by `plan`). */
export function addRunFlags(command: Command): Command {
  return addInputFlags(command, 'run');
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

/** `--destination` values as input destinations; a malformed one is a usage error. */
function destinationsOf(specs: readonly string[]): unknown[] {
  try {
    return specs.map(parseDestinationFlag);
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), {
      exitCode: EXIT_CODES.usage,
    });
  }
}

/** The raw execution input: `--input` (else `defaultInput`, else `{}`) with the given flags on top. */
export async function inputFromFlags(
  context: CliContext,
  flags: InputFlagValues,
  defaultInput: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const base = flags.input !== undefined ? await readInputOption(context, flags.input) : defaultInput;
  const given: Record<string, unknown> = {};
  for (const field of INPUT_FIELDS) {
    const value = flags[flagAttribute(field)];
    if (value !== undefined)
      given[field] = field === 'destinations' ? destinationsOf(value as string[]) : value;
  }
  return { ...base, ...given };
}
