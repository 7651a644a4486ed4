/**
 * Starts one execution after deployment, named deterministically, without making CloudFormation wait.
 *
 * StartExecution returns as soon as the execution exists, so the custom resource finishes in seconds
 * however long the backfill runs (custom resources time out after one hour). The name is a hash of the
 * rendered definition and the input: redeploying the same thing maps to the same name, and Step
 * Functions answers `ExecutionAlreadyExists` for a closed execution of that name, which is ignored.
 * Changing the definition or the input changes the name, hence one new run.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 */
import { createHash } from 'node:crypto';
import { Lazy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { ExecutionInput } from '../core/contracts/execution-input.ts';

/** Execution names allow at most 80 characters. */
const NAME_PREFIX = 'deploy-';

/** Deterministic execution name for a (resolved definition, input, extra) triple. */
export function deployExecutionName(
  resolvedDefinition: unknown,
  input: unknown,
  extra: unknown = null,
): string {
  const digest = createHash('sha256')
    .update(JSON.stringify({ definition: resolvedDefinition, input, extra }))
    .digest('hex');
  return `${NAME_PREFIX}${digest.slice(0, 40)}`;
}

export interface StartExecutionOnDeployProps {
  readonly stateMachine: sfn.StateMachine;
  /** The execution input. */
  readonly input: ExecutionInput;
  /** More material whose change must start a new run (e.g. the deploy-time default input). */
  readonly hashExtra?: unknown;
  /** Log group of the custom resource's function. */
  readonly logGroup: logs.ILogGroup;
}

export class StartExecutionOnDeploy extends Construct {
  /** The execution name (a token until synthesis; the hash needs the resolved definition). */
  readonly executionName: string;
  readonly resource: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: StartExecutionOnDeployProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const definition = (props.stateMachine.node.defaultChild as sfn.CfnStateMachine).definitionString;
    // Resolved at synthesis: CloudFormation intrinsics with logical ids are stable across synths,
    // unlike CDK token strings, and change exactly when the definition does.
    this.executionName = Lazy.string({
      produce: () => deployExecutionName(stack.resolve(definition), props.input, props.hashExtra ?? null),
    });

    const startExecution: cr.AwsSdkCall = {
      service: '@aws-sdk/client-sfn',
      action: 'StartExecution',
      parameters: {
        stateMachineArn: props.stateMachine.stateMachineArn,
        name: this.executionName,
        input: JSON.stringify(props.input),
      },
      physicalResourceId: cr.PhysicalResourceId.of(this.executionName),
      ignoreErrorCodesMatching: 'ExecutionAlreadyExists',
    };

    // An explicit role: only StartExecution on this state machine and writes to its own log group
    // (no AWS managed policy).
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Starts the deploy-time backfill execution',
    });
    props.logGroup.grantWrite(role);

    this.resource = new cr.AwsCustomResource(this, 'StartExecution', {
      resourceType: 'Custom::StartBackfillExecution',
      onCreate: startExecution,
      onUpdate: startExecution,
      role,
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['states:StartExecution'],
          resources: [props.stateMachine.stateMachineArn],
        }),
      ]),
      // The Lambda runtime's SDK has StartExecution; downloading one at deploy time adds a failure mode.
      installLatestAwsSdk: false,
      logGroup: props.logGroup,
    });
    // The custom resource's function is CDK's own singleton (one per stack, named by this UUID), on
    // the runtime CDK chooses for it.
    const provider = Stack.of(this).node.tryFindChild(
      `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
    );
    if (provider) {
      Validations.of(provider).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          "CDK's AwsCustomResource provider runs on the runtime aws-cdk-lib picks for it (nodejs24.x, the " +
          'newest Node.js runtime Lambda documents: https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html).',
      });
    }
  }
}
