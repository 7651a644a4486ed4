/**
 * Acknowledgements are per kind of resource and action, never blanket: an unjustified wildcard next
 * to justified ones stays a finding.
 */
import { App, Aspects, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import type { CfnPolicy } from 'aws-cdk-lib/aws-iam';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { AcknowledgeJustifiedWildcards, flattenReference } from '../../infra/nag-acknowledgements.ts';
import { createBackfillApp } from '../../local/synth/synth.ts';

function findingsFor(statements: iam.PolicyStatement[]): string[] {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Nag');
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  for (const statement of statements) role.addToPrincipalPolicy(statement);
  Aspects.of(stack).add(new AcknowledgeJustifiedWildcards());
  app.synth();
  return new AwsSolutionsChecks().validateScope(stack).violations.map((violation) => violation.ruleName);
}

const repositories = (scope: string) => `arn:aws:ecr:${scope}:123456789012:repository/*`;

describe('AcknowledgeJustifiedWildcards', () => {
  it('acknowledges ECR repository wildcards and DescribeRegistry on "*"', () => {
    const findings = findingsFor([
      new iam.PolicyStatement({ actions: ['ecr:PutImage'], resources: [repositories('us-east-1')] }),
      new iam.PolicyStatement({ actions: ['ecr:DescribeRegistry'], resources: ['*'] }),
    ]);

    expect(findings).toEqual([]);
  });

  it('leaves a wildcard resource used with other actions as a finding', () => {
    const findings = findingsFor([
      new iam.PolicyStatement({ actions: ['ecr:PutImage'], resources: ['*'] }),
      new iam.PolicyStatement({ actions: ['s3:DeleteBucket'], resources: [repositories('us-east-1')] }),
    ]);

    expect(findings.sort()).toEqual([
      'AwsSolutions-IAM5[Resource::*]',
      `AwsSolutions-IAM5[Resource::${repositories('us-east-1')}]`,
    ]);
  });

  it('never acknowledges wildcard actions', () => {
    const findings = findingsFor([
      new iam.PolicyStatement({ actions: ['ecr:*'], resources: [repositories('us-east-1')] }),
    ]);

    expect(findings).toContain('AwsSolutions-IAM5[Action::ecr:*]');
  });

  it('flattens CloudFormation references the way cdk-nag reports them', () => {
    expect(
      flattenReference({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':s3:::',
            { Ref: 'Bucket' },
            '/',
            { 'Fn::GetAtt': ['Fn', 'Arn'] },
          ],
        ],
      }),
    ).toBe('arn:<AWS::Partition>:s3:::<Bucket>/<Fn.Arn>');
    expect(flattenReference({ 'Fn::Select': [0, ['a']] })).toBe('{"Fn::Select":[0,["a"]]}');
  });
});

describe('acknowledgements are per statement', () => {
  it('leaves iam:PassRole on "*" a finding next to a justified ecr:DescribeRegistry on "*"', () => {
    const findings = findingsFor([
      new iam.PolicyStatement({ actions: ['ecr:DescribeRegistry'], resources: ['*'] }),
      new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: ['*'] }),
    ]);

    expect(findings).toEqual(['AwsSolutions-IAM5[Resource::*]']);
  });

  it('leaves an ECR action no step uses a finding, even on a justified repository ARN', () => {
    const findings = findingsFor([
      new iam.PolicyStatement({ actions: ['ecr:PutImage'], resources: [repositories('us-east-1')] }),
      new iam.PolicyStatement({
        actions: ['ecr:SetRepositoryPolicy'],
        resources: [repositories('us-east-1')],
      }),
    ]);

    expect(findings).toEqual([`AwsSolutions-IAM5[Resource::${repositories('us-east-1')}]`]);
  });

  it("fails the backfill stack's nag checks when a step's policy gains iam:PassRole on *", () => {
    // Prepare: the real stack, clean as synthesized, then one new wildcard in PlanSlice's policy.
    const clean = createBackfillApp();
    const violations = (stack: Stack) =>
      new AwsSolutionsChecks().validateScope(stack).violations.map((violation) => violation.ruleName);
    clean.app.synth();
    expect(violations(clean.stack)).toEqual([]);
    const widened = createBackfillApp();
    widened.stack.backfill.functions.PlanSlice.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: ['*'] }),
    );

    // Act
    widened.app.synth();

    // Assess
    expect(violations(widened.stack)).toContain('AwsSolutions-IAM5[Resource::*]');
  });
});

describe('acknowledgement reasons say what the grant is', () => {
  const reasonsOf = (backfill: Parameters<typeof createBackfillApp>[0]) => {
    const { app, stack } = createBackfillApp(backfill);
    app.synth();
    const policy = stack.backfill.functions.PromoteTags.role?.node.tryFindChild('DefaultPolicy')?.node
      .defaultChild as CfnPolicy;
    return policy.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .map((entry) => JSON.stringify(entry.data))
      .join('\n');
  };

  it('says "any Region" and "every repository" by default, and warns at synth', () => {
    const { app, stack } = createBackfillApp();
    app.synth();

    expect(reasonsOf({})).toMatch(/Writes on every repository \(no repositoryPrefixes\), in ANY Region/);
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('EVERY Region'));
    expect(warnings).toHaveLength(1);
  });

  it('names the Regions and prefixes when scoped, without the warning', () => {
    const backfill = { backfill: { destinationRegions: ['eu-west-1'], repositoryPrefixes: ['team-a/'] } };
    const { app, stack } = createBackfillApp(backfill);
    app.synth();

    expect(reasonsOf(backfill)).toMatch(/Writes on repositories named team-a\/\*, in eu-west-1 only/);
    expect(reasonsOf(backfill)).not.toMatch(/ANY Region/);
    expect(
      Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('EVERY Region')),
    ).toHaveLength(0);
  });
});
