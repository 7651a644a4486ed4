/**
 * The runner's side of IAM in the local world: every Lambda step calls ECR as its function's role,
 * with credentials that identify that role's session to the emulator, which evaluates the call
 * against the role's policies from the synthesized template (local/iam/). The runner registers the
 * template's roles with the emulator before the execution starts, as deploying the stack creates them.
 */
import { destinationRolePolicy } from 'ecr-backfill/core';
import type { CfnTemplate, TokenResolver } from '../synth/template-tokens.ts';
import type { PolicyDocument } from '../iam/evaluate.ts';
import { roleTrustingAccount, STS_ASSUME_ROLE_PATH, type FixtureRole } from '../ecr-emulator/index.ts';
import {
  bucketPoliciesFromTemplate,
  principalsFromTemplate,
  roleOfFunction,
  roleOfStateMachine,
  type TemplatePrincipal,
} from '../iam/template-principals.ts';
import type { LocalS3 } from '../s3/index.ts';
import type { TemplateFunction } from './template.ts';

/** Where the emulator takes registrations (local/ecr-emulator/iam/principals.ts). */
const REGISTRATION_PATH = '/_local/iam/principals';

export interface FunctionPrincipals {
  /** The principal each function (by logical id) runs as. */
  byFunction: Map<string, TemplatePrincipal>;
  all: TemplatePrincipal[];
}

export function functionPrincipals(
  template: CfnTemplate,
  resolver: TokenResolver,
  account: string,
  functions: readonly TemplateFunction[],
): FunctionPrincipals {
  const principals = principalsFromTemplate(template, resolver, account);
  const byFunction = new Map<string, TemplatePrincipal>();
  for (const fn of functions) {
    const role = roleOfFunction(template, fn.logicalId);
    const principal = role ? principals.get(role) : undefined;
    if (!principal) throw new Error(`The function ${fn.logicalId} has no role of the template to run as`);
    byFunction.set(fn.logicalId, principal);
  }
  return { byFunction, all: [...principals.values()] };
}

/** The principal Step Functions acts as for the template's state machine: its role's session. */
export function stateMachinePrincipal(
  template: CfnTemplate,
  principals: readonly TemplatePrincipal[],
): TemplatePrincipal {
  const role = roleOfStateMachine(template);
  const principal = principals.find((p) => p.roleLogicalId === role);
  if (!principal) throw new Error('The template has no state machine with a role of the template');
  return principal;
}

/**
 * Tells the local S3 who the template's roles are (by their access keys) and which policy each of
 * the template's buckets has, owned by the deployment's account: it then decides every request as
 * S3 would (local/s3/iam.ts).
 */
export function registerWithLocalS3(
  s3: LocalS3,
  template: CfnTemplate,
  resolver: TokenResolver,
  account: string,
  principals: readonly TemplatePrincipal[],
): void {
  s3.iam.registerPrincipals(principals);
  for (const { bucket, policy } of bucketPoliciesFromTemplate(template, resolver)) {
    s3.iam.setBucket(bucket, { account, policy });
  }
}

/** What the emulator takes for a principal (local/ecr-emulator/iam/principals.ts). */
export interface PrincipalRegistration {
  accessKeyId: string;
  arn: string;
  account: string;
  roleArn?: string;
  identityPolicies: readonly { name: string; policy: PolicyDocument }[];
  sessionPolicy?: PolicyDocument;
}

/** Registers the principals with the ECR emulator at `endpoint`; an endpoint that refuses fails the run. */
export async function registerPrincipals(
  endpoint: string,
  principals: readonly PrincipalRegistration[],
): Promise<void> {
  const body = JSON.stringify({
    principals: principals.map(({ accessKeyId, arn, account, roleArn, identityPolicies, sessionPolicy }) => ({
      accessKeyId,
      arn,
      account,
      ...(roleArn !== undefined ? { roleArn } : {}),
      identityPolicies,
      ...(sessionPolicy !== undefined ? { sessionPolicy } : {}),
    })),
  });
  const url = new URL(REGISTRATION_PATH, endpoint);
  const response = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  if (!response.ok) {
    throw new Error(
      `The ECR endpoint ${endpoint} did not take the template's IAM principals (HTTP ${response.status}: ${await response.text()}); the local runner needs the ECR emulator`,
    );
  }
}

/**
 * The role the README tells users to create in a destination account, as a fixture role: the policy
 * of docs/iam/destination-role.json, trusting the source account
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_aws-accounts.html).
 */
export function documentedDestinationRole(name: string, sourceAccount: string): FixtureRole {
  return roleTrustingAccount(name, sourceAccount, { EcrBackfillDestination: destinationRolePolicy() });
}

/** STS's refusal of an AssumeRole (the SDK surfaces STS's error code as the error's name). */
export class StsError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

type RoleCredentials = () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }>;

/** The session name the product passes on AssumeRole (core/ecr/ecr.ts). */
const ROLE_SESSION_NAME = 'ecr-backfill';

/**
 * What a function gets for a destination's `roleArn`: STS AssumeRole in the local world (the
 * emulator decides it: the caller's `sts:AssumeRole` grant and the role's trust policy, then
 * registers the session with the role's policies and the step's session policy; ecr-emulator/iam/roles.ts),
 * called with the function role's access key as AWS's SDK would with the function's credentials.
 * Credentials are fetched on first use and kept, like `fromTemporaryCredentials`.
 */
export function destinationRoleSessions(
  endpoint: string,
  caller: { accessKeyId: string },
): (roleArn: string, region: string, sessionPolicy: string | undefined) => RoleCredentials {
  return (roleArn, region, sessionPolicy) => {
    let session: ReturnType<RoleCredentials> | undefined;
    const fetchSession: RoleCredentials = async () => {
      const response = await fetch(new URL(STS_ASSUME_ROLE_PATH, endpoint), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `AWS4-HMAC-SHA256 Credential=${caller.accessKeyId}/20260101/${region}/sts/aws4_request`,
        },
        body: JSON.stringify({
          roleArn,
          roleSessionName: ROLE_SESSION_NAME,
          ...(sessionPolicy !== undefined ? { policy: sessionPolicy } : {}),
        }),
      });
      const answer = (await response.json()) as Record<string, string>;
      if (!response.ok) throw new StsError(answer.__type ?? 'AccessDenied', answer.message ?? '');
      return {
        accessKeyId: answer.accessKeyId ?? '',
        secretAccessKey: answer.secretAccessKey ?? '',
        sessionToken: answer.sessionToken ?? '',
      };
    };
    return () => {
      session ??= fetchSession().catch((error: unknown) => {
        session = undefined; // a refusal is not cached: the next call asks again, as the SDK would
        throw error;
      });
      return session;
    };
  };
}
