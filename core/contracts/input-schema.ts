/**
 * The execution input (docs/architecture.md §3.3): one zod schema that validates what a user types into the
 * Step Functions console (or passes to `ecr-backfill start`), generates the JSON Schema shown in the
 * README, and resolves defaults. `{}` is valid and means "every destination of the replication
 * configuration, every covered repository, every tagged active image".
 *
 * Pure: no AWS calls. The checks that need the registry (a requested destination that is not in the
 * replication configuration) are made by Plan, which adds them to the same problems list.
 */
import { z } from 'zod';
import { METHODS, ReferrerSelectionSchema, STRATEGIES } from './contracts.ts';
import { InvalidInputError } from '../errors/errors.ts';
import { closestMatch, MAX_PATTERN_WILDCARDS, wildcardCount } from './patterns.ts';
import { TEMP_TAG_MAX_LENGTH, TEMP_TAG_PREFIX_MAX_LENGTH } from '../ecr/temp-tags.ts';
import { ECR_DEFAULT_PUT_IMAGE_PER_SECOND } from '../quotas.ts';

// ---------------------------------------------------------------------------------------------
// Limits and defaults
// ---------------------------------------------------------------------------------------------

/** Standard Region codes (`us-east-1`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`). */
export const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;
/**
 * IAM role ARN in a real partition — aws, aws-cn (China), aws-us-gov (GovCloud)
 * (https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html) —
 * path allowed. Anything else (`arn:aws-evil-x:…`) is refused.
 */
export const ROLE_ARN_PATTERN = /^arn:(aws|aws-cn|aws-us-gov):iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
/** Repository names are lowercase (ECR's repositoryName pattern) plus the two wildcards. */
const REPOSITORY_PATTERN_CHARS = /^[a-z0-9._/*?-]*$/;
/** Tag characters ECR accepts, plus the two wildcards. */
const TAG_PATTERN_CHARS = /^[a-zA-Z0-9_.*?-]*$/;
/** A tag must start with a letter, digit or underscore (OCI distribution spec, which ECR follows). */
export const TEMP_TAG_PREFIX_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]*$/;

/** ECR tags are at most 128 characters (Docker/OCI tag grammar). */
export const MAX_TAG_LENGTH = TEMP_TAG_MAX_LENGTH;
/**
 * The temp tag is `<prefix><run hash>-<digest hex>` (core/ecr/temp-tags.ts): the prefix may
 * use what the run hash and at least 128 bits of the digest leave of ECR's 128 characters.
 */
export const MAX_TEMP_TAG_PREFIX_LENGTH = TEMP_TAG_PREFIX_MAX_LENGTH;
export const MIN_TEMP_TAG_PREFIX_LENGTH = 4;
export const DEFAULT_TEMP_TAG_PREFIX = 'ecr-backfill-';

export const LIMITS = {
  destinations: 25, // ECR: at most 25 unique destinations across all rules
  repositoryPatterns: 100,
  tagPatterns: 100,
  patternLength: 256,
  latestPerRepository: 100_000, // ECR: at most 100,000 images per repository
  maxConcurrency: 10_000, // Step Functions Distributed Map maximum
  batchSize: 100,
  replicationTimeoutMinutes: 360,
  replicationWaitSeconds: 3600,
  planSliceSize: 1000,
} as const;

/**
 * Inputs of the default `maxConcurrency`. Children spend most of their life waiting for replication,
 * so by Little's law the source's PutImage quota stays busy when
 *   maxConcurrency = ceil(PutImage rate × expected replication latency / batchSize)
 * (10/s × 60 s / 50 items per batch = 12 children, more than the construct's 10 concurrent pushers). More would only queue on the quota; fewer
 * would leave it idle. Users who raised their PutImage quota set `maxConcurrency` themselves.
 * PutImage default quota: https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html
 */
export const CONCURRENCY_MODEL = {
  putImagePerSecond: ECR_DEFAULT_PUT_IMAGE_PER_SECOND,
  expectedReplicationLatencySeconds: 60,
} as const;

