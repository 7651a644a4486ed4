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
import { METHODS, STRATEGIES } from './contracts.ts';
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
import { hasWildcard, literalHead, repositoryMatcher, type ReplicationRuleLike } from './patterns.ts';

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
  /**
   * Engines an execution may choose (`method`). Whichever runs, the repository scope binds it: the
   * native engine only runs when every repository its backfill reaches lies inside the scope.
   */
  allowedMethods: z
    .array(z.enum(METHODS))
    .min(1)
    .default([...METHODS]),
  /** Whether an execution may set `includeUntagged` (a marker tag keeps each untagged image). */
  allowIncludeUntagged: z.boolean().default(true),
  /** Whether an execution may set `includeArchived` (re-pushing restores archived images, at a charge). */
  allowIncludeArchived: z.boolean().default(false),
  /** The largest `replicationTimeoutMinutes` an execution may ask for. */
  maxReplicationTimeoutMinutes: z
    .number()
    .int()
    .min(1)
    .max(LIMITS.replicationTimeoutMinutes)
    .default(LIMITS.replicationTimeoutMinutes),
});

export type RunPolicy = z.output<typeof RunPolicySchema>;
/** A run policy as written (the fields added after the first four have defaults). */
export type RunPolicyInput = z.input<typeof RunPolicySchema>;

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

/**
 * What the construct deploys unless told otherwise: `promote` only, no overwrites, any repository,
 * any engine (each bound by the scope), untagged images on request, archived ones never (restoring
 * them is charged for 90 days: a deployer opts in), replication waits up to the schema's limit.
 */
export const DEFAULT_RUN_POLICY: RunPolicy = {
  allowedStrategies: ['promote'],
  allowOverwriteConflicts: false,
  repositoryScope: [],
  maxConcurrencyLimit: defaultMaxConcurrencyLimit(),
  allowedMethods: [...METHODS],
  allowIncludeUntagged: true,
  allowIncludeArchived: false,
  maxReplicationTimeoutMinutes: LIMITS.replicationTimeoutMinutes,
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
  readonly method?: string;
  readonly includeUntagged?: boolean;
  readonly includeArchived?: boolean;
  readonly replicationTimeoutMinutes?: number;
}

/**
 * The policy-limited choices a raw input object makes: each field the rules read, when it has the
 * type they read (a malformed value is the schema's to report, by Plan and at synth).
 */
