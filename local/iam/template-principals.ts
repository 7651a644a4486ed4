/**
 * The principals of a synthesized template: every `AWS::IAM::Role` with the identity-based policies
 * CloudFormation attaches to it (its inline `Policies` and every `AWS::IAM::Policy` naming it in
 * `Roles`), tokens resolved as at deploy time. A Lambda function acts as its role's session: AWS
 * names such a caller `arn:aws:sts::<account>:assumed-role/<role name>/<session>` (the session name
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html).
 *
 * AWS managed policies in `ManagedPolicyArns` are not resolved (their documents are not in the
 * template): the construct attaches none, and a role that has some is refused by name.
 *
 * The session is named `<role name>-session` here (in AWS a function's session is named after the
 * function); what matters to a denial is the role, which the session ARN names.
 *
 * Each principal gets an access key id that identifies it to the local services (the runner signs a
 * function's calls with it): `ASIA` + 12 hex digits of the role ARN's hash + the account, so that
 * the services' account-of-the-caller rule (an access key ending in 12 digits) still holds.
 */
import { createHash } from 'node:crypto';
import type { CfnTemplate } from '../synth/template-tokens.ts';
import type { TokenResolver } from '../synth/template-tokens.ts';
import type { PolicyDocument, Principal } from './evaluate.ts';

export interface TemplatePrincipal extends Principal {
  readonly roleLogicalId: string;
  readonly roleArn: string;
  readonly accessKeyId: string;
}

/** The access key id that identifies a role session to the local services. */
export function accessKeyIdForRole(roleArn: string, account: string): string {
  const hash = createHash('sha256').update(roleArn).digest('hex').slice(0, 12).toUpperCase();
  return `ASIA${hash}${account}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The logical id a `{Ref: id}` or `{Fn::GetAtt: [id, …]}` names. */
function referencedId(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  if (typeof value.Ref === 'string') return value.Ref;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return undefined;
}

/** Every role of the template as a principal, by the role's logical id. */
export function principalsFromTemplate(
  template: CfnTemplate,
  resolver: TokenResolver,
  account: string,
): Map<string, TemplatePrincipal> {
  const resources = template.Resources ?? {};
  const policies = new Map<string, { name: string; policy: PolicyDocument }[]>();
  const attach = (roleId: string, name: string, document: unknown) => {
    const resolved = resolver.resolve(document);
    if (!isObject(resolved)) throw new Error(`The policy ${name} of ${roleId} is not a JSON object`);
    policies.set(roleId, [...(policies.get(roleId) ?? []), { name, policy: resolved }]);
  };
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const roles = resource.Properties?.Roles;
    for (const role of Array.isArray(roles) ? roles : []) {
      const roleId = referencedId(role);
      if (roleId) attach(roleId, logicalId, resource.Properties?.PolicyDocument);
    }
  }
  const principals = new Map<string, TemplatePrincipal>();
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    const properties = resource.Properties ?? {};
    const managed = properties.ManagedPolicyArns;
    if (Array.isArray(managed) && managed.length > 0) {
      throw new Error(
        `The role ${logicalId} has managed policies (ManagedPolicyArns), which the local IAM evaluator cannot read`,
      );
    }
    const inline = properties.Policies;
    for (const entry of Array.isArray(inline) ? inline : []) {
      if (isObject(entry))
        attach(
          logicalId,
          typeof entry.PolicyName === 'string' ? entry.PolicyName : logicalId,
          entry.PolicyDocument,
        );
    }
    const roleArn = resolver.getAtt(logicalId, 'Arn');
    const roleName =
      roleArn
        .slice(roleArn.indexOf(':role/') + ':role/'.length)
        .split('/')
        .pop() ?? logicalId;
    principals.set(logicalId, {
      roleLogicalId: logicalId,
      roleArn,
      arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${roleName}-session`,
      account,
      identityPolicies: policies.get(logicalId) ?? [],
      accessKeyId: accessKeyIdForRole(roleArn, account),
    });
  }
  return principals;
}

/** The role a function runs as: the logical id its `Role` property names. */
export function roleOfFunction(template: CfnTemplate, functionLogicalId: string): string | undefined {
  return referencedId(template.Resources?.[functionLogicalId]?.Properties?.Role);
}

/** The role the state machine runs as: the logical id its `RoleArn` names. */
export function roleOfStateMachine(template: CfnTemplate): string | undefined {
  const machine = Object.values(template.Resources ?? {}).find(
    (resource) => resource.Type === 'AWS::StepFunctions::StateMachine',
  );
  return referencedId(machine?.Properties?.RoleArn);
}

/** Each `AWS::S3::BucketPolicy` of the template: the bucket's name and its policy, tokens resolved. */
export function bucketPoliciesFromTemplate(
  template: CfnTemplate,
  resolver: TokenResolver,
): { bucket: string; policy: PolicyDocument }[] {
  return Object.values(template.Resources ?? {})
    .filter((resource) => resource.Type === 'AWS::S3::BucketPolicy')
    .map((resource) => {
      const bucket = resolver.resolve(resource.Properties?.Bucket);
      const policy = resolver.resolve(resource.Properties?.PolicyDocument);
      if (typeof bucket !== 'string' || !isObject(policy))
        throw new Error('A bucket policy of the template names no bucket or has no policy document');
      return { bucket, policy };
    });
}
