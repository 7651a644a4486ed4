/**
 * The IAM roles of the local world (the fixture's `accounts[].roles`) and STS's AssumeRole on them.
 *
 * AssumeRole is decided as AWS decides it
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage-assume.html): the role is a
 * resource whose resource-based policy is its trust policy, so the caller's identity-based policies
 * must allow `sts:AssumeRole` on the role's ARN and the trust policy must allow the caller (both
 * sides for a role of another account; one suffices in the role's own account). A role that does not
 * exist is refused the same way (STS answers AccessDenied, not NotFound).
 *
 * The session acts with the role's identity-based policies, narrowed by the session policy passed on
 * AssumeRole (`Policy`): "The resulting session's permissions are the intersection of the role's
 * identity-based policy and the session policies"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session), and its
 * ARN is `arn:aws:sts::<account>:assumed-role/<role name>/<session name>`
 * (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
 *
 * Locally AssumeRole is `POST /_local/sts/assume-role` on the emulator, JSON
 * `{roleArn, roleSessionName, policy?}`, the caller named by the access key of its SigV4
 * Authorization header like any ECR call; a refusal is HTTP 403 `{__type: "AccessDenied", message}`,
 * STS's error code for it.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { authorize, type PolicyDocument, type Principal } from '../../iam/evaluate.ts';
import type { EmulatorPrincipals } from './principals.ts';
import { decisionOf } from './authorize-call.ts';
import type { IamDecisionLog } from './decisions.ts';

export const STS_ASSUME_ROLE_PATH = '/_local/sts/assume-role';

const PolicyDocumentSchema = z.record(z.string(), z.unknown());

/** A role of the fixture: its name, trust policy and identity-based (inline) policies. */
export const fixtureRoleSchema = z.object({
  name: z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name (1-64 of [A-Za-z0-9+=,.@_-])'),
  /** The trust policy: who may assume the role (`sts:AssumeRole`). */
  trustPolicy: PolicyDocumentSchema,
  /** The role's identity-based policies, by name. */
  policies: z.record(z.string(), PolicyDocumentSchema).default({}),
});
export type FixtureRole = z.input<typeof fixtureRoleSchema>;

export interface RoleRecord {
  arn: string;
  account: string;
  name: string;
  trustPolicy: PolicyDocument;
  policies: { name: string; policy: PolicyDocument }[];
}

/** The world's roles, by ARN. */
export class EmulatorRoles {
  private readonly byArn = new Map<string, RoleRecord>();

  add(account: string, role: z.output<typeof fixtureRoleSchema>): RoleRecord {
    const record: RoleRecord = {
      arn: `arn:aws:iam::${account}:role/${role.name}`,
      account,
      name: role.name,
      trustPolicy: role.trustPolicy,
      policies: Object.entries(role.policies).map(([name, policy]) => ({ name, policy })),
    };
    this.byArn.set(record.arn, record);
    return record;
  }

  get(arn: string): RoleRecord | undefined {
    return this.byArn.get(arn);
  }

  all(): RoleRecord[] {
    return [...this.byArn.values()];
  }
}

/**
 * A role that trusts an account (its root principal: any principal of that account whose own
 * policies allow `sts:AssumeRole` on the role), the usual trust for a cross-account role:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/tutorial_cross-account-with-roles.html
 */
export function roleTrustingAccount(
  name: string,
  trustedAccount: string,
  policies: Record<string, PolicyDocument>,
): FixtureRole {
  return {
    name,
    trustPolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${trustedAccount}:root` },
          Action: 'sts:AssumeRole',
        },
      ],
    },
    policies,
  };
}

const AssumeRoleRequestSchema = z.object({
  roleArn: z.string().regex(/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be a role ARN'),
  // https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html: 2-64 of [\w+=,.@-]
  roleSessionName: z.string().regex(/^[\w+=,.@-]{2,64}$/, 'must be 2-64 of [A-Za-z0-9+=,.@_-]'),
  /** The session policy, as its JSON text (STS's `Policy`). */
  policy: z.string().optional(),
});

export interface AssumedRoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** The session's ARN. */
  arn: string;
}

export type AssumeRoleOutcome =
  | { status: 200; credentials: AssumedRoleCredentials }
  | {
      status: 400 | 403;
      code: 'ValidationError' | 'MalformedPolicyDocument' | 'AccessDenied';
      message: string;
    };

let sessionCounter = 0;

/** Decides an AssumeRole and, if allowed, registers the session as a principal. */
export async function assumeRole(
  roles: EmulatorRoles,
  principals: EmulatorPrincipals,
  caller: Principal,
  body: Buffer,
  decisions?: IamDecisionLog,
): Promise<AssumeRoleOutcome> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { status: 400, code: 'ValidationError', message: 'The AssumeRole request body is not JSON' };
  }
  const parsed = AssumeRoleRequestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    return { status: 400, code: 'ValidationError', message: problems };
  }
  const { roleArn, roleSessionName, policy } = parsed.data;
  let sessionPolicy: PolicyDocument | undefined;
  if (policy !== undefined) {
    try {
      const document: unknown = JSON.parse(policy);
      if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new Error();
      sessionPolicy = document as PolicyDocument;
    } catch {
      return {
        status: 400,
        code: 'MalformedPolicyDocument',
        message: 'The session policy is not a JSON object',
      };
    }
  }
  const roleAccount = /^arn:aws:iam::(\d{12}):/.exec(roleArn)?.[1] ?? '';
  const role = roles.get(roleArn);
  const decision = await authorize({
    principal: caller,
    action: 'sts:AssumeRole',
    resource: roleArn,
    resourceAccount: roleAccount,
    // A role that does not exist trusts no one.
    resourcePolicy: role?.trustPolicy ?? { Version: '2012-10-17', Statement: [] },
  });
  decisions?.record(decisionOf(caller, 'sts:AssumeRole', roleArn, decision.allowed && role !== undefined));
  if (!decision.allowed || !role) {
    const message = decision.allowed
      ? `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn} (no such role in the local world)`
      : decision.message;
    return { status: 403, code: 'AccessDenied', message };
  }
  sessionCounter += 1;
  const hash = createHash('sha256')
    .update(`${roleArn} ${caller.arn} ${roleSessionName} ${policy ?? ''} ${sessionCounter}`)
    .digest('hex')
    .slice(0, 12)
    .toUpperCase();
  // ASIA…<account>: the services' account-of-the-caller rule (a key ending in 12 digits) still holds.
  const accessKeyId = `ASIA${hash}${role.account}`;
  const arn = `arn:aws:sts::${role.account}:assumed-role/${role.name}/${roleSessionName}`;
  principals.register([
    {
      accessKeyId,
      arn,
      account: role.account,
      roleArn,
      identityPolicies: role.policies,
      ...(sessionPolicy ? { sessionPolicy } : {}),
    },
  ]);
  return {
    status: 200,
    credentials: {
      accessKeyId,
      secretAccessKey: 'emulator-secret-key',
      sessionToken: `session-${hash}`,
      arn,
    },
  };
}

export const isAssumeRoleRequest = (req: IncomingMessage): boolean =>
  req.method === 'POST' && req.url === STS_ASSUME_ROLE_PATH;
