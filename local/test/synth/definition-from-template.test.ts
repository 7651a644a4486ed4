import { describe, expect, it } from 'vitest';
import { definitionFromTemplate, type CfnTemplate } from '../../synth/definition-from-template.ts';

function templateWith(definitionString: unknown, extra: CfnTemplate['Resources'] = {}): CfnTemplate {
  return {
    Resources: {
      Machine: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: { DefinitionString: definitionString },
      },
      StepFn: { Type: 'AWS::Lambda::Function' },
      Bucket: { Type: 'AWS::S3::Bucket' },
      ...extra,
    },
  };
}

const JOINED = {
  'Fn::Join': [
    '',
    [
      '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"',
      { 'Fn::GetAtt': ['StepFn', 'Arn'] },
      '","Parameters":{"Bucket":"',
      { Ref: 'Bucket' },
      '","Where":"',
      { Ref: 'AWS::Partition' },
      '/',
      { Ref: 'AWS::Region' },
      '/',
      { Ref: 'AWS::AccountId' },
      '"},"End":true}}}',
    ],
  ],
};

describe('definitionFromTemplate', () => {
  it('resolves partition, Region, account, Refs and function ARNs to plain values', () => {
    const definition = definitionFromTemplate(templateWith(JOINED));

    expect(definition).toEqual({
      StartAt: 'A',
      States: {
        A: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:123456789012:function:StepFn',
          Parameters: { Bucket: 'Bucket', Where: 'aws/us-east-1/123456789012' },
          End: true,
        },
      },
    });
  });

  it('uses the values given by the caller', () => {
    const definition = definitionFromTemplate(templateWith(JOINED), {
      region: 'eu-west-1',
      ref: (id, type) => (type === 'AWS::S3::Bucket' ? 'local-run-bucket' : id),
      arn: (id) => `arn:local:${id}`,
    });

    expect(definition).toMatchObject({
      States: {
        A: {
          Resource: 'arn:local:StepFn',
          Parameters: { Bucket: 'local-run-bucket', Where: 'aws/eu-west-1/123456789012' },
        },
      },
    });
  });

  it('refuses what it cannot resolve faithfully', () => {
    expect(() => definitionFromTemplate(templateWith({ 'Fn::Sub': 'x' }))).toThrow(
      /Unsupported intrinsic Fn::Sub/,
    );
    expect(() => definitionFromTemplate(templateWith({ Ref: 'Missing' }))).toThrow(
      /Missing, which is not in the template/,
    );
    expect(() => definitionFromTemplate({ Resources: {} })).toThrow(/exactly one state machine/);
  });
});
