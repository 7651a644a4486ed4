/**
 * A thin stack around EcrReplicationBackfill, with the outputs an operator needs (the README's
 * "Deploy" section lists them; a consumer's own stack reads the same construct attributes).
 */
import { Aws, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { EcrReplicationBackfill, type EcrReplicationBackfillProps } from './backfill-construct.ts';

export interface BackfillStackProps extends StackProps {
  readonly backfill?: EcrReplicationBackfillProps;
}

export class BackfillStack extends Stack {
  readonly backfill: EcrReplicationBackfill;

  constructor(scope: Construct, id: string, props: BackfillStackProps = {}) {
    super(scope, id, {
      description: 'ecr-backfill: backfills existing Amazon ECR images into replication destinations',
      ...props,
    });
    this.backfill = new EcrReplicationBackfill(this, 'Backfill', props.backfill);
    const { stateMachine, runBucket, logGroup } = this.backfill;

    new CfnOutput(this, 'StateMachineArn', {
      description: 'Start an execution of this state machine (input `{}` backfills everything)',
      value: stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'ConsoleUrl', {
      description: 'The state machine in the Step Functions console',
      value: `https://${Aws.REGION}.console.aws.amazon.com/states/home?region=${Aws.REGION}#/statemachines/view/${stateMachine.stateMachineArn}`,
    });
    new CfnOutput(this, 'RunBucketName', {
      description: 'Plans, map results and reports, under runs/<runId>/',
      value: runBucket.bucketName,
    });
    new CfnOutput(this, 'LogGroupName', {
      description: "The state machine's execution history (every state's input and output)",
      value: logGroup.logGroupName,
    });
  }
}
