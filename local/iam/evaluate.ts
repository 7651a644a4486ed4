/**
 * The local world's IAM decision: one request (principal, action, resource) against the policies
 * that apply to it, decided by `@cloud-copilot/iam-simulate`, a maintained policy simulator that
 * carries AWS's service authorization data (actions, resource types, condition keys), rather than by
 * a hand-written matcher, and never by the product's own evaluator (the oracle must not share code
 * with what it checks).
 *
 * Licence: `@cloud-copilot/iam-simulate` (and its iam-policy, iam-utils) are AGPL-3.0-or-later; they
 * stay devDependencies of this private `local/` workspace, never dependencies of the published package.
 *
 * AWS's policy evaluation logic, as modelled here:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * - an explicit Deny in any applicable policy wins;
 * - within one account, an Allow in the identity-based policies or in the resource-based policy
 *   suffices (a session policy, when the principal is a role session with one, must allow too);
 * - across accounts, both sides must allow: the caller's identity-based policies and the resource
 *   account's resource-based policy
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html).
 *
 * Not modelled: service control and resource control policies (none: AWS's full-access defaults),
 * permission boundaries, VPC endpoint policies, KMS key policies, ECR repository policies (only the
 * registry permissions policy is a resource policy here).
 *
 * A denial names the principal, the action, the resource and why, in the words AWS uses:
 * "User: <principal> is not authorized to perform: <action> on resource: <resource> because no
 * identity-based policy allows the <action> action" (or "… with an explicit deny in a
 * resource-based policy", …), https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
 */
import {
  isWildcardOnlyAction,
  runSimulation,
  runUnsafeSimulation,
  type Simulation,
} from '@cloud-copilot/iam-simulate';

/** An IAM policy document (JSON). */
export type PolicyDocument = Record<string, unknown>;

/** Who is calling: an assumed-role session, or an account's root user. */
export interface Principal {
  /** The caller's ARN as AWS names it in a denial: `arn:aws:sts::<account>:assumed-role/<role>/<session>` or `arn:aws:iam::<account>:root`. */
  readonly arn: string;
  readonly account: string;
  /** For a role session: the role's ARN (what resource policies name). */
  readonly roleArn?: string;
  /** The identity-based policies attached to the principal (a root user: allow everything). */
  readonly identityPolicies: readonly { readonly name: string; readonly policy: PolicyDocument }[];
  /** The session policy passed to AssumeRole, if any: the session's permissions are the intersection. */
  readonly sessionPolicy?: PolicyDocument;
}

export interface AuthorizationRequest {
  readonly principal: Principal;
  /** `service:Action`, e.g. `ecr:DescribeImages`. */
  readonly action: string;
  /** The resource's ARN, or `*` for an action that supports no resource-level permission. */
  readonly resource: string;
  /** The account that owns the resource. */
  readonly resourceAccount: string;
  /** The resource's resource-based policy (e.g. the registry permissions policy, a bucket policy). */
  readonly resourcePolicy?: PolicyDocument;
  /** Request context keys (e.g. `aws:SecureTransport`). */
  readonly context?: Record<string, string | string[]>;
}

export type AuthorizationDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly message: string };

/** The policies of an account's root user: everything in its own account. */
export const ROOT_IDENTITY_POLICY: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};

export function rootPrincipal(account: string): Principal {
  return {
    arn: `arn:aws:iam::${account}:root`,
    account,
    identityPolicies: [{ name: 'root', policy: ROOT_IDENTITY_POLICY }],
  };
}

/**
 * Decisions already made, by the whole request as JSON: a decision is a function of the request
 * alone (principal and its policies, action, resource, resource policy, context), so a repeated
 * request needs no second simulation. A run repeats a few hundred distinct requests thousands of
 * times; one simulation costs about 1-2 ms, a remembered one about a tenth of that (mostly the key).
 * Bounded, oldest first out.
 */
const decisions = new Map<string, AuthorizationDecision>();
const MAX_REMEMBERED_DECISIONS = 10_000;

/** Decides one request. An evaluation the simulator cannot run (an unknown action) is a denial naming why. */
export async function authorize(request: AuthorizationRequest): Promise<AuthorizationDecision> {
  const key = JSON.stringify(request);
  const known = decisions.get(key);
  if (known) return known;
  const decision = await decide(request);
  if (decisions.size >= MAX_REMEMBERED_DECISIONS) {
    const oldest = decisions.keys().next();
    if (!oldest.done) decisions.delete(oldest.value);
  }
  decisions.set(key, decision);
  return decision;
}

