import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../core/errors/errors.ts';
import {
  defaultMaxConcurrency,
  executionInputJsonSchema,
  EXECUTION_INPUT_KEYS,
  MAX_TEMP_TAG_PREFIX_LENGTH,
  parseExecutionInput,
  type ParseOptions,
} from '../../../core/contracts/input-schema.ts';

const OPTIONS: ParseOptions = { sourceRegion: 'ap-south-1', sourceRegistryId: '111122223333' };

/** The problems an input is rejected with (fails the test when the input is accepted). */
function problemsOf(raw: unknown, options: ParseOptions = OPTIONS): string[] {
  try {
    parseExecutionInput(raw, options);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).name).toBe('InvalidInput');
    return (error as InvalidInputError).problems;
  }
  throw new Error(`input was accepted: ${JSON.stringify(raw)}`);
}

/** One wrong value per input field, and the problem it must produce. */
const INVALID_FIELD_CASES: [string, unknown, string][] = [
  ['destinations', 'ap-northeast-2', 'destinations: must be an array (got "ap-northeast-2")'],
  ['repositories', 'team/*', 'repositories: must be an array (got "team/*")'],
  ['tags', [1], 'tags[0]: must be a string (got 1)'],
  ['excludeTags', {}, 'excludeTags: must be an array (got {})'],
  ['pushedAfter', 1700000000, 'pushedAfter: must be a string (got 1700000000)'],
  ['latestPerRepository', 100_001, 'latestPerRepository: must be ≤ 100000 (got 100001)'],
  ['includeUntagged', 'true', 'includeUntagged: must be a boolean (got "true")'],
  ['includeArchived', 1, 'includeArchived: must be a boolean (got 1)'],
  ['referrers', 'some', 'referrers: must be one of "all", "none" (got "some"; did you mean "none"?)'],
  [
    'strategy',
    'promote ',
    'strategy: must be one of "promote", "retag-source" (got "promote "; did you mean "promote"?)',
  ],
  [
    'method',
    'REPUSH',
    'method: must be one of "repush", "native", "auto" (got "REPUSH"; did you mean "repush"?)',
  ],
  ['dryRun', null, 'dryRun: must be a boolean (got null)'],
  ['maxConcurrency', 10_001, 'maxConcurrency: must be ≤ 10000 (got 10001)'],
  ['batchSize', '20', 'batchSize: must be a number (got "20")'],
  ['toleratedFailurePercentage', -1, 'toleratedFailurePercentage: must be ≥ 0 (got -1)'],
  ['replicationTimeoutMinutes', 361, 'replicationTimeoutMinutes: must be ≤ 360 (got 361)'],
  ['replicationWaitSeconds', 3601, 'replicationWaitSeconds: must be ≤ 3600 (got 3601)'],
  ['tempTagPrefix', 7, 'tempTagPrefix: must be a string (got 7)'],
  ['overwriteConflicts', 'no', 'overwriteConflicts: must be a boolean (got "no")'],
  ['planSliceSize', 0, 'planSliceSize: must be ≥ 1 (got 0)'],
];