export function defaultMaxConcurrency(
  batchSize: number,
  model: { putImagePerSecond: number; expectedReplicationLatencySeconds: number } = CONCURRENCY_MODEL,
): number {
  const children = Math.ceil((model.putImagePerSecond * model.expectedReplicationLatencySeconds) / batchSize);
  return Math.min(LIMITS.maxConcurrency, Math.max(1, children));
}

// ---------------------------------------------------------------------------------------------
// Field schemas
// ---------------------------------------------------------------------------------------------

const regionSchema = z
  .string()
  .regex(REGION_PATTERN, { error: 'must be an AWS Region code such as ap-northeast-2' });

const destinationObjectSchema = z.strictObject({
  region: regionSchema.meta({ description: 'Destination Region, e.g. ap-northeast-2.' }),
  registryId: z
    .string()
    .regex(ACCOUNT_ID_PATTERN, { error: 'must be a 12-digit AWS account id' })
    .optional()
    .meta({
      description: 'Destination account (registry). Default: any configured destination in the Region.',
    }),
  roleArn: z
    .string()
    .regex(ROLE_ARN_PATTERN, { error: 'must be an IAM role ARN such as arn:aws:iam::111122223333:role/Name' })
    .optional()
    .meta({
      description: 'Role to assume for reads and writes in a destination account other than the source.',
    }),
});

/** A roleArn reaches its own account's registry only. */
const destinationWithRoleSchema = destinationObjectSchema.superRefine((destination, ctx) => {
  const roleAccount = destination.roleArn?.split(':')[4];
  if (
    destination.registryId !== undefined &&
    roleAccount !== undefined &&
    roleAccount !== destination.registryId
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['roleArn'],
      message: `must be a role of the destination account ${destination.registryId} (the role is in ${roleAccount})`,
    });
  }
});

const destinationSchema = z.union([regionSchema, destinationWithRoleSchema]).meta({
  description: 'A destination Region (shorthand) or {region, registryId?, roleArn?}.',
});

/** Keeps every pattern's matching cost small (core/contracts/patterns.ts, compileGlob). */
function boundedWildcards(pattern: string, ctx: z.core.$RefinementCtx<string>): void {
  const wildcards = wildcardCount(pattern);
  if (wildcards > MAX_PATTERN_WILDCARDS) {
    ctx.addIssue({
      code: 'custom',
      message: `must have at most ${MAX_PATTERN_WILDCARDS} wildcards (* ?), has ${wildcards}`,
    });
  }
}

/** A repository selector (prefix or glob); exported for the CLI flags that take one. */
export const repositoryPatternSchema = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(LIMITS.patternLength)
  .regex(REPOSITORY_PATTERN_CHARS, {
    error: 'must use lowercase letters, digits, . _ - / and the wildcards * ?',
  })
  .superRefine(boundedWildcards);

export const tagPatternSchema = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(LIMITS.patternLength)
  .regex(TAG_PATTERN_CHARS, { error: 'must use letters, digits, . _ - and the wildcards * ?' })
  .superRefine(boundedWildcards);

/** ISO-8601 date (`2024-01-31`) or date-time with an explicit offset (`2024-01-31T12:00:00Z`). */
const ISO_DATE_OR_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

const pushedAfterSchema = z
  .string()
  .regex(ISO_DATE_OR_DATE_TIME, {
    error: 'must be an ISO-8601 date (2024-01-31) or date-time with offset (2024-01-31T12:00:00Z)',
  })
  // Only judged once the shape is right (the shape problem alone is reported otherwise).
  .refine((value) => !ISO_DATE_OR_DATE_TIME.test(value) || isCalendarDate(value), {
    error: 'is not a valid calendar date',
  });

/** `2024-02-30` has the right shape but is no date (Date.parse would roll it over to March). */
function isCalendarDate(value: string): boolean {
  const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    !Number.isNaN(Date.parse(value))
  );
}

