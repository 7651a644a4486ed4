/**
 * The deployer's run policy: limits an execution's input may not exceed, whoever starts it.
 *
 * `defaultInput` (the construct prop) is merged *under* the caller's input, so it only fills in what
 * the caller leaves out. A run policy is different: it is checked *after* the merge, on the resolved
 * input, and an input outside it fails Plan with `InvalidInput` naming the rule, before any write.
 * Starting an execution is ECR write access; the policy is how a deployer narrows it.
 *
 * The construct delivers the policy to Plan in the RUN_POLICY environment variable (JSON), which is
 * parsed at init (functions/lambda/handler-deps.ts): a malformed policy fails the cold start. The
 * construct checks the same policy, and holds its deployer's own inputs (`defaultInput`,
 * `startOnDeploy`) to the same rules when it is synthesized (infra/backfill-construct.ts).
 */
import { z } from 'zod';
import { STRATEGIES } from './contracts.ts';
import {
  CONCURRENCY_MODEL,
  defaultMaxConcurrency,
  LIMITS,
  parseExecutionInput,
  repositoryPatternSchema,
  type ParseOptions,
  type ResolvedInput,
} from './input-schema.ts';
import { InvalidInputError } from '../errors/errors.ts';
import { literalHead, repositoryMatcher } from './patterns.ts';

export const RunPolicySchema = z.strictObject({
  /** Strategies an execution may choose. `retag-source` deletes and re-puts source tags. */
  allowedStrategies: z.array(z.enum(STRATEGIES)).min(1),
  /** Whether an execution may set `overwriteConflicts` (move destination tags to the source digest). */
  allowOverwriteConflicts: z.boolean(),
  /**
   * The repositories any execution may touch, as repository patterns (a plain pattern is a prefix,
   * one with wildcards a glob). Empty: every repository. A boundary, not a default: repositories
   * outside it are never listed for planning, whatever the input selects.
   */
  repositoryScope: z.array(repositoryPatternSchema).max(LIMITS.repositoryPatterns),
  /**
   * The largest `maxConcurrency` (children of the backfill map) an execution may ask for: the
   * deployer's limit, named apart from the input's request it limits.
   */
  maxConcurrencyLimit: z.number().int().min(1).max(LIMITS.maxConcurrency),
});

export type RunPolicy = z.output<typeof RunPolicySchema>;

/**
 * The default `maxConcurrencyLimit`: Little's law with one image per batch, i.e. the largest
 * default maxConcurrency any batchSize gives (`ceil(PutImage rate × replication latency / 1)`, 600
 * at ECR's default 10/s). More children than that cannot use the PutImage quota even with batches of
 * one; they only queue on it and on Lambda.
 * PutImage default quota: https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html
 */
export function defaultMaxConcurrencyLimit(
  putImagePerSecond: number = CONCURRENCY_MODEL.putImagePerSecond,
): number {
  return defaultMaxConcurrency(1, { ...CONCURRENCY_MODEL, putImagePerSecond });
}

/** What the construct deploys unless told otherwise: `promote` only, no overwrites, any repository. */
export const DEFAULT_RUN_POLICY: RunPolicy = {
  allowedStrategies: ['promote'],
  allowOverwriteConflicts: false,
  repositoryScope: [],
  maxConcurrencyLimit: defaultMaxConcurrencyLimit(),
};

/**
 * What is wrong with a run policy as written, one problem per field, the field named as a deployer
 * writes it (`repositoryScope[0]: …`) after `where`. The field names are the construct's props.
 */
export function runPolicyFieldProblems(value: unknown, where = ''): string[] {
  const parsed = RunPolicySchema.safeParse(value);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => `${where}${fieldPath(issue.path)}: ${issue.message}`);
}

/** Parses a RUN_POLICY value; the problems name the field (for the init error). */
export function parseRunPolicy(value: unknown): { policy?: RunPolicy; problems: string[] } {
  const parsed = RunPolicySchema.safeParse(value);
  if (parsed.success) return { policy: parsed.data, problems: [] };
  return { problems: runPolicyFieldProblems(value, 'RUN_POLICY.') };
}

/**
 * The choices of an input that a run policy limits. A resolved input has every one; a deployer's
 * default input (`defaultInput`, checked when the construct is synthesized) only those it sets.
 */
export interface PolicyChoices {
  readonly strategy?: string;
  readonly overwriteConflicts?: boolean;
  readonly maxConcurrency?: number;
  readonly repositories?: readonly string[];
}