async function decide(request: AuthorizationRequest): Promise<AuthorizationDecision> {
  const simulation: Simulation = {
    request: {
      principal: request.principal.arn,
      action: request.action,
      resource: { resource: request.resource, accountId: request.resourceAccount },
      contextVariables: { ...request.context },
    },
    identityPolicies: request.principal.identityPolicies.map((p) => ({ name: p.name, policy: p.policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
    ...(request.principal.sessionPolicy ? { sessionPolicy: request.principal.sessionPolicy } : {}),
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error' && result.errors.message === 'invalid.action') {
    // An action newer than the simulator's copy of AWS's service reference (ECR's replication
    // backfill actions): the same engine decides without the data, for a caller in the resource's
    // own account and no resource policy only (the unchecked path cannot read a resource policy).
    if (request.principal.account === request.resourceAccount) {
      const unchecked = runUnsafeSimulation(
        { ...simulation, resourcePolicy: undefined, sessionPolicy: undefined },
        {},
      );
      if (unchecked === 'Allowed' && !request.principal.sessionPolicy) return { allowed: true };
      return { allowed: false, message: `${denialPrefix(request)} ${denialReason(request, undefined)}` };
    }
  }
  if (result.resultType === 'error') {
    return {
      allowed: false,
      message: `${denialPrefix(request)} (the local IAM evaluator could not evaluate it: ${result.errors.message})`,
    };
  }
  if (result.overallResult === 'Allowed') return { allowed: true };
  const analysis = result.resultType === 'single' ? result.result.analysis : result.results[0]?.analysis;
  if (!analysis) {
    // A wildcard resource (`repository/*`) carries no per-policy analysis: ask each side alone.
    return {
      allowed: false,
      message: `${denialPrefix(request)} ${await sideThatDenies(request, simulation)}`,
    };
  }
  return { allowed: false, message: `${denialPrefix(request)} ${denialReason(request, analysis)}` };
}

/**
 * Whether an action supports no resource-level permission (its resource is `*`), from AWS's data.
 * An action the data does not carry yet (ECR's replication backfill actions) is taken as one: they
 * act on the registry, not on a repository.
 */
export async function isRegistryLevelAction(action: string): Promise<boolean> {
  const [service = '', name = ''] = action.split(':');
  try {
    return await isWildcardOnlyAction(service, name);
  } catch {
    return true;
  }
}

/** Which policy type has no Allow, found by simulating the identity side alone, then with the session policy. */
async function sideThatDenies(request: AuthorizationRequest, simulation: Simulation): Promise<string> {
  const noAllow = (type: string) => `because no ${type} policy allows the ${request.action} action`;
  const allowed = async (s: Simulation) => {
    const result = await runSimulation(s, {});
    return result.resultType !== 'error' && result.overallResult === 'Allowed';
  };
  // The caller's side alone: as if the resource were in the caller's account, with no resource policy.
  const ownSide: Simulation = {
    ...simulation,
    request: {
      ...simulation.request,
      resource: { ...simulation.request.resource, accountId: request.principal.account },
    },
    resourcePolicy: undefined,
  };
  if (!(await allowed({ ...ownSide, sessionPolicy: undefined }))) return noAllow('identity-based');
  if (simulation.sessionPolicy && !(await allowed(ownSide))) return noAllow('session');
  return noAllow('resource-based');
}

function denialPrefix(request: AuthorizationRequest): string {
  return `User: ${request.principal.arn} is not authorized to perform: ${request.action} on resource: ${request.resource}`;
}

type Analysis = Extract<
  Awaited<ReturnType<typeof runSimulation>>,
  { resultType: 'single' }
>['result']['analysis'];

/** Why, in AWS's words: an explicit deny first, then the policy type that has no Allow. */
function denialReason(request: AuthorizationRequest, analysis: Analysis | undefined): string {
  const noAllow = (type: string) => `because no ${type} policy allows the ${request.action} action`;
  if (!analysis) return noAllow('identity-based');
  if (analysis.identityAnalysis?.result === 'ExplicitlyDenied')
    return 'with an explicit deny in an identity-based policy';
  if (analysis.resourceAnalysis?.result === 'ExplicitlyDenied')
    return 'with an explicit deny in a resource-based policy';
  if (analysis.sessionAnalysis?.result === 'ExplicitlyDenied')
    return 'with an explicit deny in a session policy';
  const identityAllows = analysis.identityAnalysis?.result === 'Allowed';
  if (!identityAllows) {
    // Same account: a resource policy allowing the principal would have sufficed, so no identity allow is the reason.
    return noAllow('identity-based');
  }
  if (analysis.sessionAnalysis && analysis.sessionAnalysis.result !== 'Allowed') return noAllow('session');
  return noAllow('resource-based');
}