/** Common release-tag shapes a temp-tag prefix must not start with (it could match a real tag). */
const RELEASE_TAG_SHAPES: { pattern: RegExp; why: string }[] = [
  { pattern: /^\d/, why: 'starts with a digit, like version tags (1.2.3) and dates' },
  { pattern: /^v\d/i, why: 'looks like a version tag (v1, v2.0)' },
  { pattern: /^sha(256)?[-_.]?[0-9a-f]*$|^sha256/i, why: 'looks like a digest or commit tag (sha256-…)' },
  {
    pattern: /^(latest|stable|edge|nightly|main|master|release|prod|production|staging)([-_.]|$)/i,
    why: 'starts like a common release tag (latest, stable, main, release, …)',
  },
];

const tempTagPrefixSchema = z
  .string()
  .min(MIN_TEMP_TAG_PREFIX_LENGTH, {
    error: `must be at least ${MIN_TEMP_TAG_PREFIX_LENGTH} characters, so temp tags cannot collide with real tags`,
  })
  .max(MAX_TEMP_TAG_PREFIX_LENGTH, {
    error: `must be at most ${MAX_TEMP_TAG_PREFIX_LENGTH} characters, leaving room for the run and digest suffix within ECR's ${MAX_TAG_LENGTH}`,
  })
  .regex(TEMP_TAG_PREFIX_PATTERN, {
    error: 'must start with a letter, digit or _ and use only letters, digits, . _ - (ECR tag rules)',
  })
  .superRefine((value, ctx) => {
    const shape = RELEASE_TAG_SHAPES.find((s) => s.pattern.test(value));
    if (shape) {
      ctx.addIssue({
        code: 'custom',
        message: `${shape.why}: temp tags could collide with real tags; use a distinctive prefix such as ${DEFAULT_TEMP_TAG_PREFIX}`,
      });
    }
  });

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/**
 * The execution input. Every field optional; unknown keys are errors (a typo must not silently fall
 * back to a default). Defaults that depend on other fields (maxConcurrency) are resolved by
 * `parseExecutionInput`.
 */
