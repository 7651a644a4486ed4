/**
 * The default stack (no options), synthesized once: resources, IAM scoping, logging, alarms, outputs
 * and cdk-nag's AWS Solutions checks.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_STEPS, type LambdaStepName } from '../../core/steps.ts';
import type { CfnTemplate } from '../../local/synth/definition-from-template.ts';
import { STEP_PROFILES } from '../../infra/step-profiles.ts';
import { createBackfillApp } from '../../local/synth/synth.ts';
import type { BackfillStack } from '../../infra/backfill-stack.ts';
import {
  allStatements,
  asArray,
  flatten,
  resourcesFor,
  resourcesOfType,
  stepFunctions,
  stepStatements,
} from './template-helpers.ts';

const STEPS = Object.keys(LAMBDA_STEPS) as LambdaStepName[];
const REPOSITORY_ARN =
  /^arn:<AWS::Partition>:ecr:(\*|<AWS::Region>|[a-z0-9-]+):<AWS::AccountId>:repository\/.*$/;
/** Actions whose API has no resource type: the only ones allowed on "*". */
const RESOURCELESS_ACTIONS = new Set([
  'ecr:DescribeRegistry',
  // Native engine: registry-level backfill actions (infra/native-engine.ts)
  'ecr:ListReplicationBackfills',
  'ecr:StartReplicationBackfill',
  'ecr:DescribeReplicationBackfillResults',
  'ecr:StopReplicationBackfill',
  // State machine tracing (CDK)
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  // State machine logging to CloudWatch Logs (CDK)
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
]);

let stack: BackfillStack;
let json: CfnTemplate;
let template: Template;

beforeAll(() => {
  const created = createBackfillApp();
  stack = created.stack;
  json = created.app.synth().getStackArtifact(stack.artifactId).template as CfnTemplate;
  template = Template.fromJSON(json);
});

describe('the functions', () => {
  it('are one arm64 Node.js 24 function per step, each with its own log group and the run environment', () => {
    const functions = stepFunctions(json);

    expect([...functions.keys()].sort()).toEqual([...STEPS].sort());
    for (const [step, fn] of functions) {
      expect(fn.Properties, step).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: STEP_PROFILES[step].memorySize,
        Timeout: STEP_PROFILES[step].timeout.toSeconds(),
        LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/Logs/) as string } },
        Environment: {
          Variables: {
            RUN_BUCKET: { Ref: expect.stringMatching(/RunBucket/) as string },
            SOURCE_REGION: { Ref: 'AWS::Region' },
            DEFAULT_INPUT: '{}',
            PUT_IMAGE_RATE: '1',
            PUT_IMAGE_QUOTA: '10',
            POWERTOOLS_SERVICE_NAME: 'ecr-backfill',
          },
        },
      });
    }
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 90 }, STEPS.length + 1);
  });

  it('run on explicit roles without AWS managed policies', () => {
    for (const [id, role] of resourcesOfType(json, 'AWS::IAM::Role')) {
      expect(role.Properties?.ManagedPolicyArns, id).toBeUndefined();
    }
  });
});

