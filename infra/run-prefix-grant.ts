/**
 * Narrows the state machine's S3 grants from the whole run bucket (`bucket/*`, which CDK's Distributed
 * Map ItemReader/ResultWriter policies use) to the run prefix (`bucket/runs/*`), where every file of
 * a run lives (core/run-files/run-layout.ts): ItemReader reads runs/<id>/slices.jsonl and items.jsonl,
 * ResultWriter writes runs/<id>/results/.
 *
 * An aspect, because CDK writes those statements itself; it rewrites the synthesized policy document
 * of the state machine role only, and only object ARNs of the run bucket.
 */
import { Stack, type IAspect } from 'aws-cdk-lib';
import { CfnPolicy, type IRole } from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';

type Json = unknown;

export class LimitStateMachineToRunPrefix implements IAspect {
  constructor(
    private readonly role: IRole,
    private readonly bucket: s3.IBucket,
  ) {}

  visit(node: IConstruct): void {
    if (!(node instanceof CfnPolicy)) return;
    const stack = Stack.of(node);
    const roles = stack.resolve(node.roles) as Json[] | undefined;
    const roleRef = JSON.stringify(stack.resolve(this.role.roleName));
    if (!(roles ?? []).some((role) => JSON.stringify(role) === roleRef)) return;
    const bucketRef = JSON.stringify(stack.resolve(this.bucket.bucketName));
    const document = stack.resolve(node.policyDocument) as { Statement?: { Resource?: Json }[] };
    let changed = false;
    const narrow = (resource: Json): Json => {
      const join = (resource as { 'Fn::Join'?: [string, Json[]] })['Fn::Join'];
      const parts = join?.[1];
      if (!join || !parts || parts.at(-1) !== '/*' || !parts.some((p) => JSON.stringify(p) === bucketRef)) {
        return resource;
      }
      changed = true;
      return { 'Fn::Join': [join[0], [...parts.slice(0, -1), '/runs/*']] };
    };
    for (const statement of document.Statement ?? []) {
      if (statement.Resource === undefined) continue;
      statement.Resource = Array.isArray(statement.Resource)
        ? statement.Resource.map(narrow)
        : narrow(statement.Resource);
    }
    // Replaced on the resource itself (not a raw override), so later aspects and cdk-nag see it too.
    if (changed) node.policyDocument = document;
  }
}