export const ExecutionInputSchema = z
  .strictObject({
    destinations: z
      .array(destinationSchema)
      .max(LIMITS.destinations)
      .optional()
      .meta({
        description:
          'Destinations to backfill. Default: every destination of every replication rule. Each must be in the registry replication configuration.',
        examples: [['ap-northeast-2'], [{ region: 'eu-west-1', registryId: '111122223333' }]],
      }),
    repositories: z
      .array(repositoryPatternSchema)
      .max(LIMITS.repositoryPatterns)
      .optional()
      .meta({
        description:
          'Repositories to consider: a plain pattern is a prefix (like replication filters), a pattern with * or ? is a glob over the whole name (at most 16 wildcards per pattern). Default: all. Repositories no replication rule covers are reported as NOT_COVERED and never touched. Patterns that match no repository fail the run with NothingMatched, naming the repositories nearby.',
        examples: [['team/*', 'base']],
      }),
    tags: z.array(tagPatternSchema).max(LIMITS.tagPatterns).optional().meta({
      description:
        'Tags to backfill (globs over the whole tag, at most 16 wildcards per pattern; a plain pattern is an exact tag). Default: all. Patterns that keep no tag of the selected repositories fail the run with NothingMatched, naming the tags nearby (unless includeUntagged).',
    }),
    excludeTags: z
      .array(tagPatternSchema)
      .max(LIMITS.tagPatterns)
      .optional()
      .meta({ description: 'Tags never to backfill (globs). Exclusion wins over tags.' }),
    pushedAfter: pushedAfterSchema.optional().meta({
      description: 'Only images pushed at or after this instant (ISO-8601 date or date-time with offset).',
    }),
    latestPerRepository: int(1, LIMITS.latestPerRepository).optional().meta({
      description:
        'Only the N most recently pushed selected images of each repository (after the other filters).',
    }),
    includeUntagged: z.boolean().default(false).meta({
      description:
        'Also backfill untagged images (not children of an index). They keep the run temp tag as a marker: removing an image last tag deletes it.',
    }),
    referrers: ReferrerSelectionSchema.default('all').meta({
      description:
        'Which referrers (OCI 1.1 signatures, SBOMs, attestations: manifests whose subject is a selected image) are copied with their image to each destination that lacks them, untagged at the same digest: all, none, or a list of artifact types (a signature of an SBOM is copied when both types are listed). Strategy promote only. Referrers are never selected as images of their own, whatever this says.',
      examples: ['all', 'none', [['application/vnd.cncf.notary.signature', 'application/spdx+json']]],
    }),
    includeArchived: z.boolean().default(false).meta({
      description: 'Also backfill archived images. Re-pushing restores them (a restore charge applies).',
    }),
    strategy: z.enum(STRATEGIES).default('promote').meta({
      description:
        'promote: replicate under a temp tag, then put the original tags in each destination (source tags never move). retag-source: delete and re-put each source tag so replication carries it (brief unavailability; for destinations the workflow may not write to).',
    }),
    method: z.enum(METHODS).default('auto').meta({
      description:
        "Backfill engine. repush: re-push each image's manifest (PutImage) so replication copies it. native: ECR's replication backfill (StartReplicationBackfill) per destination, queued per Region, then every selected tag verified in the destinations and what it missed re-pushed. auto: native when the selection is the whole replication scope (no repository/tag/date/latest/untagged/archived filter), the backfill API answers, no backfill for another destination is active in a destination Region and no destination tag would be overwritten; otherwise repush. The plan and the report say which engine ran and why.",
    }),
    dryRun: z.boolean().default(false).meta({
      description:
        'Plan only: report what is missing, the API calls, duration and cost; write nothing to ECR.',
    }),
    maxConcurrency: int(1, LIMITS.maxConcurrency).optional().meta({
      description:
        'Concurrent child workflows (batches). Default: ceil(PutImage rate × expected replication latency / batchSize) = ceil(10/s × 60 s / batchSize), i.e. 12 for batches of 50.',
    }),
    // 50: a batch's Step Functions transitions (~8) are spread over ~150 tags (≤ $0.03 per 10,000 tags
    // on the scale run, docs/benchmarks.md), while the paced steps' time budget
    // (functions/step-kit/work-budget.ts) keeps every invocation far inside its timeout however many
    // puts a batch holds.
    batchSize: int(1, LIMITS.batchSize).default(50).meta({
      description:
        'Most images (digests) per child workflow. A run with fewer than batchSize × maxConcurrency images is cut into maxConcurrency smaller batches, so that its batches run at once.',
    }),
    toleratedFailurePercentage: z.number().min(0).max(100).default(0).meta({
      description: 'Share of failed batches the backfill map tolerates before it fails.',
    }),
    replicationTimeoutMinutes: int(1, LIMITS.replicationTimeoutMinutes).default(30).meta({
      description: 'How long a batch waits for replication before reporting REPLICATION_TIMEOUT.',
    }),
    replicationWaitSeconds: int(0, LIMITS.replicationWaitSeconds).default(30).meta({
      description: 'Wait after pushing before the first replication check.',
    }),
    tempTagPrefix: tempTagPrefixSchema.default(DEFAULT_TEMP_TAG_PREFIX).meta({
      description: `Prefix of the temporary tags (${MIN_TEMP_TAG_PREFIX_LENGTH}–${MAX_TEMP_TAG_PREFIX_LENGTH} characters, ECR tag characters, not shaped like a release tag). Source tags with this prefix are never backfilled.`,
    }),
    overwriteConflicts: z.boolean().default(false).meta({
      description: 'Move destination tags that point to another digest (otherwise reported as CONFLICT).',
    }),
    planSliceSize: int(1, LIMITS.planSliceSize).default(100).meta({
      description: 'Repositories planned per PlanSlice invocation.',
    }),
  })
  .meta({
    title: 'ecr-backfill execution input',
    description: 'Start an execution with {} to backfill everything the replication configuration covers.',
  });

/**
 * What a user may write: every field optional. The documented form of this type is `ExecutionInput`
 * (core/contracts/execution-input.ts, generated from this schema by `npm run docs`).
 */
export type SchemaInput = z.input<typeof ExecutionInputSchema>;
/** What the schema makes of it: the defaulted fields filled in. */
type ParsedInput = z.output<typeof ExecutionInputSchema>;
export const EXECUTION_INPUT_KEYS = Object.keys(ExecutionInputSchema.shape) as (keyof SchemaInput)[];

