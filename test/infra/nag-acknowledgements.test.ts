/**
 * Acknowledgements are per kind of resource and action, never blanket: an unjustified wildcard next
 * to justified ones stays a finding.
 */
import { App, Aspects, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { AcknowledgeJustifiedWildcards, flattenReference } from '../../infra/nag-acknowledgements.ts';

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
