/**
 * What the native engine adds to the stack: its IAM statement, and the rule that stops a run's
 * backfills when nobody watches them any more.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  EXECUTION_STATUS_CHANGE,
  STEP_FUNCTIONS_EVENT_SOURCE,
  UNWATCHED_EXECUTION_STATUSES,
} from '../core/native/execution-end-event.ts';
import type { NativeBackfillAction } from '../core/steps.ts';

/**
 * The replication backfill actions act on the registry (a registry id and a destination, no
 * repository), like ecr:DescribeRegistry and ecr:PutReplicationConfiguration, which have no resource
 * type in ECR's Service Authorization Reference and accept only "*":
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
 * The reference's rows for these four newer actions could not be checked from here; if it lists a
 * resource type for them, scope this statement to it.
 */
export function nativeBackfillStatement(actions: readonly NativeBackfillAction[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'NativeReplicationBackfill',
    actions: [...actions],
    resources: ['*'],
  });
}

export interface StopNativeBackfillsOnEndProps {
  readonly stateMachine: sfn.IStateMachine;
  /** The NativeStopBackfill function: it also accepts the execution status change event. */
  readonly stopFunction: lambda.IFunction;
}

/**
 * Step Functions runs no state when an execution is stopped (StopExecution, console, CLI) or times
 * out, so a Catch cannot stop the backfills it started. It does emit "Step Functions Execution
 * Status Change" events to EventBridge for Standard workflows: this rule sends the parent
 * execution's ABORTED, TIMED_OUT and FAILED ones (not the map children's, which have ARNs of their
 * own) to NativeStopBackfill, which stops every backfill the run started and that is still active.
 * A redrive of a FAILED execution then finds its backfills STOPPED, verifies, and re-pushes the rest.
 * https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html
 */
export class StopNativeBackfillsOnExecutionEnd extends Construct {
  readonly rule: events.Rule;
  /**
   * Stop requests that never ran: events EventBridge could not deliver, and invocations that still
   * failed after Lambda's own retries. A message here means backfills may still be running.
   */
  readonly deadLetterQueue: sqs.Queue;
  /** In alarm as soon as one stop request is in the dead-letter queue. */
  readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: StopNativeBackfillsOnEndProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      // SQS-managed encryption: EventBridge can send to it without a KMS key policy.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "This queue is itself a dead-letter queue (the stop rule's target and the stop function's async failures); a queue behind it would only move the same messages.",
    });
    this.rule = new events.Rule(this, 'Rule', {
      description:
        'Stops the ECR replication backfills of an ecr-backfill execution that stopped, timed out or failed',
      eventPattern: {
        source: [STEP_FUNCTIONS_EVENT_SOURCE],
        detailType: [EXECUTION_STATUS_CHANGE],
        detail: {
          stateMachineArn: [props.stateMachine.stateMachineArn],
          status: [...UNWATCHED_EXECUTION_STATUSES],
        },
      },
      targets: [
        new targets.LambdaFunction(props.stopFunction, {
          // Asynchronous invoke: Lambda retries on its own; keep trying for a while, then give up.
          retryAttempts: 8,
          maxEventAge: Duration.hours(6),
          // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
    // Delivered but failed in the function after Lambda's asynchronous retries:
    // https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
    props.stopFunction.configureAsyncInvoke({
      onFailure: new lambdaDestinations.SqsDestination(this.deadLetterQueue),
      maxEventAge: Duration.hours(6),
    });
    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription:
        'A request to stop the native backfills of an ended ecr-backfill execution was not carried out: check the queue message, then stop the backfills in the ECR console (or run NativeStopBackfill again).',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