/** The fields with a fixed default, and their defaults: what the schema makes of `{}`. */
type DefaultedKey = {
  [K in keyof ParsedInput]-?: undefined extends ParsedInput[K] ? never : K;
}[keyof ParsedInput];
export const DEFAULTS: Readonly<Pick<ParsedInput, DefaultedKey>> = Object.freeze(
  ExecutionInputSchema.parse({}),
);

/** A destination as the input asks for it; Plan matches it against the replication configuration. */
export interface DestinationRequest {
  region: string;
  /** Omitted: every configured destination in the Region. */
  registryId?: string;
  roleArn?: string;
}

/** The input with every default applied. Destinations are resolved against the registry by Plan. */
export type ResolvedInput = Omit<
  ParsedInput,
  'destinations' | 'repositories' | 'tags' | 'excludeTags' | 'maxConcurrency'
> & {
  sourceRegion: string;
  /** Known when the caller knows its account; Plan takes it from DescribeRegistry. */
  sourceRegistryId?: string;
  /** Empty: every destination of the replication configuration. */
  destinations: DestinationRequest[];
  /** Empty: every repository, tag; no tag excluded. */
  repositories: string[];
  tags: string[];
  excludeTags: string[];
  /** The input's request; resolved from batchSize, within the deployment's maxConcurrencyLimit, when left out. */
  maxConcurrency: number;
};

export interface ParseOptions {
  /** Deploy-time defaults (the construct's props), merged under the execution input. */
  defaultInput?: Record<string, unknown>;
  sourceRegion: string;
  sourceRegistryId?: string;
  /** The deployment's limit on maxConcurrency (the run policy's): an omitted maxConcurrency defaults to at most this. */
  maxConcurrencyLimit?: number;
}

// ---------------------------------------------------------------------------------------------
// Parsing and problem messages
// ---------------------------------------------------------------------------------------------

/**
 * Validates and resolves the execution input. Throws `InvalidInputError` naming **every** problem
 * with its path, e.g. `batchSize: must be ≤ 100 (got 500)`.
 */
export function parseExecutionInput(raw: unknown, options: ParseOptions): ResolvedInput {
  const problems: string[] = [];
  if (!REGION_PATTERN.test(options.sourceRegion)) {
    problems.push(
      `sourceRegion: must be an AWS Region code such as ap-south-1 (got ${show(options.sourceRegion)})`,
    );
  }
  if (options.sourceRegistryId !== undefined && !ACCOUNT_ID_PATTERN.test(options.sourceRegistryId)) {
    problems.push(
      `sourceRegistryId: must be a 12-digit AWS account id (got ${show(options.sourceRegistryId)})`,
    );
  }

  const input = raw === undefined || raw === null ? {} : raw;
  if (!isPlainObject(input)) {
    throw new InvalidInputError([
      ...problems,
      `input: must be a JSON object such as {} or {"destinations": ["ap-northeast-2"]} (got ${show(input)})`,
    ]);
  }
  const defaults = options.defaultInput ?? {};
  if (!isPlainObject(defaults)) {
    throw new InvalidInputError([...problems, `defaultInput: must be a JSON object (got ${show(defaults)})`]);
  }
  const merged: Record<string, unknown> = { ...defaults, ...input };
  const fromDefaults = (key: PropertyKey) => typeof key === 'string' && !(key in input) && key in defaults;

  const result = ExecutionInputSchema.safeParse(merged);
  problems.push(
    ...inputProblems(merged, result, (key) =>
      fromDefaults(key) ? ' (from the deploy-time default input)' : '',
    ),
  );
  const destinations = validField(merged, 'destinations', []).map(normalizeDestination);
  problems.push(...sourceAsDestinationProblems(destinations, options));

  if (problems.length > 0 || !result.success) throw new InvalidInputError(problems);

  const { destinations: _requested, maxConcurrency, pushedAfter, ...fields } = result.data;
  return {
    sourceRegion: options.sourceRegion,
    ...(options.sourceRegistryId !== undefined && { sourceRegistryId: options.sourceRegistryId }),
    ...fields,
    destinations,
    repositories: fields.repositories ?? [],
    tags: fields.tags ?? [],
    excludeTags: fields.excludeTags ?? [],
    ...(pushedAfter !== undefined && { pushedAfter: new Date(pushedAfter).toISOString() }),
    maxConcurrency:
      maxConcurrency ??
      Math.min(defaultMaxConcurrency(fields.batchSize), options.maxConcurrencyLimit ?? LIMITS.maxConcurrency),
  };
}

