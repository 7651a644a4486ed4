/**
 * EcrReplicationBackfill: the whole backfill workflow as one construct, usable in any CDK app.
 *
 * Secure defaults first (private encrypted run bucket with TLS enforced, least-privilege roles per
 * step, logged and traced state machine, alarms), every created resource exposed as a readonly
 * property, every option documented with its default.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aspects, Aws, Duration, Fn, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { LAMBDA_STEPS, type LambdaStepName } from '../functions/shared/contracts.ts';
import { buildBackfillWorkflow, DEFAULT_PLAN_SLICE_CONCURRENCY } from '../statemachine/definition.ts';
import { LAMBDA_TASK_STATES } from '../statemachine/state-names.ts';
import {
  ANY_REGION,
  describeRegistryStatement,
  ecrReadStatement,
  ecrWriteStatement,
  type RepositoryScope,
} from './ecr-permissions.ts';
import { AcknowledgeJustifiedWildcards } from './nag-acknowledgements.ts';
import { nativeBackfillStatement, StopNativeBackfillsOnExecutionEnd } from './native-engine.ts';
import { StartExecutionOnDeploy } from './start-on-deploy.ts';
import { STEP_PROFILES } from './step-profiles.ts';

/** CDK renders `ResultWriterV2` only with this flag; without it the maps would silently lose their ResultWriter. */
export const RESULT_WRITER_V2_FLAG = '@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2';

/** AWS's default PutImage quota per account and Region (adjustable). */
export const DEFAULT_PUT_IMAGE_RATE_PER_SECOND = 10;
export const DEFAULT_CONCURRENT_PUSHERS = 10;
/** Lambda allows 4 KiB of environment variables in total; keep DEFAULT_INPUT well inside it. */
const MAX_DEFAULT_INPUT_BYTES = 3 * 1024;

/** One replication rule for the optional managed replication configuration. */
export interface ReplicationRule {
  /** Where images replicate to. `registryId` defaults to this account. */
  readonly destinations: ReadonlyArray<{ readonly region: string; readonly registryId?: string }>;
  /**
   * Only repositories whose names start with one of these prefixes replicate.
   * @default - every repository
   */
  readonly repositoryPrefixes?: readonly string[];
}

/**
 * A replication configuration for the registry.
 *
 * **A registry has exactly one replication configuration. Setting this replaces whatever
 * configuration the registry has, and deleting the stack removes it.** Use it only for a registry
 * that has no replication yet; otherwise keep replication where it is managed today.
 */
export interface ManagedReplication {
  readonly rules: readonly ReplicationRule[];
}

/** Start one execution right after deployment. */
export interface StartOnDeploy {
  /**
   * The execution input (merged over `defaultInput` by Plan).
   * @default {}
   */
  readonly input?: Record<string, unknown>;
}

export interface EcrReplicationBackfillProps {
  /**
   * The Region whose images are backfilled.
   * @default - the stack's Region
   */
  readonly sourceRegion?: string;
  /**
   * Deploy-time defaults, merged under each execution's input (passed to the functions as DEFAULT_INPUT).
   * Same schema as the execution input; validated by Plan at run time.
   * @default {}
   */
  readonly defaultInput?: Record<string, unknown>;
  /**
   * Start one execution after each deployment that changes the definition or the input. Its name is
   * a hash of both, so an unchanged redeploy starts nothing; CloudFormation never waits for the run.
   * @default - no execution is started
   */
  readonly startOnDeploy?: StartOnDeploy;
  /**
   * Roles the functions may assume to read and write destinations in other accounts
   * (`sts:AssumeRole` on exactly these ARNs; pass each as a destination's `roleArn` in the input).
   * @default - no role: destinations are in this account
   */
  readonly destinationRoleArns?: readonly string[];
  /**
   * Destination Regions in this account, to scope ECR permissions.
   * @default - the Regions of `replication` when given, otherwise any Region (still repository ARNs only)
   */
  readonly destinationRegions?: readonly string[];
  /**
   * Repository name prefixes the functions may write to.
   * @default - every repository
   */
  readonly repositoryPrefixes?: readonly string[];
  /**
   * Retention of the functions' and the state machine's logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Manage the registry's replication configuration (opt-in). **Replaces the registry's existing
   * configuration: a registry has exactly one.** See ManagedReplication.
   * @default - replication is managed elsewhere; Plan fails with ReplicationNotConfigured when no rule covers the selection
   */
  readonly replication?: ManagedReplication;
  /**
   * The PutImage quota of each Region, per second. Each pushing invocation gets
   * `putImageRatePerSecond / concurrentPushers` of it (see `concurrentPushers`).
   * @default 10 (the AWS default quota)
   */
  readonly putImageRatePerSecond?: number;
  /**
   * How many invocations may push at the same moment: at most the map's MaxConcurrency, since every
   * child pushes once per batch. Each invocation paces itself at `putImageRatePerSecond / concurrentPushers`
   * (PUT_IMAGE_RATE) so together they never exceed the quota; throttling retries are the safety net.
   * @default 10
   */
  readonly concurrentPushers?: number;
  /**
   * How long run data (plans, results, reports under `runs/`) is kept.
   * @default Duration.days(90)
   */
  readonly runDataExpiration?: Duration;
  /**
   * How many PlanSlice children run at once (ECR's Describe* quotas are low).
   * @default 5
   */
  readonly planSliceConcurrency?: number;
  /**
   * What the state machine logs. ALL with execution data makes a failed batch diagnosable from its
   * history and payloads, which are bounded and hold repository names and digests only.
   * @default sfn.LogLevel.ALL
   */
  readonly stateMachineLogLevel?: sfn.LogLevel;
}