/**
 * The policy-limited choices a raw input object makes: each field the rules read, when it has the
 * type they read (a malformed value is the schema's to report, by Plan).
 */
export function policyChoicesOf(input: Readonly<Record<string, unknown>>): PolicyChoices {
  const { strategy, overwriteConflicts, maxConcurrency, repositories } = input;
  return {
    ...(typeof strategy === 'string' && { strategy }),
    ...(typeof overwriteConflicts === 'boolean' && { overwriteConflicts }),
    ...(typeof maxConcurrency === 'number' && { maxConcurrency }),
    ...(Array.isArray(repositories) &&
      repositories.every((pattern) => typeof pattern === 'string') && { repositories }),
  };
}

/**
 * The run policy's rules, the one place they are written: every way the choices go beyond the
 * policy, as input problems (`field: …`, each field after `where`, e.g. `defaultInput.`). Plan holds
 * each resolved input to them; the construct, each input its deployer gives it. Only explicit
 * choices can break a rule: the default maxConcurrency is clamped to the limit by the caller.
 */
export function runPolicyProblems(choices: PolicyChoices, policy: RunPolicy, where = ''): string[] {
  const problems: string[] = [];
  const { strategy, overwriteConflicts, maxConcurrency, repositories = [] } = choices;
  if (strategy !== undefined && !policy.allowedStrategies.some((allowed) => allowed === strategy)) {
    problems.push(
      `${where}strategy: "${strategy}" is not allowed by this deployment's run policy (allowed: ${policy.allowedStrategies.join(', ')}; the construct's allowedStrategies)`,
    );
  }
  if (overwriteConflicts === true && !policy.allowOverwriteConflicts) {
    problems.push(
      `${where}overwriteConflicts: not allowed by this deployment's run policy (the construct's allowOverwriteConflicts is false)`,
    );
  }
  if (maxConcurrency !== undefined && maxConcurrency > policy.maxConcurrencyLimit) {
    problems.push(
      `${where}maxConcurrency: must be ≤ ${policy.maxConcurrencyLimit}, this deployment's limit (got ${maxConcurrency}; the construct's maxConcurrencyLimit)`,
    );
  }
  repositories.forEach((pattern, index) => {
    if (!mayOverlapScope(pattern, policy.repositoryScope)) {
      problems.push(
        `${where}repositories[${index}]: "${pattern}" is outside this deployment's repository scope (${policy.repositoryScope.join(', ')}; the construct's repositoryScope)`,
      );
    }
  });
  return problems;
}

/**
 * The execution input, validated by the schema and then held to the policy: one `InvalidInputError`
 * names every problem of both kinds. An omitted maxConcurrency defaults to at most the limit.
 */
export function parseInputWithinPolicy(
  raw: unknown,
  options: ParseOptions,
  policy: RunPolicy,
): ResolvedInput {
  const input = parseExecutionInput(raw, { ...options, maxConcurrencyLimit: policy.maxConcurrencyLimit });
  const problems = runPolicyProblems(input, policy);
  if (problems.length > 0) throw new InvalidInputError(problems);
  return input;
}

/**
 * The repository matcher Plan lists with: the input's selection, but only within the scope. This is
 * what makes the scope a boundary: a pattern can only narrow it.
 */
export function scopedRepositoryMatcher(
  selection: readonly string[],
  policy: RunPolicy,
): (name: string) => boolean {
  const selects = repositoryMatcher(selection);
  const inScope = repositoryMatcher(policy.repositoryScope);
  return (name) => inScope(name) && selects(name);
}

/**
 * False only when no repository name can match both `pattern` and any scope entry: their literal
 * heads diverge. (Exact overlap of two globs is not decided here; the scoped matcher enforces it.)
 */
function mayOverlapScope(pattern: string, scope: readonly string[]): boolean {
  if (scope.length === 0) return true;
  const head = literalHead(pattern);
  // Names matching a pattern all start with its literal head: two such sets meet only when one head
  // extends the other.
  return scope.some((entry) => {
    const scopeHead = literalHead(entry);
    return head.startsWith(scopeHead) || scopeHead.startsWith(head);
  });
}

/** A zod issue path as a deployer writes it: `repositoryScope[0]`. */
function fieldPath(path: readonly PropertyKey[]): string {
  const [field, ...rest] = path;
  return `${field === undefined ? '(root)' : String(field)}${rest.map((key) => `[${String(key)}]`).join('')}`;
}
