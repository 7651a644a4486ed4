/**
 * Registry permissions policies: whether a destination registry's resource policy lets a source
 * account replicate into it (docs/architecture.md §3.1 step 1, Plan's cross-account check).
 *
 * - Cross-account replication: the destination registry's permissions policy must allow the source
 *   account `ecr:ReplicateImage`, and `ecr:CreateRepository` for replication to create repositories
 *   there (repositories that already exist need only the former).
 *   https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-create-replication.html
 * - Policy evaluation: an explicit Deny wins, then an Allow is needed; nothing allows by default.
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 *
 * Decided here: Conditions are not evaluated (a statement with a Condition never counts as an Allow,
 * the safe side), Principal, Action and Resource are matched as globs. The ECR emulator
 * (local/ecr-emulator) evaluates registry policies with this same code.
 */
import { z } from 'zod';
import { compileGlob } from '../contracts/patterns.ts';

export interface PolicyStatement {
  effect: 'Allow' | 'Deny';
  /** Account ids, or '*'. */
  principals: string[];
  actions: string[];
  resources: string[];
  conditional: boolean;
}

/** The actions replication needs in the destination registry (AWS userguide, above). */
export const REPLICATE_IMAGE = 'ecr:ReplicateImage';
export const CREATE_REPOSITORY = 'ecr:CreateRepository';

const asList = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

/** `arn:aws:iam::123456789012:root`, `…:role/x`, or a bare account id → the account; `*` stays. */
function principalAccount(value: unknown): string | undefined {
  if (value === '*') return '*';
  if (typeof value !== 'string') return undefined;
  if (/^\d{12}$/.test(value)) return value;
  return /^arn:[^:]+:iam::(\d{12}):/.exec(value)?.[1];
}

/** The outer shape of a policy document (the edge: GetRegistryPolicy's policyText is untrusted JSON). */
const PolicyDocumentSchema = z.object({ Statement: z.unknown() }).passthrough();

export type ParsedPolicy = { statements: PolicyStatement[] } | { problem: string };

/** Parses a policy document, naming what is wrong instead of throwing. */
export function parsePolicyStatements(policyText: string): ParsedPolicy {
  let json: unknown;
  try {
    json = JSON.parse(policyText);
  } catch {
    return { problem: 'not a JSON document' };
  }
  const document = PolicyDocumentSchema.safeParse(json);
  const statements = asList(document.success ? document.data.Statement : undefined);
  if (statements.length === 0) return { problem: 'no Statement' };
  const parsed: PolicyStatement[] = [];
  for (const [index, raw] of statements.entries()) {
    const s = (raw ?? {}) as Record<string, unknown>;
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') {
      return { problem: `Statement[${index}].Effect must be Allow or Deny` };
    }
    const principal = s.Principal;
    const principals = (
      principal === '*'
        ? ['*']
        : asList((principal as { AWS?: unknown } | undefined)?.AWS).map(principalAccount)
    ).filter((p): p is string => p !== undefined);
    if (principals.length === 0) return { problem: `Statement[${index}].Principal names no account` };
    const actions = asList(s.Action).filter((a): a is string => typeof a === 'string');
    if (actions.length === 0) return { problem: `Statement[${index}].Action is required` };
    const resources = asList(s.Resource ?? '*').filter((r): r is string => typeof r === 'string');
    parsed.push({ effect: s.Effect, principals, actions, resources, conditional: s.Condition !== undefined });
  }
  return { statements: parsed };
}

/**
 * IAM's wildcards (`*` any run of characters, `?` one), case-insensitively as before, with the
 * project's linear matcher: a policy comes from another account, and a backtracking regex over
 * its Resource or Action is theirs to make us spin on.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
 */
const glob = (pattern: string, value: string): boolean =>
  compileGlob(pattern.toLowerCase())(value.toLowerCase());

/** Whether the policy lets `account` perform `action` (e.g. `ecr:ReplicateImage`) on `resource`. */
export function policyAllows(
  statements: readonly PolicyStatement[] | undefined,
  account: string,
  action: string,
  resource: string,
): boolean {
  if (!statements) return false;
  const matching = statements.filter(
    (s) =>
      s.principals.some((p) => p === '*' || p === account) &&
      s.actions.some((a) => glob(a, action)) &&
      s.resources.some((r) => glob(r, resource)),
  );
  if (matching.some((s) => s.effect === 'Deny')) return false;
  return matching.some((s) => s.effect === 'Allow' && !s.conditional);
}

/** The ARN of a repository (or of every repository, `*`) in a registry. */
export const repositoryArn = (account: string, region: string, repository = '*'): string =>
  `arn:aws:ecr:${region}:${account}:repository/${repository}`;

export interface ReplicationPermission {
  /** `ecr:ReplicateImage` on every repository of the destination registry. */
  replicate: boolean;
  /** `ecr:CreateRepository` too: replication may create missing repositories there. */
  createRepository: boolean;
  /** Why the policy could not be read as a policy, if it could not. */
  problem?: string;
}

/**
 * What a destination registry's policy (`undefined`: it has none) grants `sourceAccount` for
 * replication. Judged registry-wide (`repository/*`, the resource the AWS example policy grants):
 * a grant limited to some repositories is not counted.
 */
export function replicationPermission(
  policyText: string | undefined,
  sourceAccount: string,
  destination: { registryId: string; region: string },
): ReplicationPermission {
  if (policyText === undefined) return { replicate: false, createRepository: false };
  const parsed = parsePolicyStatements(policyText);
  if ('problem' in parsed) return { replicate: false, createRepository: false, problem: parsed.problem };
  const everyRepository = repositoryArn(destination.registryId, destination.region);
  return {
    replicate: policyAllows(parsed.statements, sourceAccount, REPLICATE_IMAGE, everyRepository),
    createRepository: policyAllows(parsed.statements, sourceAccount, CREATE_REPOSITORY, everyRepository),
  };
}
