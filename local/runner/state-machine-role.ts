/**
 * What Step Functions does as the state machine's role, decided locally. Step Functions "assumes
 * the role" for every call it makes on an execution's behalf, so the role must allow each of them
 * (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html):
 *
 * - a Lambda Task: `lambda:InvokeFunction` on the function (a denial is Lambda's
 *   AccessDeniedException, which a Task reports as `Lambda.AWSLambdaException`,
 *   https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html);
 * - a Distributed Map (https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html):
 *   `states:StartExecution` on the state machine for each child it starts, `states:DescribeExecution`
 *   and `states:StopExecution` under the state machine's executions (the policy the page gives names
 *   `execution:<stateMachineName>:*`; Step Functions does not say which execution each call names,
 *   so the runner decides them on the parent execution, the one ARN that pattern covers),
 *   `states:RedriveExecution` on each child a redriven Map Run redrives
 *   (`execution:<stateMachineName>/<mapLabel>:*`), `s3:GetObject` for its ItemReader and the
 *   ResultWriter's writes: those two go through an S3 client signed as the role, so the local S3
 *   decides them with the bucket policy too (local/s3/iam.ts).
 *
 * The decision is the local world's IAM evaluator's (local/iam/evaluate.ts) on the role's identity
 * policies from the synthesized template. The same class decides what the start-on-deploy custom
 * resource's function does as its role (deploy-time-start.ts). Each decision is logged (bounded: per action and resource,
 * an execution's own name left out), so the least-privilege test finds the role's unused grants.
 */
import { authorize, type Principal } from '../iam/evaluate.ts';

export interface RoleDecisionEntry {
  principal: string;
  roleArn?: string;
  action: string;
  resource: string;
  allowed: boolean;
  count: number;
}

/** Resolves with the denial's message, or undefined when the role may. */
export type ServiceRoleAuthorizer = (action: string, resource: string) => Promise<string | undefined>;

/** A role a service acts as (the state machine's, the custom resource's): its calls decided and logged. */
export class ServiceRole {
  private readonly log = new Map<string, RoleDecisionEntry>();

  constructor(readonly principal: Principal & { readonly roleArn: string }) {}

  /** The role's decision on one call the service makes as it. */
  readonly authorize: ServiceRoleAuthorizer = async (action, resource) => {
    const decision = await authorize({
      principal: this.principal,
      action,
      resource,
      resourceAccount: this.principal.account,
    });
    const folded = resource.replace(/(:execution:[^:]+):[^:]+$/, '$1:*');
    const key = `${action} ${folded} ${decision.allowed}`;
    const entry = this.log.get(key);
    if (entry) entry.count += 1;
    else
      this.log.set(key, {
        principal: this.principal.arn,
        roleArn: this.principal.roleArn,
        action,
        resource,
        allowed: decision.allowed,
        count: 1,
      });
    return decision.allowed ? undefined : decision.message;
  };

  decisions(): RoleDecisionEntry[] {
    return [...this.log.values()].map((entry) => ({ ...entry }));
  }
}