describe('parseExecutionInput: defaults', () => {
  it('accepts {} and resolves every default', () => {
    const resolved = parseExecutionInput({}, OPTIONS);

    expect(resolved).toEqual({
      sourceRegion: 'ap-south-1',
      sourceRegistryId: '111122223333',
      destinations: [],
      repositories: [],
      tags: [],
      excludeTags: [],
      includeUntagged: false,
      referrers: 'all',
      includeArchived: false,
      strategy: 'promote',
      method: 'auto',
      dryRun: false,
      maxConcurrency: 12,
      batchSize: 50,
      toleratedFailurePercentage: 0,
      replicationTimeoutMinutes: 30,
      replicationWaitSeconds: 30,
      tempTagPrefix: 'ecr-backfill-',
      overwriteConflicts: false,
      planSliceSize: 100,
    });
  });

  it('treats a missing input (null or undefined) like {}', () => {
    expect(parseExecutionInput(undefined, OPTIONS).batchSize).toBe(50);
    expect(parseExecutionInput(null, OPTIONS).strategy).toBe('promote');
  });

  it('derives maxConcurrency from the PutImage quota, replication latency and batch size', () => {
    expect(defaultMaxConcurrency(20)).toBe(30);
    expect(parseExecutionInput({ batchSize: 7 }, OPTIONS).maxConcurrency).toBe(Math.ceil(600 / 7));
    expect(parseExecutionInput({ batchSize: 100 }, OPTIONS).maxConcurrency).toBe(6);
    expect(parseExecutionInput({ batchSize: 1, maxConcurrency: 5 }, OPTIONS).maxConcurrency).toBe(5);
  });

  it('merges the deploy-time default input under the execution input', () => {
    const resolved = parseExecutionInput(
      { batchSize: 10 },
      { ...OPTIONS, defaultInput: { batchSize: 50, strategy: 'retag-source', tags: ['v*'] } },
    );

    expect(resolved.batchSize).toBe(10);
    expect(resolved.strategy).toBe('retag-source');
    expect(resolved.tags).toEqual(['v*']);
  });
});

describe('parseExecutionInput: accepted values', () => {
  it('normalizes destination shorthands and keeps registry and role', () => {
    const resolved = parseExecutionInput(
      {
        destinations: [
          'ap-northeast-2',
          {
            region: 'eu-west-1',
            registryId: '444455556666',
            roleArn: 'arn:aws:iam::444455556666:role/Backfill',
          },
          { region: 'us-gov-west-1' },
        ],
      },
      OPTIONS,
    );

    expect(resolved.destinations).toEqual([
      { region: 'ap-northeast-2' },
      { region: 'eu-west-1', registryId: '444455556666', roleArn: 'arn:aws:iam::444455556666:role/Backfill' },
      { region: 'us-gov-west-1' },
    ]);
  });

  it('accepts a date or an offset date-time for pushedAfter and stores it as UTC ISO-8601', () => {
    expect(parseExecutionInput({ pushedAfter: '2024-01-31' }, OPTIONS).pushedAfter).toBe(
      '2024-01-31T00:00:00.000Z',
    );
    expect(parseExecutionInput({ pushedAfter: '2024-01-31T12:00:00+02:00' }, OPTIONS).pushedAfter).toBe(
      '2024-01-31T10:00:00.000Z',
    );
  });

  it('rejects a well-formed but impossible date', () => {
    expect(problemsOf({ pushedAfter: '2024-02-30' })).toEqual([
      'pushedAfter: is not a valid calendar date (got "2024-02-30")',
    ]);
  });

  it('accepts every documented field at its bounds', () => {
    const resolved = parseExecutionInput(
      {
        repositories: ['team/*', 'base', 'a?c'],
        tags: ['v*', 'latest'],
        excludeTags: ['*-rc*'],
        latestPerRepository: 1,
        includeUntagged: true,
        includeArchived: true,
        strategy: 'retag-source',
        method: 'auto',
        dryRun: true,
        maxConcurrency: 10_000,
        batchSize: 100,
        toleratedFailurePercentage: 12.5,
        replicationTimeoutMinutes: 360,
        replicationWaitSeconds: 0,
        tempTagPrefix: 'zz_tmp.',
        overwriteConflicts: true,
        planSliceSize: 1000,
      },
      OPTIONS,
    );

    expect(resolved).toMatchObject({
      latestPerRepository: 1,
      maxConcurrency: 10_000,
      method: 'auto',
      tempTagPrefix: 'zz_tmp.',
      toleratedFailurePercentage: 12.5,
    });
  });
});

