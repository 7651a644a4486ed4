/**
 * What the native engine adds to the synthesized stack: each step's backfill permissions, and the
 * rule that stops a run's backfills when its execution stops, times out or fails.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { synthesizeBackfillStack } from '../../../local/synth/synth.ts';
import type { CfnTemplate } from '../../../local/runner/template.ts';
import { LAMBDA_STEPS, type LambdaStepName } from '../../../core/steps.ts';
import {
  resourcesFor,
  resourcesOfType,
  stepFunctions,
  stepStatements,
} from '../../infra/template-helpers.ts';

const BACKFILL_ACTIONS = [
  'ecr:ListReplicationBackfills',
  'ecr:StartReplicationBackfill',
  'ecr:DescribeReplicationBackfillResults',
  'ecr:StopReplicationBackfill',
] as const;

let json: CfnTemplate;

beforeAll(() => {
  json = synthesizeBackfillStack();
});

describe('the native engine in the stack', () => {
  it('grants each step exactly the backfill actions it calls, and no other step any', () => {
    const expected: Partial<Record<LambdaStepName, string[]>> = {
      FinalizePlan: ['ecr:ListReplicationBackfills'],
      NativeStartBackfill: [
        'ecr:ListReplicationBackfills',
        'ecr:StartReplicationBackfill',
        'ecr:DescribeReplicationBackfillResults',
      ],
      NativeCheckBackfill: ['ecr:DescribeReplicationBackfillResults'],
      NativeStopBackfill: ['ecr:DescribeReplicationBackfillResults', 'ecr:StopReplicationBackfill'],
    };

    for (const step of Object.keys(LAMBDA_STEPS) as LambdaStepName[]) {
      const statements = stepStatements(json, step);
      const granted = BACKFILL_ACTIONS.filter((action) => resourcesFor(statements, action).length > 0);
      expect(granted, step).toEqual(expected[step] ?? []);
      for (const action of granted)
        expect(resourcesFor(statements, action), `${step} ${action}`).toEqual(['*']);
    }
  });

  it('sends the state machine’s stopped, timed-out and failed executions to NativeStopBackfill', () => {
    const template = Template.fromJSON(json);
    const stateMachine = resourcesOfType(json, 'AWS::StepFunctions::StateMachine')[0]?.[0];
    const stopFunction = stepFunctions(json).get('NativeStopBackfill');
    const stopFunctionId = resourcesOfType(json, 'AWS::Lambda::Function').find(
      ([, resource]) => resource === stopFunction,
    )?.[0];
    expect(stopFunctionId).toBeDefined();

    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [{ Ref: stateMachine }], status: ['ABORTED', 'TIMED_OUT', 'FAILED'] },
      },
      Targets: [{ Arn: { 'Fn::GetAtt': [stopFunctionId, 'Arn'] }, Id: 'Target0' }],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [stopFunctionId, 'Arn'] },
    });
  });

  it("gives the stop rule's target an encrypted, TLS-only dead-letter queue with an alarm on it", () => {
    const template = Template.fromJSON(json);
    const [queueId] = resourcesOfType(json, 'AWS::SQS::Queue')[0] ?? [];
    expect(queueId).toBeDefined();
    const queueArn = { 'Fn::GetAtt': [queueId, 'Arn'] };

    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ DeadLetterConfig: { Arn: queueArn } })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      DestinationConfig: { OnFailure: { Destination: queueArn } },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 1,
    });
  });
});
