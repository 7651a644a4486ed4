/**
 * The IAM decisions the local world made (ECR calls and AssumeRole), aggregated: who asked for which
 * action in which registry, whether it was allowed, how often, and one resource it was asked on.
 * The least-privilege test reads it to find the grants nothing used. Aggregated so that a long run
 * (the bench) keeps a bounded log: one entry per principal, action, registry and outcome.
 */
import { AggregatedDecisionLog } from '../../iam/decision-log.ts';

export interface IamDecision {
  /** The caller as AWS names it (a role session's `assumed-role/…` ARN, or an account's root). */
  principal: string;
  /** The role the caller is a session of, if any. */
  roleArn?: string;
  /** Whether the session had a session policy (a destination-role session). */
  session: boolean;
  action: string;
  /** The first resource of its registry it was decided on. */
  resource: string;
  allowed: boolean;
}

export interface IamDecisionEntry extends IamDecision {
  count: number;
}

export class IamDecisionLog extends AggregatedDecisionLog<IamDecision> {
  constructor() {
    super((decision) => {
      // One entry per registry (Region and account) a repository ARN names; else per resource (`*`, a role).
      const where =
        /^(arn:[^:]+:ecr:[^:]*:\d*):repository\//.exec(decision.resource)?.[1] ?? decision.resource;
      return `${decision.principal} ${decision.action} ${where} ${decision.allowed}`;
    });
  }
}