export function policyChoicesOf(input: Readonly<Record<string, unknown>>): PolicyChoices {
  const { strategy, overwriteConflicts, maxConcurrency, repositories, method } = input;
  const { includeUntagged, includeArchived, replicationTimeoutMinutes } = input;
  return {
    // A strategy or method that is no such thing is the schema's to name (a typo is not a policy refusal).
    ...(typeof strategy === 'string' && (STRATEGIES as readonly string[]).includes(strategy) && { strategy }),
    ...(typeof overwriteConflicts === 'boolean' && { overwriteConflicts }),
    ...(typeof maxConcurrency === 'number' && { maxConcurrency }),
    ...(Array.isArray(repositories) &&
      repositories.every((pattern) => typeof pattern === 'string') && { repositories }),
    ...(typeof method === 'string' && (METHODS as readonly string[]).includes(method) && { method }),
    ...(typeof includeUntagged === 'boolean' && { includeUntagged }),
    ...(typeof includeArchived === 'boolean' && { includeArchived }),
    ...(typeof replicationTimeoutMinutes === 'number' && { replicationTimeoutMinutes }),
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
  const { strategy, overwriteConflicts, maxConcurrency, repositories = [], method } = choices;
  const { includeUntagged, includeArchived, replicationTimeoutMinutes } = choices;
  if (strategy !== undefined && !policy.allowedStrategies.some((allowed) => allowed === strategy)) {
    problems.push(
      `${where}strategy: "${strategy}" is not allowed by this deployment's run policy (allowed: ${policy.allowedStrategies.join(', ')} - the construct's allowedStrategies)`,
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
  if (method !== undefined && !policy.allowedMethods.some((allowed) => allowed === method)) {
    problems.push(
      `${where}method: "${method}" is not allowed by this deployment's run policy (allowed: ${policy.allowedMethods.join(', ')}; the construct's allowedMethods)`,
    );
  }
  if (includeUntagged === true && !policy.allowIncludeUntagged) {
    problems.push(
      `${where}includeUntagged: not allowed by this deployment's run policy (the construct's allowIncludeUntagged is false)`,
    );
  }
  if (includeArchived === true && !policy.allowIncludeArchived) {
    problems.push(
      `${where}includeArchived: not allowed by this deployment's run policy (re-pushing restores archived images, at a charge; the construct's allowIncludeArchived is false)`,
    );
  }
  if (
    replicationTimeoutMinutes !== undefined &&
    replicationTimeoutMinutes > policy.maxReplicationTimeoutMinutes
  ) {
    problems.push(
      `${where}replicationTimeoutMinutes: must be ≤ ${policy.maxReplicationTimeoutMinutes}, this deployment's limit (got ${replicationTimeoutMinutes}; the construct's maxReplicationTimeoutMinutes)`,
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
  const resolved = parseExecutionInput(raw, { ...options, maxConcurrencyLimit: policy.maxConcurrencyLimit });
  // parseExecutionInput accepted `raw` as a plain object (or nothing) and the defaults as one.
  const explicit = policyChoicesOf({
    ...(options.defaultInput ?? {}),
    ...((raw ?? {}) as Record<string, unknown>),
  });
  const input: ResolvedInput = {
    ...resolved,
    // A default the policy does not allow yields to one it does; only an explicit choice is refused.
    ...(explicit.method === undefined &&
      !policy.allowedMethods.includes(resolved.method) && {
        method: policy.allowedMethods.includes('repush') ? 'repush' : (policy.allowedMethods[0] ?? 'repush'),
      }),
    ...(explicit.replicationTimeoutMinutes === undefined && {
      replicationTimeoutMinutes: Math.min(
        resolved.replicationTimeoutMinutes,
        policy.maxReplicationTimeoutMinutes,
      ),
    }),
  };
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
 * Where ECR's native replication backfill would reach outside the policy's repository scope, one
 * line per replication rule that does: `StartReplicationBackfill` names a registry and a destination
 * only, and copies every repository the rules for that destination cover, whatever the execution
 * selected (https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-backfill.html).
 * Judged on the rules' filters, not on the repositories that exist now: a repository created during
 * the run would be reached too. Empty: the scope binds the backfill (always so for an empty scope).
 */
export function nativeReachBeyondScope(
  rules: readonly ReplicationRuleLike[],
  destinations: readonly { region: string; registryId: string }[],
  scope: readonly string[],
): string[] {
  if (scope.length === 0) return [];
  const beyond: string[] = [];
  rules.forEach((rule, index) => {
    const targeted = (rule.destinations ?? []).some((d) =>
      destinations.some((wanted) => wanted.region === d.region && wanted.registryId === d.registryId),
    );
    if (!targeted) return;
    const filters = rule.repositoryFilters ?? [];
    if (filters.length === 0) {
      if (!prefixInsideScope('', scope)) beyond.push(`rule ${index} covers every repository (no filter)`);
      return;
    }
    const outside = filters.map((f) => f.filter ?? '').filter((prefix) => !prefixInsideScope(prefix, scope));
    if (outside.length > 0) {
      beyond.push(
        `rule ${index} covers every repository starting with ${outside.map((p) => `"${p}"`).join(', ')}`,
      );
    }
  });
  return beyond;
}

/**
 * Why the native engine may not run under this policy for these destinations (empty: it may): the
 * policy does not allow it, or its reach goes beyond the repository scope (nativeReachBeyondScope).
 */
export function nativeBarredBy(
  policy: RunPolicy,
  rules: readonly ReplicationRuleLike[],
  destinations: readonly { region: string; registryId: string }[],
): string[] {
  const barred: string[] = [];
  if (!policy.allowedMethods.includes('native')) {
    barred.push(
      `this deployment's run policy does not allow method native (allowed: ${policy.allowedMethods.join(', ')}; the construct's allowedMethods)`,
    );
  }
  const beyond = nativeReachBeyondScope(rules, destinations, policy.repositoryScope);
  if (beyond.length > 0) {
    barred.push(
      `a native backfill (StartReplicationBackfill) copies every repository the replication rules cover, beyond this deployment's repository scope (${policy.repositoryScope.join(', ')}; the construct's repositoryScope): ${beyond.join(', ')}`,
    );
  }
  return barred;
}

/**
 * Whether every name starting with `prefix` lies inside the scope: a plain scope entry (a prefix)
 * that `prefix` extends, or a glob that is a literal head followed by a single trailing `*`. Other
 * globs are not decided here and count as not covering (the safe answer).
 */
function prefixInsideScope(prefix: string, scope: readonly string[]): boolean {
  return scope.some((entry) => {
    if (!hasWildcard(entry)) return prefix.startsWith(entry);
    const head = entry.slice(0, -1);
    return entry.endsWith('*') && !hasWildcard(head) && prefix.startsWith(head);
  });
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
