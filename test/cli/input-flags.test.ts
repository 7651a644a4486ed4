/**
 * The execution input is declared once, in ExecutionInputSchema; the CLI flags and the run config
 * follow it. These prove that every field can be set from the command line (and lands under its
 * own name, valid for the schema), that the defaults `--help` shows are the schema's, and that the
 * resolved input and RunConfig, what later steps read, have exactly the same fields.
 */
import { Command } from 'commander';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  addRunFlags,
  addSelectionFlags,
  inputFlagOf,
  inputFromFlags,
  type InputFlagValues,
} from '../../cli/input/input-flags.ts';
import { defaultCliContext } from '../../cli/kit/context.ts';
import { RunConfigSchema, type RunConfig } from '../../core/contracts/contracts.ts';
import {
  DEFAULTS,
  EXECUTION_INPUT_KEYS,
  parseExecutionInput,
  type ResolvedInput,
} from '../../core/contracts/input-schema.ts';
import type { ExecutionInput } from '../../core/contracts/execution-input.ts';

/** A valid value for every field, as command-line words (a new field must get one: the type says so). */
const SAMPLE_FLAG_VALUES: Record<keyof ExecutionInput, string[]> = {
  destinations: ['ap-northeast-2', '111122223333:eu-west-1'],
  repositories: ['team/*', 'base'],
  tags: ['v*'],
  excludeTags: ['*-rc'],
  pushedAfter: ['2024-01-31'],
  latestPerRepository: ['5'],
  includeUntagged: [],
  referrers: ['application/vnd.cncf.notary.signature, application/spdx+json'],
  includeArchived: [],
  strategy: ['retag-source'],
  method: ['repush'],
  dryRun: [],
  maxConcurrency: ['7'],
  batchSize: ['10'],
  toleratedFailurePercentage: ['5'],
  replicationTimeoutMinutes: ['45'],
  replicationWaitSeconds: ['15'],
  tempTagPrefix: ['my-backfill-'],
  overwriteConflicts: [],
  planSliceSize: ['50'],
};

function inputCommand(): Command {
  const command = new Command('start').exitOverride();
  addSelectionFlags(command);
  addRunFlags(command);
  return command;
}

function argvFor(fields: (keyof ExecutionInput)[]): string[] {
  return fields.flatMap((field) => {
    const flag = inputFlagOf(field).split(' ')[0]!;
    const values = SAMPLE_FLAG_VALUES[field];
    return values.length === 0 ? [flag] : values.flatMap((value) => [flag, value]);
  });
}

async function inputFrom(argv: string[]): Promise<Record<string, unknown>> {
  const command = inputCommand();
  command.parse(argv, { from: 'user' });
  return inputFromFlags(defaultCliContext(), command.opts<InputFlagValues>());
}

describe('the CLI flags follow the execution input schema', () => {
  it('sets every field of the schema, under its own name, to a value the schema accepts', async () => {
    const input = await inputFrom(argvFor(EXECUTION_INPUT_KEYS));

    expect(Object.keys(input).sort()).toEqual([...EXECUTION_INPUT_KEYS].sort());
    expect(input).toMatchObject({
      destinations: ['ap-northeast-2', { region: 'eu-west-1', registryId: '111122223333' }],
      repositories: ['team/*', 'base'],
      latestPerRepository: 5,
      includeUntagged: true,
      referrers: ['application/vnd.cncf.notary.signature', 'application/spdx+json'],
      batchSize: 10,
    });
    expect(() => parseExecutionInput(input, { sourceRegion: 'us-east-1' })).not.toThrow();
  });

  it('leaves out the flags not given, so deploy-time defaults still apply', async () => {
    expect(await inputFrom(argvFor(['batchSize']))).toEqual({ batchSize: 10 });
    expect(await inputFrom([])).toEqual({});
  });

  it("shows the schema's defaults in --help", () => {
    const help = inputCommand().configureHelp({ helpWidth: 400 }).helpInformation();
    for (const field of ['strategy', 'method', 'batchSize', 'planSliceSize', 'tempTagPrefix'] as const) {
      const line = help.split('\n').find((text) => text.trimStart().startsWith(inputFlagOf(field)));
      expect(line, field).toContain(`(default: ${String(DEFAULTS[field])})`);
    }
  });
});

describe('the resolved input is the run config', () => {
  it('has exactly the fields RunConfig has (a field missing from RunConfigSchema would be dropped)', () => {
    expectTypeOf<keyof Required<ResolvedInput>>().toEqualTypeOf<keyof RunConfig>();
    const resolved = parseExecutionInput(
      { pushedAfter: '2024-01-31', latestPerRepository: 3 },
      { sourceRegion: 'us-east-1', sourceRegistryId: '111122223333' },
    );
    expect(Object.keys(resolved).sort()).toEqual(Object.keys(RunConfigSchema.shape).sort());
  });

  it('resolving {} keeps every default the schema declares (their values are pinned in input-schema.test.ts)', () => {
    const resolved = parseExecutionInput({}, { sourceRegion: 'us-east-1' });
    expect(resolved).toMatchObject(DEFAULTS);
    expect(Object.keys(DEFAULTS).length).toBeGreaterThan(0);
  });
});