describe('IAM', () => {
  it('grants no wildcard action anywhere', () => {
    const actions = allStatements(json).flatMap(({ statement }) => asArray(statement.Action));

    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });

  it('uses "*" as a resource only for actions that have no resource type', () => {
    const onStar = allStatements(json)
      .filter(({ statement }) => asArray(statement.Resource).includes('*'))
      .flatMap(({ statement }) => asArray(statement.Action));

    expect(onStar).toContain('ecr:DescribeRegistry');
    expect(onStar.filter((action) => !RESOURCELESS_ACTIONS.has(action))).toEqual([]);
  });

  it('gives ECR writes only to the steps that write, only on repository ARNs, in the right Regions', () => {
    for (const step of STEPS) {
      const statements = stepStatements(json, step);
      const profile = STEP_PROFILES[step];
      for (const action of ['ecr:PutImage', 'ecr:BatchDeleteImage'] as const) {
        const resources = resourcesFor(statements, action);
        const expected = [
          ...(profile.sourceWrites.includes(action)
            ? ['arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/*']
            : []),
          // No destination Regions given: any Region of this account, still repositories only.
          ...(profile.destinationWrites.includes(action)
            ? ['arn:<AWS::Partition>:ecr:*:<AWS::AccountId>:repository/*']
            : []),
        ];
        expect(resources.sort(), `${step} ${action}`).toEqual(expected.sort());
      }
    }
    // The table itself: only these steps write.
    const writers = STEPS.filter(
      (step) => STEP_PROFILES[step].sourceWrites.length + STEP_PROFILES[step].destinationWrites.length > 0,
    );
    expect(writers.sort()).toEqual([
      'CleanupTempTags',
      'FinishBatch',
      'NativeVerify',
      'PromoteTags',
      'PushTempTags',
      'RetagSourceTags',
    ]);
  });

  it('grants each step the reads its row names on repositories, and only Plan and PushTempTags read the registry', () => {
    for (const step of STEPS) {
      const statements = stepStatements(json, step);
      const { sourceReads, destinationReads } = STEP_PROFILES[step];
      const reads = [...new Set([...sourceReads, ...destinationReads])].flatMap((action) =>
        resourcesFor(statements, action),
      );

      expect(reads.length > 0, step).toBe(sourceReads.length + destinationReads.length > 0);
      for (const resource of reads) expect(resource).toMatch(REPOSITORY_ARN);
      expect(resourcesFor(statements, 'ecr:DescribeRegistry'), step).toEqual(
        step === 'Plan' || step === 'PushTempTags' ? ['*'] : [],
      );
    }
  });

  it('limits S3 access to run data under runs/, for the steps that keep run data; the other batch steps only put progress records (and continuation records)', () => {
    for (const step of STEPS) {
      const statements = stepStatements(json, step);
      const objects = resourcesFor(statements, 's3:PutObject');
      const listing = statements.filter((statement) => asArray(statement.Action).includes('s3:ListBucket'));

      const runData = STEP_PROFILES[step].runData;
      if (runData.length > 0) {
        const runs = expect.stringMatching(/^<[A-Za-z0-9]*RunBucket[A-Za-z0-9]*\.Arn>\/runs\/\*$/) as string;
        // Each access of the row, and only those (core/steps.ts, RunDataAccess).
        const writes = runData.includes('write') || runData.includes('stream');
        expect(objects, step).toEqual(writes ? [runs] : []);
        expect(resourcesFor(statements, 's3:GetObject'), step).toEqual(
          runData.includes('read') ? [runs] : [],
        );
        expect(resourcesFor(statements, 's3:AbortMultipartUpload'), step).toEqual(
          runData.includes('stream') ? [runs] : [],
        );
        if (runData.includes('list'))
          expect(listing[0]?.Condition, step).toEqual({ StringLike: { 's3:prefix': ['runs/*'] } });
        else expect(listing, step).toEqual([]);
      } else if (STEP_PROFILES[step].recordsProgress) {
        const continuations = /^<[A-Za-z0-9]*RunBucket[A-Za-z0-9]*\.Arn>\/runs\/\*\/continuations\/\*$/;
        expect(objects, step).toEqual([
          expect.stringMatching(
            /^<[A-Za-z0-9]*RunBucket[A-Za-z0-9]*\.Arn>\/runs\/\*\/progress\/\*$/,
          ) as string,
          // A paced step's continuation record, read back by the invocation that continues it.
          ...(STEP_PROFILES[step].continues ? [expect.stringMatching(continuations) as string] : []),
        ]);
        expect(resourcesFor(statements, 's3:GetObject'), step).toEqual(
          STEP_PROFILES[step].continues ? [expect.stringMatching(continuations) as string] : [],
        );
        expect(listing, step).toEqual([]);
      } else {
        expect(objects, step).toEqual([]);
        expect(listing, step).toEqual([]);
      }
    }
  });

  it('keeps the Distributed Map policy CDK generates: start itself, manage and redrive only its map runs', () => {
    const [[, policy] = []] = resourcesOfType(json, 'AWS::IAM::Policy').filter(([id]) =>
      id.includes('DistributedMapPolicy'),
    );
    const statements = (
      policy?.Properties?.PolicyDocument as {
        Statement: Array<{ Action: string | string[]; Resource: unknown }>;
      }
    ).Statement;
    const stateMachineId = resourcesOfType(json, 'AWS::StepFunctions::StateMachine')[0]?.[0];
    const resourcesOf = (action: string) =>
      statements
        .filter((s) => asArray(s.Action).includes(action))
        .flatMap((s) => asArray(s.Resource).map(flatten));

    expect(resourcesOf('states:StartExecution')).toEqual([`<${stateMachineId}>`]);
    expect(resourcesOf('states:RedriveExecution').map((arn) => arn.replace(/^.*\//, ''))).toEqual([
      'PlanSlices:*',
      'BackfillImages:*',
      'NativeBackfills:*',
    ]);
    expect(resourcesOf('states:DescribeExecution')[0]).toMatch(/:execution:.*:\*$/);
  });
});

describe('the run bucket', () => {
  it('is private, encrypted, TLS-only, and expires run data', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      VersioningConfiguration: Match.absent(),
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'runs/', ExpirationInDays: 90, Status: 'Enabled' }),
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Principal: { AWS: '*' },
          }),
        ]),
      },
    });
  });
});

