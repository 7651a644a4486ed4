/**
 * Registry permissions policies: the resource policy of a private registry, which ECR consults when
 * another account replicates into it or (as the emulator's one model of resource policies) acts on
 * it directly.
 *
 * - Cross-account replication: "the destination registry's permissions policy must allow the source
 *   registry's account `ecr:ReplicateImage`", and `ecr:CreateRepository` for replication to create
 *   repositories there.
 *   https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-create-replication.html
 * - Policy evaluation: an explicit Deny wins, then an Allow is needed; nothing allows by default.
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 *
 * Decided here where AWS differs or is silent: direct calls on another account's repositories are
 * governed in AWS by repository policies, which the emulator does not model; it checks the target
 * registry's policy instead, so a call into another account's registry needs that policy to allow
 * the caller's account the action, or credentials of that account (an assumed role: see server.ts).
 * Conditions are not evaluated (a statement with a Condition never matches, the safe side for an
 * Allow); Resource is matched as a glob against the registry's repository ARNs.
 */
import { invalidParameter } from './errors.ts';

export interface PolicyStatement {
  effect: 'Allow' | 'Deny';
  /** Account ids, or '*'. */
  principals: string[];
  actions: string[];
  resources: string[];
  conditional: boolean;
}

const asList = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

/** `arn:aws:iam::123456789012:root`, `…:role/x`, or a bare account id → the account; `*` stays. */
function principalAccount(value: unknown): string | undefined {
  if (value === '*') return '*';
  if (typeof value !== 'string') return undefined;
  if (/^\d{12}$/.test(value)) return value;
  return /^arn:[^:]+:iam::(\d{12}):/.exec(value)?.[1];
}

/** Parses a policy document, naming what is wrong (PutRegistryPolicy's InvalidParameterException). */
export function parseRegistryPolicy(policyText: string): PolicyStatement[] {
  let document: unknown;
  try {
    document = JSON.parse(policyText);
  } catch {
    throw invalidParameter("Invalid parameter at 'policyText': not a JSON document");
  }
  const statements = asList((document as { Statement?: unknown } | null)?.Statement);
  if (statements.length === 0) throw invalidParameter("Invalid parameter at 'policyText': no Statement");
  return statements.map((raw, index) => {
    const s = (raw ?? {}) as Record<string, unknown>;
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') {
      throw invalidParameter(
        `Invalid parameter at 'policyText': Statement[${index}].Effect must be Allow or Deny`,
      );
    }
    const principal = s.Principal;
    const principals = (
      principal === '*'
        ? ['*']
        : asList((principal as { AWS?: unknown } | undefined)?.AWS).map(principalAccount)
    ).filter((p): p is string => p !== undefined);
    if (principals.length === 0) {
      throw invalidParameter(
        `Invalid parameter at 'policyText': Statement[${index}].Principal names no account`,
      );
    }
    const actions = asList(s.Action).filter((a): a is string => typeof a === 'string');
    if (actions.length === 0) {
      throw invalidParameter(`Invalid parameter at 'policyText': Statement[${index}].Action is required`);
    }
    const resources = asList(s.Resource ?? '*').filter((r): r is string => typeof r === 'string');
    return { effect: s.Effect, principals, actions, resources, conditional: s.Condition !== undefined };
  });
}

const glob = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  ).test(value);

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

/**
 * What a destination account grants a source account so that replication can land there and a
 * backfill running in the source account (without a role in the destination) can read, verify and
 * promote there: the replication actions plus the repository calls the workflow makes.
 */
export const CROSS_ACCOUNT_BACKFILL_ACTIONS: readonly string[] = [
  'ecr:ReplicateImage',
  'ecr:CreateRepository',
  'ecr:DescribeRepositories',
  'ecr:DescribeImages',
  'ecr:ListImages',
  'ecr:BatchGetImage',
  'ecr:PutImage',
  'ecr:BatchDeleteImage',
];

/** A policy text allowing `accounts` the given actions on every repository (fixtures, tests). */
export function allowAccountsPolicy(accounts: readonly string[], actions: readonly string[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'EcrBackfillEmulatorGrant',
        Effect: 'Allow',
        Principal: { AWS: accounts.map((a) => `arn:aws:iam::${a}:root`) },
        Action: [...actions],
        Resource: '*',
      },
    ],
  });
}
