/**
 * Every ECR call is authorized before it can act, as ECR does: the caller's identity-based policies
 * (and session policy) and the target registry's permissions policy, decided by the local IAM
 * evaluator (local/iam/evaluate.ts, AWS's policy evaluation logic). Registry policies here have the
 * V2 scope, AWS's default, which "enforces the registry policy in all ECR requests"
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-create.html);
 * repository policies, the other resource policy of ECR, are not modelled.
 *
 * The resource of a call is what ECR's service authorization reference names for the action
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html):
 * `*` for the registry-level actions (those with no resource type, e.g. DescribeRegistry), else the
 * repository's ARN, each named repository's for `repositoryNames`, and the registry's
 * `repository/*` for a DescribeRepositories naming none.
 *
 * A denial is ECR's `AccessDeniedException` (HTTP 400, https://docs.aws.amazon.com/AmazonECR/latest/APIReference/CommonErrors.html)
 * with only `__type` and `message`, the message naming the principal, the action and the resource.
 */
import { authorize, isRegistryLevelAction, rootPrincipal, type Principal } from '../../iam/evaluate.ts';
import { EcrError } from '../errors.ts';
import { REFERRER_IAM_ACTIONS } from '../operations/referrers.ts';
import type { World } from '../world.ts';
import type { IamDecision, IamDecisionLog } from './decisions.ts';

export function decisionOf(
  principal: Principal,
  action: string,
  resource: string,
  allowed: boolean,
): IamDecision {
  return {
    principal: principal.arn,
    ...(principal.roleArn !== undefined ? { roleArn: principal.roleArn } : {}),
    session: principal.sessionPolicy !== undefined,
    action,
    resource,
    allowed,
  };
}

export interface EcrCall {
  /** The registered principal of the access key, else the calling account's root user. */
  principal: Principal;
  /** The registry the call acts on. */
  account: string;
  region: string;
  operation: string;
  input: Record<string, unknown>;
}

export function principalOrRoot(registered: Principal | undefined, callerAccount: string): Principal {
  return registered ?? rootPrincipal(callerAccount);
}

async function resourcesOf(call: EcrCall, action: string): Promise<string[]> {
  if (await isRegistryLevelAction(action)) return ['*'];
  const arn = (name: string) => `arn:aws:ecr:${call.region}:${call.account}:repository/${name}`;
  if (typeof call.input.repositoryName === 'string') return [arn(call.input.repositoryName)];
  const names = call.input.repositoryNames;
  if (Array.isArray(names) && names.length > 0) return names.map((name) => arn(String(name)));
  return [arn('*')];
}

function registryPolicy(world: World, account: string, region: string): Record<string, unknown> | undefined {
  const text = world.registry(account, region).policy?.text;
  return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
}

/** The AccessDeniedException a call gets, or undefined if it may proceed. */
export async function ecrCallDenied(
  world: World,
  call: EcrCall,
  decisions?: IamDecisionLog,
): Promise<EcrError | undefined> {
  // Most calls are authorized as their own action; ListImageReferrers as ecr:BatchGetImage.
  const action = REFERRER_IAM_ACTIONS[call.operation] ?? `ecr:${call.operation}`;
  const resourcePolicy = registryPolicy(world, call.account, call.region);
  for (const resource of await resourcesOf(call, action)) {
    const decision = await authorize({
      principal: call.principal,
      action,
      resource,
      resourceAccount: call.account,
      ...(resourcePolicy ? { resourcePolicy } : {}),
    });
    decisions?.record(decisionOf(call.principal, action, resource, decision.allowed));
    if (!decision.allowed) return new EcrError('AccessDeniedException', decision.message);
  }
  return undefined;
}
