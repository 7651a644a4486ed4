/**
 * Justified wildcard resources, acknowledged for cdk-nag's AwsSolutions-IAM5, one reason per kind.
 *
 * No policy here grants a `*` action. Some *resources* contain `*` because the resource is not known
 * at deploy time (repository names, run ids, child execution names) or because the API has no
 * resource type at all. Each such resource is acknowledged only when it appears in a statement whose
 * actions are exactly of the expected kind; anything else stays a finding and fails the nag test.
 *
 * Per statement: cdk-nag names a finding by its resource (`AwsSolutions-IAM5[Resource::*]`), and an
 * acknowledgement covers that id for the whole policy. So a wildcard resource is acknowledged only
 * when **every** statement of the policy that uses it is justified: adding `iam:PassRole` on `*`
 * next to a justified `ecr:DescribeRegistry` on `*` leaves the finding, and synth fails.
 *
 * Runs as an aspect so it sees the final policies, including those CDK generates (LambdaInvoke grants,
 * the Distributed Map policy, logging and tracing).
 */
import { CfnResource, Stack, Validations, type IAspect } from 'aws-cdk-lib';
import { CfnPolicy } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { ECR_READ_ACTIONS, LAYER_UPLOAD_ACTIONS } from '../core/steps.ts';

interface Justification {
  /** Every action of the statement must satisfy this. */
  readonly actions: (action: string) => boolean;
  /** The flattened resource (cdk-nag notation: `<Logical.Arn>`, `<AWS::Partition>`). */
  readonly resource: RegExp;
  /** Why, for this very resource (a reason must be true for the configuration it is attached to). */
  readonly reason: string | ((resource: string, actions: readonly string[]) => string);
}

// Partition, Region and account are tokens in an environment-agnostic stack, literals otherwise.
const PARTITION = String.raw`(?:<AWS::Partition>|aws[a-z-]*)`;
const REGION = String.raw`(?:<AWS::Region>|[a-z0-9-]+)`;
const ACCOUNT = String.raw`(?:<AWS::AccountId>|\d{12})`;

/** Exactly the repository actions the steps use (core/steps.ts); any other ECR action stays a finding. */
const REPOSITORY_ACTIONS: ReadonlySet<string> = new Set([
  ...ECR_READ_ACTIONS,
  'ecr:PutImage',
  'ecr:BatchDeleteImage',
  ...LAYER_UPLOAD_ACTIONS,
  'ecr:GetDownloadUrlForLayer',
]);
const ECR_WRITES: ReadonlySet<string> = new Set([
  'ecr:PutImage',
  'ecr:BatchDeleteImage',
  ...LAYER_UPLOAD_ACTIONS,
]);

/** What a repository ARN wildcard covers, said exactly for this ARN. */
function repositoryReason(resource: string, actions: readonly string[]): string {
  const region = new RegExp(String.raw`:ecr:(\*|${REGION}):`).exec(resource)?.[1] ?? '*';
  const name = resource.slice(resource.indexOf(':repository/') + ':repository/'.length);
  const where =
    region === '*'
      ? 'in ANY Region of this account (no destinationRegions or replication prop: see the synth warning)'
      : `in ${region.startsWith('<') ? 'the stack Region' : region} only`;
  const which = name === '*' ? 'every repository (no repositoryPrefixes)' : `repositories named ${name}`;
  const kind = actions.some((action) => ECR_WRITES.has(action)) ? 'Writes' : 'Reads';
  return `Repository names come from the registry at run time. ${kind} on ${which}, ${where}, in this account, never the registry.`;
}