export class EcrReplicationBackfill extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly runBucket: s3.Bucket;
  /** One function per Lambda step, keyed by its state name. */
  readonly functions: Readonly<Record<LambdaStepName, nodejs.NodejsFunction>>;
  /** The state machine's log group (`/aws/vendedlogs/states/...`). */
  readonly logGroup: logs.LogGroup;
  readonly failedExecutionsAlarm: cloudwatch.Alarm;
  readonly abortedExecutionsAlarm: cloudwatch.Alarm;
  readonly throttledExecutionsAlarm: cloudwatch.Alarm;
  readonly replicationConfiguration?: ecr.CfnReplicationConfiguration;
  readonly startOnDeploy?: StartExecutionOnDeploy;
  /** Stops a run's native backfills when its execution is stopped, times out or fails. */
  readonly stopNativeBackfills: StopNativeBackfillsOnExecutionEnd;

  constructor(scope: Construct, id: string, props: EcrReplicationBackfillProps = {}) {
    super(scope, id);
    // Must precede the children: the maps read the flag from their ancestors.
    this.node.setContext(RESULT_WRITER_V2_FLAG, true);
    validateProps(this, props);

    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    this.runBucket = this.createRunBucket(props.runDataExpiration ?? Duration.days(90));
    this.replicationConfiguration = props.replication && this.createReplication(props.replication);
    this.functions = this.createFunctions(props, logRetention);

    this.logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      // The vendedlogs prefix keeps CloudWatch Logs' resource policy small as log groups multiply.
      // https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html
      // The stack id's UUID makes the name unique per stack instance: the group is retained on
      // deletion, and a fixed name would make the next deployment of the same stack fail.
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 180 })}-${stackUuidHead()}`,
      retention: logRetention,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(
        buildBackfillWorkflow(this, {
          functions: this.functions,
          runBucket: this.runBucket,
          planSliceConcurrency: props.planSliceConcurrency ?? DEFAULT_PLAN_SLICE_CONCURRENCY,
        }),
      ),
      comment: 'Backfills existing ECR images into replication destinations',
      logs: {
        destination: this.logGroup,
        level: props.stateMachineLogLevel ?? sfn.LogLevel.ALL,
        includeExecutionData: true,
      },
      tracingEnabled: true,
    });

    this.stopNativeBackfills = new StopNativeBackfillsOnExecutionEnd(this, 'StopNativeBackfills', {
      stateMachine: this.stateMachine,
      stopFunction: this.functions.NativeStopBackfill,
    });

    this.failedExecutionsAlarm = this.alarm('ExecutionsFailed', this.stateMachine.metricFailed(), 'failed');
    this.abortedExecutionsAlarm = this.alarm(
      'ExecutionsAborted',
      this.stateMachine.metricAborted(),
      'was aborted',
    );
    this.throttledExecutionsAlarm = this.alarm(
      'ExecutionsThrottled',
      this.stateMachine.metricThrottled(),
      'was throttled',
    );

    if (props.startOnDeploy) {
      this.startOnDeploy = new StartExecutionOnDeploy(this, 'StartOnDeploy', {
        stateMachine: this.stateMachine,
        input: props.startOnDeploy.input ?? {},
        hashExtra: { defaultInput: props.defaultInput ?? {} },
        logGroup: new logs.LogGroup(this, 'StartOnDeployLogs', { retention: logRetention }),
      });
      if (this.replicationConfiguration) this.startOnDeploy.node.addDependency(this.replicationConfiguration);
    }

    Aspects.of(this).add(new AcknowledgeJustifiedWildcards());
  }

  private createRunBucket(expiration: Duration): s3.Bucket {
    const bucket = new s3.Bucket(this, 'RunBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // No versioning: run data is written once per key by this workflow (results are rewritten on
      // redrive with the same content), expires with the lifecycle rule, and can be re-planned; old
      // versions would only add cost.
      versioned: false,
      lifecycleRules: [
        { id: 'ExpireRunData', prefix: 'runs/', expiration },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      // Reports outlive the stack unless someone deletes them on purpose.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only this workflow reads and writes the bucket, and every access is already recorded: by the ' +
        "state machine history and logs (ItemReader/ResultWriter) and by the functions' logs. Server " +
        'access logs would need a second bucket to hold them; enable CloudTrail S3 data events for an audit trail.',
    });
    return bucket;
  }

  private createReplication(replication: ManagedReplication): ecr.CfnReplicationConfiguration {
    return new ecr.CfnReplicationConfiguration(this, 'ReplicationConfiguration', {
      replicationConfiguration: {
        rules: replication.rules.map((rule) => ({
          destinations: rule.destinations.map((destination) => ({
            region: destination.region,
            registryId: destination.registryId ?? Aws.ACCOUNT_ID,
          })),
          ...(rule.repositoryPrefixes?.length
            ? {
                repositoryFilters: rule.repositoryPrefixes.map((filter) => ({
                  filter,
                  filterType: 'PREFIX_MATCH',
                })),
              }
            : {}),
        })),
      },
    });
  }

  private createFunctions(
    props: EcrReplicationBackfillProps,
    logRetention: logs.RetentionDays,
  ): Record<LambdaStepName, nodejs.NodejsFunction> {
    const sourceRegion = props.sourceRegion ?? Stack.of(this).region;
    const destinationRegions = props.destinationRegions ??
      replicationRegions(props.replication) ?? [ANY_REGION];
    const allRegions = destinationRegions.includes(ANY_REGION)
      ? [ANY_REGION]
      : dedupe([sourceRegion, ...destinationRegions]);
    const prefixes = props.repositoryPrefixes ?? [];
    const source: RepositoryScope = { regions: [sourceRegion], repositoryPrefixes: prefixes };
    const destinations: RepositoryScope = {
      regions: destinationRegions.includes(ANY_REGION) ? [ANY_REGION] : destinationRegions,
      repositoryPrefixes: prefixes,
    };
    const putImageShare =
      (props.putImageRatePerSecond ?? DEFAULT_PUT_IMAGE_RATE_PER_SECOND) /
      (props.concurrentPushers ?? DEFAULT_CONCURRENT_PUSHERS);

    const container = new Construct(this, 'Functions');
    const functions = {} as Record<LambdaStepName, nodejs.NodejsFunction>;
    for (const step of LAMBDA_TASK_STATES) {
      const profile = STEP_PROFILES[step];
      const scope = new Construct(container, step);
      const logGroup = new logs.LogGroup(scope, 'Logs', { retention: logRetention });
      // An explicit role instead of the AWS managed basic-execution policy: logs to its own group only.
      const role = new iam.Role(scope, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `${step}: ${profile.description}`,
      });
      logGroup.grantWrite(role);

      if (profile.ecrRead) role.addToPrincipalPolicy(ecrReadStatement(scope, allRegions));
      if (profile.describeRegistry) role.addToPrincipalPolicy(describeRegistryStatement());
      if (profile.nativeBackfill?.length)
        role.addToPrincipalPolicy(nativeBackfillStatement(profile.nativeBackfill));
      if (profile.sourceWrites.length > 0) {
        role.addToPrincipalPolicy(
          ecrWriteStatement(scope, 'WriteSourceRepositories', profile.sourceWrites, source),
        );
      }
      if (profile.destinationWrites.length > 0) {
        role.addToPrincipalPolicy(
          ecrWriteStatement(scope, 'WriteDestinationRepositories', profile.destinationWrites, destinations),
        );
      }
      if (profile.ecrRead && props.destinationRoleArns?.length) {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            sid: 'AssumeDestinationRoles',
            actions: ['sts:AssumeRole'],
            resources: [...props.destinationRoleArns],
          }),
        );
      }
      if (profile.runBucket) this.grantRunData(role);
      else if (profile.recordsProgress) this.grantProgressWrites(role);

      functions[step] = new nodejs.NodejsFunction(scope, 'Function', {
        description: `ecr-backfill ${step}: ${profile.description}`,
        entry: handlerEntry(step),
        handler: 'handler',
        // Explicit, so bundling does not depend on the directory `cdk` or the runner was started from.
        projectRoot: PROJECT_ROOT,
        depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: profile.memorySize,
        timeout: profile.timeout,
        role,
        logGroup,
        environment: {
          RUN_BUCKET: this.runBucket.bucketName,
          SOURCE_REGION: sourceRegion,
          DEFAULT_INPUT: JSON.stringify(props.defaultInput ?? {}),
          PUT_IMAGE_RATE: String(putImageShare),
          POWERTOOLS_SERVICE_NAME: 'ecr-backfill',
          POWERTOOLS_METRICS_NAMESPACE: 'EcrBackfill',
          NODE_OPTIONS: '--enable-source-maps',
        },
        bundling: {
          // Local esbuild only: synth must work without Docker.
          forceDockerBundling: false,
          format: nodejs.OutputFormat.ESM,
          target: 'node24',
          minify: true,
          sourceMap: true,
          mainFields: ['module', 'main'],
          // Some dependencies still call require(); give the ESM bundle one.
          banner:
            "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
          // Bundle the AWS SDK too: the handlers need newer ECR commands than the runtime may ship.
          externalModules: [],
        },
      });
    }
    return functions;
  }

  /** A batch step that keeps no other run data: PutObject on the runs' progress records only. */
  private grantProgressWrites(role: iam.Role): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteBatchProgress',
        actions: ['s3:PutObject'],
        resources: [this.runBucket.arnForObjects('runs/*/progress/*')],
      }),
    );
  }

  /** Objects under `runs/` only; explicit actions (no `s3:*Object*` wildcards). */
  private grantRunData(role: iam.Role): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWriteRunData',
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
        resources: [this.runBucket.arnForObjects('runs/*')],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListRunData',
        actions: ['s3:ListBucket'],
        resources: [this.runBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': ['runs/*'] } },
      }),
    );
  }

  private alarm(id: string, metric: cloudwatch.Metric, what: string): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, `${id}Alarm`, {
      alarmDescription: `An ecr-backfill execution ${what}; it can be redriven from the console or with \`ecr-backfill redrive\`.`,
      metric: metric.with({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}

/** The repository root (this file lives in `infra/`). */
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `functions/<step>/handler.ts`, exporting `handler`. */
export function handlerEntry(step: LambdaStepName): string {
  return join(PROJECT_ROOT, 'functions', LAMBDA_STEPS[step], 'handler.ts');
}

/** The first group of the stack id's UUID (`arn:…:stack/<name>/<uuid>`), resolved at deploy time. */
function stackUuidHead(): string {
  return Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
}

function replicationRegions(replication: ManagedReplication | undefined): string[] | undefined {
  if (!replication) return undefined;
  return dedupe(
    replication.rules.flatMap((rule) => rule.destinations.map((destination) => destination.region)),
  );
}

function dedupe(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** Synth-time checks with explicit messages, before anything is created. */
function validateProps(scope: Construct, props: EcrReplicationBackfillProps): void {
  const problems: string[] = [];
  const defaultInput = JSON.stringify(props.defaultInput ?? {});
  if (Buffer.byteLength(defaultInput) > MAX_DEFAULT_INPUT_BYTES) {
    problems.push(
      `defaultInput must serialize to at most ${MAX_DEFAULT_INPUT_BYTES} bytes (Lambda environment limit)`,
    );
  }
  for (const [name, value] of [
    ['putImageRatePerSecond', props.putImageRatePerSecond],
    ['concurrentPushers', props.concurrentPushers],
    ['planSliceConcurrency', props.planSliceConcurrency],
  ] as const) {
    if (value !== undefined && !Token.isUnresolved(value) && !(value > 0))
      problems.push(`${name} must be positive`);
  }
  if (props.destinationRoleArns?.some((arn) => !Token.isUnresolved(arn) && !arn.startsWith('arn:'))) {
    problems.push('destinationRoleArns must be role ARNs');
  }
  if (props.replication) problems.push(...replicationProblems(props.replication));
  if (problems.length > 0) {
    throw new Error(`EcrReplicationBackfill (${scope.node.path}): ${problems.join('; ')}`);
  }
}

/** ECR's documented limits for a replication configuration. */
function replicationProblems(replication: ManagedReplication): string[] {
  const problems: string[] = [];
  if (replication.rules.length === 0) problems.push('replication needs at least one rule');
  if (replication.rules.length > 10) problems.push('replication allows at most 10 rules');
  const unique = new Set(
    replication.rules.flatMap((rule) =>
      rule.destinations.map((d) => `${d.region}/${d.registryId ?? 'self'}`),
    ),
  );
  if (unique.size > 25) problems.push('replication allows at most 25 unique destinations');
  replication.rules.forEach((rule, index) => {
    if (rule.destinations.length === 0) problems.push(`replication rule ${index} needs a destination`);
    if ((rule.repositoryPrefixes?.length ?? 0) > 100) {
      problems.push(`replication rule ${index} allows at most 100 repository filters`);
    }
  });
  return problems;
}