describe('parseExecutionInput: every problem named at once', () => {
  it('reports each invalid field with its path and the value it got', () => {
    const problems = problemsOf({
      batchSize: 500,
      maxConcurrency: 2.5,
      dryRun: 'yes',
      strategy: 'fast',
      pushedAfter: 'yesterday',
      toleratedFailurePercentage: 101,
      replicationTimeoutMinutes: 0,
      planSliceSize: 1001,
      latestPerRepository: 0,
    });

    expect(problems).toEqual(
      expect.arrayContaining([
        'batchSize: must be ≤ 100 (got 500)',
        'maxConcurrency: must be an integer (got 2.5)',
        'dryRun: must be a boolean (got "yes")',
        'strategy: must be one of "promote", "retag-source" (got "fast")',
        expect.stringMatching(/^pushedAfter: must be an ISO-8601 date .*\(got "yesterday"\)$/),
        'toleratedFailurePercentage: must be ≤ 100 (got 101)',
        'replicationTimeoutMinutes: must be ≥ 1 (got 0)',
        'planSliceSize: must be ≤ 1000 (got 1001)',
        'latestPerRepository: must be ≥ 1 (got 0)',
      ]),
    );
    expect(problems).toHaveLength(9);
  });

  it.each(INVALID_FIELD_CASES)('names %s when it is invalid', (field, value, message) => {
    expect(problemsOf({ [field]: value })).toContain(message);
  });

  it('has an invalid-value case for every field of the input', () => {
    expect(INVALID_FIELD_CASES.map(([field]) => field).sort()).toEqual([...EXECUTION_INPUT_KEYS].sort());
  });

  it('puts every problem in the error message, in one InvalidInput error', () => {
    let caught: unknown;
    try {
      parseExecutionInput({ batchSize: 0, method: 'x' }, OPTIONS);
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(InvalidInputError);
    expect((caught as Error).message).toContain('batchSize: must be ≥ 1 (got 0)');
    expect((caught as Error).message).toContain(
      'method: must be one of "repush", "native", "auto" (got "x")',
    );
  });

  it('rejects unknown keys, suggesting the closest known key for a typo', () => {
    const problems = problemsOf({ batchsize: 10, destination: ['ap-northeast-2'], colour: 'blue' });

    expect(problems).toContain('batchsize: unknown key (did you mean "batchSize"?)');
    expect(problems).toContain('destination: unknown key (did you mean "destinations"?)');
    expect(problems).toContainEqual(
      expect.stringMatching(/^colour: unknown key \(known keys: destinations, /),
    );
  });

  it('rejects unknown keys inside a destination', () => {
    expect(problemsOf({ destinations: [{ region: 'eu-west-1', regsitryId: '444455556666' }] })).toEqual([
      'destinations[0].regsitryId: unknown key (did you mean "registryId"?)',
    ]);
  });

  it('rejects a non-object input', () => {
    expect(problemsOf(['ap-northeast-2'])).toEqual([
      'input: must be a JSON object such as {} or {"destinations": ["ap-northeast-2"]} (got ["ap-northeast-2"])',
    ]);
    expect(problemsOf('{}')).toHaveLength(1);
  });

  it('validates Region syntax, account ids and role ARNs in destinations', () => {
    const problems = problemsOf({
      destinations: [
        'ap-northeast',
        { region: 'EU-WEST-1' },
        { region: 'eu-west-1', registryId: '1234' },
        { region: 'eu-west-2', roleArn: 'arn:aws:iam::444455556666:user/Bob' },
        42,
      ],
    });

    expect(problems).toEqual([
      'destinations[0]: must be an AWS Region code such as ap-northeast-2 (got "ap-northeast")',
      'destinations[1].region: must be an AWS Region code such as ap-northeast-2 (got "EU-WEST-1")',
      'destinations[2].registryId: must be a 12-digit AWS account id (got "1234")',
      expect.stringMatching(
        /^destinations\[3\]\.roleArn: must be an IAM role ARN .*\(got "arn:aws:iam::444455556666:user\/Bob"\)$/,
      ),
      'destinations[4]: must be a Region string or an object {region, registryId?, roleArn?} (got 42)',
    ]);
  });

  it('rejects duplicate destinations and the source registry itself', () => {
    const problems = problemsOf({
      destinations: [
        'ap-northeast-2',
        { region: 'ap-northeast-2' },
        { region: 'ap-south-1', registryId: '111122223333' },
      ],
    });

    expect(problems).toEqual([
      'destinations[1]: duplicates destinations[0] (ap-northeast-2)',
      'destinations[2]: is the source registry itself (ap-south-1 (111122223333)); a destination must be another Region or account',
    ]);
  });

  it('caps list lengths and pattern lengths', () => {
    const problems = problemsOf({
      destinations: Array.from({ length: 26 }, (_, i) => `eu-west-${i}`),
      repositories: Array.from({ length: 101 }, () => 'a'),
      tags: ['x'.repeat(257)],
      excludeTags: Array.from({ length: 101 }, () => 'b'),
    });

    expect(problems).toEqual(
      expect.arrayContaining([
        'destinations: must have at most 25 entries (got 26)',
        'repositories: must have at most 100 entries (got 101)',
        'tags[0]: must be at most 256 characters (got 257)',
        'excludeTags: must have at most 100 entries (got 101)',
      ]),
    );
  });

  it('rejects patterns with characters ECR names and tags cannot contain', () => {
    const problems = problemsOf({ repositories: ['Team/*', ''], tags: ['bad tag'], excludeTags: ['a/b'] });

    expect(problems).toEqual([
      'repositories[0]: must use lowercase letters, digits, . _ - / and the wildcards * ? (got "Team/*")',
      'repositories[1]: must not be empty (got "")',
      'tags[0]: must use letters, digits, . _ - and the wildcards * ? (got "bad tag")',
      'excludeTags[0]: must use letters, digits, . _ - and the wildcards * ? (got "a/b")',
    ]);
  });

  it('requires the first replication check to come before the replication timeout', () => {
    expect(problemsOf({ replicationWaitSeconds: 1800, replicationTimeoutMinutes: 30 })).toEqual([
      'replicationWaitSeconds: must be shorter than replicationTimeoutMinutes (got 1800 s ≥ 30 min)',
    ]);
  });

  it('names problems that come from the deploy-time default input', () => {
    const problems = problemsOf({}, { ...OPTIONS, defaultInput: { batchSize: 1000 } });

    expect(problems).toEqual(['batchSize: must be ≤ 100 (got 1000) (from the deploy-time default input)']);
  });

  it('rejects a malformed source Region passed by the caller', () => {
    expect(problemsOf({}, { sourceRegion: 'mumbai' })).toEqual([
      'sourceRegion: must be an AWS Region code such as ap-south-1 (got "mumbai")',
    ]);
  });
});

describe('parseExecutionInput: temp-tag prefix', () => {
  it.each([
    ['ab', /must be at least 4 characters/],
    ['-tmp-', /must start with a letter, digit or _/],
    ['tmp tag', /only letters, digits/],
    [
      'x'.repeat(MAX_TEMP_TAG_PREFIX_LENGTH + 1),
      new RegExp(`at most ${MAX_TEMP_TAG_PREFIX_LENGTH} characters`),
    ],
    ['v1-backfill-', /looks like a version tag/],
    ['2024-tmp-', /starts with a digit/],
    ['latest-tmp-', /common release tag/],
    ['sha256-', /digest or commit tag/],
  ])('rejects %j', (prefix, why) => {
    const problems = problemsOf({ tempTagPrefix: prefix });

    expect(problems.some((p) => p.startsWith('tempTagPrefix: ') && why.test(p))).toBe(true);
  });

  it.each(['ecr-backfill-', 'backfill_tmp.', 'zz-tmp-'])('accepts %j', (prefix) => {
    expect(parseExecutionInput({ tempTagPrefix: prefix }, OPTIONS).tempTagPrefix).toBe(prefix);
  });
});

describe('executionInputJsonSchema', () => {
  it('documents every field, with defaults, and forbids unknown keys', () => {
    const schema = executionInputJsonSchema() as {
      type: string;
      additionalProperties: boolean;
      properties: Record<string, { description?: string; default?: unknown }>;
    };

    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties).sort()).toEqual([...EXECUTION_INPUT_KEYS].sort());
    for (const key of EXECUTION_INPUT_KEYS) expect(schema.properties[key]?.description).toBeTruthy();
    expect(schema.properties.batchSize?.default).toBe(50);
    expect(schema.properties.strategy?.default).toBe('promote');
  });
});