export const WILDCARD_JUSTIFICATIONS: readonly Justification[] = [
  {
    actions: (action) => REPOSITORY_ACTIONS.has(action),
    resource: new RegExp(String.raw`^arn:${PARTITION}:ecr:(?:\*|${REGION}):${ACCOUNT}:repository/[^*]*\*$`),
    reason: repositoryReason,
  },
  {
    actions: (action) => action === 'ecr:DescribeRegistry',
    resource: /^\*$/,
    reason:
      'ecr:DescribeRegistry has no resource type, so only "*" is valid: ' +
      'https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html',
  },
  {
    actions: (action) =>
      [
        'ecr:ListReplicationBackfills',
        'ecr:StartReplicationBackfill',
        'ecr:DescribeReplicationBackfillResults',
        'ecr:StopReplicationBackfill',
      ].includes(action),
    resource: /^\*$/,
    reason:
      'The replication backfill actions act on the registry (no repository), like ecr:DescribeRegistry, which has no resource type (native engine; see infra/native-engine.ts): ' +
      'https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html',
  },
  {
    actions: (action) => ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'].includes(action),
    resource: /^<[A-Za-z0-9]+\.Arn>\/runs\/\*$/,
    reason: 'Run data lives under runs/<runId>/ in the run bucket; run ids are only known at run time.',
  },
  {
    actions: (action) => action === 's3:PutObject',
    resource: /^<[A-Za-z0-9]+\.Arn>\/runs\/\*\/progress\/\*$/,
    reason:
      "A batch step's progress record, runs/<runId>/progress/<batchId>.json: run ids and batch ids are only known at run time.",
  },
  {
    actions: (action) => action === 's3:GetObject' || action === 's3:PutObject',
    resource: /^<[A-Za-z0-9]+\.Arn>\/runs\/\*\/continuations\/\*$/,
    reason:
      "A paced batch step's continuation record, runs/<runId>/continuations/<step>/<batchId>.json: run ids and batch ids are only known at run time.",
  },
  {
    actions: (action) => action === 'lambda:InvokeFunction',
    resource: /^<[A-Za-z0-9]+\.Arn>:\*$/,
    reason: "CDK's LambdaInvoke grant: the step's own function, including its versions and aliases.",
  },
  {
    actions: (action) => action.startsWith('xray:'),
    resource: /^\*$/,
    reason: 'X-Ray trace and sampling APIs have no resource-level permissions (state machine tracing).',
  },
  {
    actions: (action) => action.startsWith('logs:'),
    resource: /^\*$/,
    reason:
      'CloudWatch Logs vended-log delivery APIs have no resource-level permissions (state machine logging).',
  },
  {
    actions: (action) =>
      ['s3:GetObject', 's3:PutObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'].includes(
        action,
      ),
    resource: new RegExp(String.raw`^arn:${PARTITION}:s3:::<[A-Za-z0-9]+>/runs/\*$`),
    reason:
      "CDK's Distributed Map ItemReader/ResultWriter policy, narrowed to the run prefix runs/ (infra/run-prefix-grant.ts): per-run keys (slices, items, map results) are only known at run time.",
  },
  {
    actions: (action) =>
      [
        'states:StartExecution',
        'states:DescribeExecution',
        'states:StopExecution',
        'states:RedriveExecution',
      ].includes(action),
    resource: new RegExp(String.raw`^arn:${PARTITION}:states:${REGION}:${ACCOUNT}:execution:.+:\*$`),
    reason:
      "CDK's DistributedMapPolicy: the state machine manages and redrives its own map-run child executions, whose names are generated.",
  },
];

/** Mirrors cdk-nag's flattening of CloudFormation references, so acknowledgement ids match its findings. */
export function flattenReference(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/}/g, '>');
  if (typeof value === 'object' && value !== null) {
    const node = value as Record<string, unknown>;
    if (Array.isArray(node['Fn::Join'])) {
      const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
      return items.map(flattenReference).join(delimiter);
    }
    if (node['Fn::GetAtt']) {
      const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
    }
    if (node.Ref) return `<${flattenReference(node.Ref)}>`;
  }
  return JSON.stringify(value);
}

interface ResolvedStatement {
  Effect?: string;
  Action?: string | string[];
  Resource?: unknown;
}

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Acknowledges each justified wildcard resource of every IAM policy under the scope it is applied to. */
export class AcknowledgeJustifiedWildcards implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof CfnPolicy) || !CfnResource.isCfnResource(node)) return;
    const document = Stack.of(node).resolve(node.policyDocument) as { Statement?: ResolvedStatement[] };
    // Per wildcard resource: the reason of each statement that uses it, or undefined once one is unjustified.
    const reasons = new Map<string, string[] | undefined>();
    for (const statement of document.Statement ?? []) {
      if (statement.Effect !== 'Allow') continue;
      const actions = asArray(statement.Action);
      for (const resource of asArray(statement.Resource).map(flattenReference)) {
        if (!resource.includes('*')) continue;
        const justification = WILDCARD_JUSTIFICATIONS.find(
          (candidate) => candidate.resource.test(resource) && actions.every(candidate.actions),
        );
        const known = reasons.has(resource) ? reasons.get(resource) : [];
        if (!justification || known === undefined) {
          reasons.set(resource, undefined);
          continue;
        }
        const reason =
          typeof justification.reason === 'string'
            ? justification.reason
            : justification.reason(resource, actions);
        reasons.set(resource, known.includes(reason) ? known : [...known, reason]);
      }
    }
    for (const [resource, resourceReasons] of reasons) {
      if (resourceReasons === undefined) continue;
      Validations.of(node).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason: resourceReasons.join(' '),
      });
    }
  }
}