/**
 * What is wrong with an input as written, without resolving it (no Region or registry needed): the
 * schema's problems and the cross-field ones, each field named after `where` (e.g. `defaultInput.`).
 * The construct holds its deployer's inputs to it at synth, as Plan will at run time.
 */
export function executionInputProblems(raw: unknown, where = ''): string[] {
  if (!isPlainObject(raw))
    return [`${where.replace(/\.$/, '') || 'input'}: must be a JSON object (got ${show(raw)})`];
  return inputProblems(raw, ExecutionInputSchema.safeParse(raw)).map((problem) => `${where}${problem}`);
}

/** The schema's problems (each with `originOf` its top-level key) and the cross-field ones. */
function inputProblems(
  input: Record<string, unknown>,
  result: ReturnType<typeof ExecutionInputSchema.safeParse>,
  originOf: (key: PropertyKey) => string = () => '',
): string[] {
  const problems: string[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) {
      for (const message of describeIssue(issue, input, [])) {
        problems.push(message + originOf(issue.path[0] ?? ''));
      }
    }
  }
  // Cross-field checks run on the fields that are individually valid, so every problem shows at once.
  const destinations = validField(input, 'destinations', []).map(normalizeDestination);
  problems.push(...duplicateDestinationProblems(destinations));
  const timeoutMinutes = validField(input, 'replicationTimeoutMinutes', DEFAULTS.replicationTimeoutMinutes);
  const waitSeconds = validField(input, 'replicationWaitSeconds', DEFAULTS.replicationWaitSeconds);
  if (waitSeconds >= timeoutMinutes * 60) {
    problems.push(
      `replicationWaitSeconds: must be shorter than replicationTimeoutMinutes (got ${waitSeconds} s ≥ ${timeoutMinutes} min)`,
    );
  }
  return problems;
}

/** A field's parsed value when it is valid on its own, otherwise `fallback`. */
function validField<K extends keyof typeof ExecutionInputSchema.shape>(
  input: Record<string, unknown>,
  key: K,
  fallback: NonNullable<z.output<(typeof ExecutionInputSchema.shape)[K]>>,
): NonNullable<z.output<(typeof ExecutionInputSchema.shape)[K]>> {
  const parsed = ExecutionInputSchema.shape[key].safeParse(input[key]);
  return (parsed.success ? (parsed.data ?? fallback) : fallback) as NonNullable<
    z.output<(typeof ExecutionInputSchema.shape)[K]>
  >;
}

/** The JSON Schema of the execution input (for the README, the console and editors). */
export function executionInputJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ExecutionInputSchema, { io: 'input', target: 'draft-2020-12' });
}

function normalizeDestination(entry: string | z.output<typeof destinationObjectSchema>): DestinationRequest {
  return typeof entry === 'string' ? { region: entry } : entry;
}