describe('the state machine', () => {
  it('is STANDARD, logs every event with execution data to a vended log group, and is traced', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [
          {
            CloudWatchLogsLogGroup: {
              LogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('StateMachineLogs'), 'Arn'] },
            },
          },
        ],
      },
    });
    const [[, logGroup] = []] = resourcesOfType(json, 'AWS::Logs::LogGroup').filter(([id]) =>
      id.includes('StateMachineLogs'),
    );
    expect(logGroup?.Properties?.RetentionInDays).toBe(90);
    // Unique per stack instance (the stack id's UUID), so a retained group never blocks a redeploy.
    expect(flatten(logGroup?.Properties?.LogGroupName)).toMatch(
      /^\/aws\/vendedlogs\/states\/EcrBackfill[A-Za-z0-9]+-\{"Fn::Select":\[0,.*"Ref":"AWS::StackId".*\}$/,
    );
  });

  it('raises an alarm on failed, aborted and throttled executions', () => {
    for (const metric of ['ExecutionsFailed', 'ExecutionsAborted', 'ExecutionThrottled']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: Match.stringLikeRegexp('StateMachine') } }],
      });
    }
  });

  it('outputs its ARN, its console URL, the run bucket name and the log group name, and nothing else', () => {
    // The README's Deploy section lists these four outputs: a new one needs its line there.
    expect(Object.keys(json.Outputs ?? {}).sort()).toEqual([
      'ConsoleUrl',
      'LogGroupName',
      'RunBucketName',
      'StateMachineArn',
    ]);
    template.hasOutput('StateMachineArn', { Value: { Ref: Match.stringLikeRegexp('StateMachine') } });
    template.hasOutput('RunBucketName', { Value: { Ref: Match.stringLikeRegexp('RunBucket') } });
    template.hasOutput('LogGroupName', { Value: { Ref: Match.stringLikeRegexp('StateMachineLogs') } });
    const consoleUrl = flatten((json.Outputs?.ConsoleUrl as { Value: unknown }).Value);
    expect(consoleUrl).toMatch(
      /^https:\/\/<AWS::Region>\.console\.aws\.amazon\.com\/states\/home\?region=<AWS::Region>#\/statemachines\/view\/<.*StateMachine.*>$/,
    );
  });

  it('starts nothing on deploy unless asked', () => {
    template.resourceCountIs('Custom::StartBackfillExecution', 0);
    template.resourceCountIs('AWS::ECR::ReplicationConfiguration', 0);
  });
});

describe('cdk-nag AWS Solutions checks', () => {
  it('report no unacknowledged finding', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);

    expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
    expect(report.success).toBe(true);
  });
});