/** The same destination twice. */
function duplicateDestinationProblems(destinations: DestinationRequest[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  destinations.forEach((d, index) => {
    const key = `${d.region}/${d.registryId ?? '*'}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push(`destinations[${index}]: duplicates destinations[${first}] (${describeDestination(d)})`);
    } else {
      seen.set(key, index);
    }
  });
  return problems;
}

/** The source registry itself (replication never targets its source). */
function sourceAsDestinationProblems(destinations: DestinationRequest[], options: ParseOptions): string[] {
  return destinations.flatMap((d, index) =>
    d.region === options.sourceRegion &&
    d.registryId !== undefined &&
    d.registryId === options.sourceRegistryId
      ? [
          `destinations[${index}]: is the source registry itself (${describeDestination(d)}); a destination must be another Region or account`,
        ]
      : [],
  );
}

export function describeDestination(d: { region: string; registryId?: string }): string {
  return d.registryId === undefined ? d.region : `${d.region} (${d.registryId})`;
}

type Issue = z.core.$ZodIssue;

function describeIssue(issue: Issue, root: unknown, basePath: PropertyKey[]): string[] {
  const path = [...basePath, ...issue.path];
  const value = valueAt(root, path);
  const at = formatPath(path);
  const prefix = at === '' ? 'input' : at;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => `${formatPath([...path, key])}: ${unknownKeyMessage(key, path)}`);
    case 'invalid_union':
      return describeUnion(issue, root, path, value);
    case 'invalid_type':
      if (value === undefined) return [`${prefix}: is required`];
      return [`${prefix}: must be ${typeWord(issue.expected)} (got ${show(value)})`];
    case 'too_big':
      return [
        `${prefix}: ${boundMessage('at most', '≤', '<', issue.origin, issue.maximum, issue.inclusive, value, issue.message)}`,
      ];
    case 'too_small':
      return [
        `${prefix}: ${boundMessage('at least', '≥', '>', issue.origin, issue.minimum, issue.inclusive, value, issue.message)}`,
      ];
    case 'invalid_value': {
      const words = issue.values.filter((v): v is string => typeof v === 'string');
      // The closest value, or the one a shortened value begins (`retag` for `retag-source`).
      const suggestion =
        typeof value === 'string' && value !== ''
          ? (closestMatch(value, words) ?? words.find((word) => word.startsWith(value)))
          : undefined;
      const hint = suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
      return [
        `${prefix}: must be one of ${issue.values.map((v) => show(v)).join(', ')} (got ${show(value)}${hint})`,
      ];
    }
    default:
      return [`${prefix}: ${issue.message} (got ${show(value)})`];
  }
}

/** A destination is a Region string or an object: report the branch the user evidently meant. */
function describeUnion(
  issue: Extract<Issue, { code: 'invalid_union' }>,
  root: unknown,
  path: PropertyKey[],
  value: unknown,
): string[] {
  const branches = issue.errors.filter(
    (branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0),
  );
  const chosen = branches[0];
  if (branches.length === 1 && chosen) return chosen.flatMap((i) => describeIssue(i, root, path));
  return [
    `${formatPath(path)}: must be a Region string or an object {region, registryId?, roleArn?} (got ${show(value)})`,
  ];
}

function boundMessage(
  words: string,
  inclusiveSign: string,
  exclusiveSign: string,
  origin: string,
  bound: number | bigint,
  inclusive: boolean | undefined,
  value: unknown,
  custom: string,
): string {
  const sign = inclusive === false ? exclusiveSign : inclusiveSign;
  switch (origin) {
    case 'array':
      return `must have ${words} ${String(bound)} entries (got ${Array.isArray(value) ? value.length : show(value)})`;
    case 'string':
      // Schemas with their own explanation (empty patterns, temp-tag prefix) keep it.
      if (!custom.startsWith('Too ')) return `${custom} (got ${show(value)})`;
      return `must be ${words} ${String(bound)} characters (got ${typeof value === 'string' ? value.length : show(value)})`;
    default:
      return `must be ${sign} ${String(bound)} (got ${show(value)})`;
  }
}

function unknownKeyMessage(key: string, parentPath: PropertyKey[]): string {
  const known =
    parentPath.length === 0 ? (EXECUTION_INPUT_KEYS as string[]) : Object.keys(destinationObjectSchema.shape);
  const suggestion = closestMatch(key, known);
  return suggestion !== undefined
    ? `unknown key (did you mean "${suggestion}"?)`
    : `unknown key (known keys: ${known.join(', ')})`;
}

function typeWord(expected: string): string {
  switch (expected) {
    case 'int':
      return 'an integer';
    case 'array':
      return 'an array';
    case 'object':
      return 'an object';
    default:
      return `a ${expected}`;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

/** A short rendering of a user value for error messages. */
function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    // Inputs come from JSON, so stringify always has an answer; guard anyway for direct callers.
    const json: string | undefined = JSON.stringify(value);
    text = json ?? typeof value;
  } catch {
    text = `(${typeof value})`;
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
