/**
 * EcrReplicationBackfill: the whole backfill workflow as one construct, usable in any CDK app.
 *
 * Secure defaults first (private encrypted run bucket with TLS enforced, least-privilege roles per
 * step, logged and traced state machine, alarms), every created resource exposed as a readonly
 * property, every option documented with its default.
 */
import {
  Annotations,
  AspectPriority,
  Aspects,
  Aws,
  Duration,
  Fn,
  Names,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Method, Strategy } from '../core/contracts/contracts.ts';
import type { ExecutionInput } from '../core/contracts/execution-input.ts';
import {
  BATCH_STEP_NAMES,
  type BatchStepName,
  batchStepOf,
  destinationActionsOf,
  LAMBDA_STEP_NAMES,
  type LambdaStepName,
  type ReservedConcurrency,
  type RunDataAccess,
} from '../core/steps.ts';
import { ECR_DEFAULT_PUT_IMAGE_PER_SECOND } from '../core/quotas.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../core/deployment.ts';
import {
  DEFAULT_RUN_POLICY,
  defaultMaxConcurrencyLimit,
  runPolicyFieldProblems,
  type RunPolicy,
} from '../core/contracts/run-policy.ts';
import {
  buildBackfillWorkflow,
  DEFAULT_PLAN_SLICE_CONCURRENCY,
  throttleRetryOf,
  type BatchStepConcurrency,
} from '../statemachine/definition.ts';
import { MAX_LAMBDA_QUEUE_ATTEMPTS } from '../statemachine/retry-policies.ts';
import {
  ANY_REGION,
  describeRegistryStatement,
  ecrReadStatement,
  ecrWriteStatement,
  type RepositoryScope,
} from './ecr-permissions.ts';
import { LAMBDA_HANDLER, lambdaAssetDir } from './lambda-assets.ts';
import { deployerInputProblems } from './deployer-inputs.ts';
import { AcknowledgeJustifiedWildcards } from './nag-acknowledgements.ts';
import { LimitStateMachineToRunPrefix } from './run-prefix-grant.ts';
import { nativeBackfillStatement, StopNativeBackfillsOnExecutionEnd } from './native-engine.ts';
import { StartExecutionOnDeploy } from './start-on-deploy.ts';
import { STEP_PROFILES } from './step-profiles.ts';

/** CDK renders `ResultWriterV2` only with this flag; without it the maps would silently lose their ResultWriter. */
export const RESULT_WRITER_V2_FLAG = '@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2';

/** AWS's default PutImage quota per account and Region (adjustable): the construct's default rate. */
export const DEFAULT_PUT_IMAGE_RATE_PER_SECOND = ECR_DEFAULT_PUT_IMAGE_PER_SECOND;
export const DEFAULT_CONCURRENT_PUSHERS = 10;
/** Room for the default maxConcurrency of batch steps (core/contracts/input-schema.ts), with margin. */
export const DEFAULT_BATCH_STEP_RESERVED_CONCURRENCY = 30;
/** How long run data (plans, results, reports) is kept unless `runDataExpiration` says otherwise. */
export const DEFAULT_RUN_DATA_EXPIRATION_DAYS = 90;
/** Lambda's default concurrency quota per account and Region. */
export const DEFAULT_ACCOUNT_CONCURRENCY_LIMIT = 1000;
/** "You can reserve up to the Unreserved account concurrency value … minus 100" (configuration-concurrency.html). */
export const LAMBDA_UNRESERVED_MINIMUM = 100;
/** Lambda allows 4 KiB of environment variables in total; keep DEFAULT_INPUT and RUN_POLICY well inside it. */
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
  /**
   * Replicate deletes: tag removals and image deletions in the source are replayed in this rule's
   * destinations (https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-delete.html).
   * The backfill's `retag-source` strategy refuses repositories such a rule covers (it deletes source
   * tags); `promote` stays safe.
   * @default false
   */
  readonly replicateDeletes?: boolean;
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
   * The execution input (merged over `defaultInput` by Plan), checked at synth like `defaultInput`.
   * @default {}
   */
  readonly input?: ExecutionInput;
}

export interface EcrReplicationBackfillProps {
  /**
   * The Region whose images are backfilled.
   * @default - the stack's Region
   */
  readonly sourceRegion?: string;
  /**
   * Deploy-time defaults, merged under each execution's input (passed to the functions as
   * DEFAULT_INPUT): a default, not a limit (the run policy props are the limits). The execution
   * input's type, each field documented; checked at synth with the schema Plan parses with, the run
   * policy, and this construct's destinationRegions, destinationRoleArns, directAccounts and
   * replication, so a mistake fails `cdk synth` naming the field.
   * @default {}
   */
  readonly defaultInput?: ExecutionInput;
  /**
   * Start one execution after each deployment that changes the definition or the input. Its name is
   * a hash of both, so an unchanged redeploy starts nothing; CloudFormation never waits for the run.
   * @default - no execution is started
   */
  readonly startOnDeploy?: StartOnDeploy;
  /**
   * Roles the functions may assume to read and write destinations in other accounts
   * (`sts:AssumeRole` on exactly these ARNs; pass each as a destination's `roleArn` in the input).
   * A destination a run does not select, but its pushes replicate to, is reached through the role
   * here of its account (Plan picks it: functions/plan/reached-destinations.ts).
   * @default - no role: destinations are in this account
   */
  readonly destinationRoleArns?: readonly string[];
  /**
   * Other accounts whose destination registries the functions reach with their own roles, without a
   * destination role: their ECR grants cover these accounts' repositories too (the identity side of
   * cross-account access). Each such account must also allow this account in its registry policy
   * (the resource side; Plan's DestinationAccountNotGranted error and docs/iam/ show the statement).
   * A destination in another account that is neither named here nor given a `roleArn` is refused by
   * Plan before anything is written.
   * @default - none: every destination in another account needs a `roleArn`
   */
  readonly directAccounts?: readonly string[];
  /**
   * The destination Regions: the functions' own ECR grants (on this account's repositories and on
   * those of `directAccounts`) cover only these Regions, and synth refuses a `defaultInput` or
   * `startOnDeploy` destination in another Region, whatever its account. A destination reached
   * through a `roleArn` is written with that role's permissions, which its account scopes.
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
  /**
   * Run policy: the strategies an execution may choose. A limit, unlike `defaultInput`: Plan refuses
   * an input (or a default input) with any other strategy (`InvalidInput`, nothing written).
   * `retag-source` deletes and re-puts source tags; allow it only on purpose.
   * @default ['promote']
   */
  readonly allowedStrategies?: readonly Strategy[];
  /**
   * Run policy: whether an execution may set `overwriteConflicts` (move destination tags that point
   * to another digest).
   * @default false
   */
  readonly allowOverwriteConflicts?: boolean;
  /**
   * Run policy: the repositories any execution may plan and touch (repository patterns: a plain
   * pattern is a prefix, one with `*`/`?` a glob). A boundary enforced by Plan: repositories outside
   * it are never listed, and a selection entirely outside it is refused.
   * @default - `repositoryPrefixes` when given, otherwise every repository
   */
  readonly repositoryScope?: readonly string[];
  /**
   * Run policy: the largest `maxConcurrency` (backfill children at once) an execution may ask for;
   * an omitted maxConcurrency defaults to at most this.
   * @default - ceil(putImageRatePerSecond × 60 s): Little's law with one image per batch (600 at ECR's default quota)
   */
  readonly maxConcurrencyLimit?: number;
  /**
   * Run policy: the engines an execution may choose (`method`). Every engine is bound by
   * `repositoryScope`: the native engine (ECR's StartReplicationBackfill, which copies every
   * repository the replication rules cover) runs only when the rules' reach lies inside the scope;
   * `method: native` beyond it is refused (`InvalidInput`, nothing written) and `auto` re-pushes.
   * An omitted method that is not allowed becomes `repush` (or the first allowed).
   * @default ['repush', 'native', 'auto']
   */
  readonly allowedMethods?: readonly Method[];
  /**
   * Run policy: whether an execution may set `includeUntagged` (each untagged image keeps a marker tag).
   * @default true
   */
  readonly allowIncludeUntagged?: boolean;
  /**
   * Run policy: whether an execution may set `includeArchived` (re-pushing restores archived images,
   * which ECR charges for 90 days).
   * @default false
   */
  readonly allowIncludeArchived?: boolean;
  /**
   * Run policy: the largest `replicationTimeoutMinutes` an execution may ask for; an omitted one
   * defaults to at most this.
   * @default 360 (the input's own limit)
   */
  readonly maxReplicationTimeoutMinutes?: number;
  /**
   * Reserved concurrency of each batch step that only reads or deletes (CheckReplication,
   * VerifyDigests, CleanupTempTags). The pushing steps (PushTempTags, RetagSourceTags, PromoteTags,
   * FinishBatch) reserve `concurrentPushers`, which is what their PutImage pacing assumes. So a
   * backfill can never take more of the account's Lambda concurrency than the sum.
   * @default 30 (above the default maxConcurrency: 12 for batches of 50)
   */
  readonly batchStepReservedConcurrency?: number;
  /**
   * The account's Lambda concurrency quota in this Region. Lambda keeps 100 of it unreserved, so
   * synth fails when the batch steps' reserved concurrency would not fit in the rest.
   * https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
   * @default 1000 (the default quota: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)
   */
  readonly accountConcurrencyLimit?: number;
}

export class EcrReplicationBackfill extends Construct {
  /**
   * The backfill workflow: start an execution of it (`stateMachine.stateMachineArn`, or
   * `stateMachine.grantStartExecution(principal)` to let someone run backfills within the run policy).
   */
  readonly stateMachine: sfn.StateMachine;
  /** Each run's plan, map results and reports, under `runs/<runId>/`; expires after `runDataExpiration`. */
  readonly runBucket: s3.Bucket;
  /** One function per Lambda step, keyed by its state name. */
  readonly functions: Readonly<Record<LambdaStepName, lambda.Function>>;
  /** The state machine's log group (`/aws/vendedlogs/states/...`). */
  readonly logGroup: logs.LogGroup;
  /** In alarm when an execution fails (add an action to be told). */
  readonly failedExecutionsAlarm: cloudwatch.Alarm;
  /** In alarm when an execution is aborted (stopped). */
  readonly abortedExecutionsAlarm: cloudwatch.Alarm;
  /** In alarm when Step Functions throttles an execution. */
  readonly throttledExecutionsAlarm: cloudwatch.Alarm;
  /** The registry's replication configuration, when the `replication` prop asked for one. */
  readonly replicationConfiguration?: ecr.CfnReplicationConfiguration;
  /** The custom resource that starts one execution after deployment, when `startOnDeploy` asked for it. */
  readonly startOnDeploy?: StartExecutionOnDeploy;
  /** Stops a run's native backfills when its execution is stopped, times out or fails. */
  readonly stopNativeBackfills: StopNativeBackfillsOnExecutionEnd;
  /** The limits Plan holds every execution's input to (RUN_POLICY). */
  readonly runPolicy: RunPolicy;

  constructor(scope: Construct, id: string, props: EcrReplicationBackfillProps = {}) {
    super(scope, id);
    // Must precede the children: the maps read the flag from their ancestors.
    this.node.setContext(RESULT_WRITER_V2_FLAG, true);
    this.runPolicy = runPolicyOf(props);
    validateProps(this, props, this.runPolicy);

    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    this.runBucket = this.createRunBucket(
      props.runDataExpiration ?? Duration.days(DEFAULT_RUN_DATA_EXPIRATION_DAYS),
    );
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
          // Children queue at the batch steps' reserved concurrency (statemachine/retry-policies.ts, LAMBDA_QUEUE).
          batchStepConcurrency: batchStepConcurrencyOf(props, this.runPolicy.maxConcurrencyLimit),
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

    Aspects.of(this).add(new LimitStateMachineToRunPrefix(this.stateMachine.role, this.runBucket), {
      priority: AspectPriority.MUTATING,
    });
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
    const resource = new ecr.CfnReplicationConfiguration(this, 'ReplicationConfiguration', {
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
          // Replication of deletes (docs/aws-facts.md): the rule replays tag removals and image
          // deletions of its repositories in its destinations.
          // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ecr-replicationconfiguration-deletereplication.html
          ...(rule.replicateDeletes === true ? { deleteReplication: { enabled: true } } : {}),
        })),
      },
    });
    if (replication.rules.some((rule) => rule.replicateDeletes === true)) {
      // CDK's built-in CloudFormation validation (the recommended flag
      // @aws-cdk/core:validateAgainstDefaultRules turns it on) checks against a resource schema that
      // predates the property and flags it as unknown, though CloudFormation documents it (URL above).
      Validations.of(resource).acknowledge({
        id: 'CloudFormation-Validate::F3002',
        reason:
          'DeleteReplication is a documented property of AWS::ECR::ReplicationConfiguration rules; the ' +
          'resource schema bundled with aws-cdk-lib 2.278 predates it.',
      });
    }
    return resource;
  }

  private createFunctions(
    props: EcrReplicationBackfillProps,
    logRetention: logs.RetentionDays,
  ): Record<LambdaStepName, lambda.Function> {
    const sourceRegion = props.sourceRegion ?? Stack.of(this).region;
    const destinationRegions = props.destinationRegions ??
      replicationRegions(props.replication) ?? [ANY_REGION];
    if (destinationRegions.includes(ANY_REGION)) {
      // Least privilege by default where the construct can: it knows the Regions only from
      // destinationRegions or the replication prop. Otherwise say so, loudly, at every synth.
      Annotations.of(this).addWarningV2(
        'ecr-backfill:unscoped-destination-writes',
        'ECR writes in destinations (ecr:PutImage, ecr:BatchDeleteImage, the layer upload actions) are granted on repositories in ' +
          'EVERY Region of this account, because neither destinationRegions nor replication is set. ' +
          'Scope them with destinationRegions (context: -c destinationRegions=ap-northeast-2,eu-west-1), ' +
          'and the repositories with repositoryPrefixes.',
      );
    }
    const prefixes = props.repositoryPrefixes ?? [];
    const source: RepositoryScope = { regions: [sourceRegion], repositoryPrefixes: prefixes };
    const destinations: RepositoryScope = {
      regions: destinationRegions.includes(ANY_REGION) ? [ANY_REGION] : destinationRegions,
      repositoryPrefixes: prefixes,
      otherAccounts: props.directAccounts ?? [],
    };
    const putImageShare =
      (props.putImageRatePerSecond ?? DEFAULT_PUT_IMAGE_RATE_PER_SECOND) /
      (props.concurrentPushers ?? DEFAULT_CONCURRENT_PUSHERS);

    const container = new Construct(this, 'Functions');
    const functions = {} as Record<LambdaStepName, lambda.Function>;
    for (const step of LAMBDA_STEP_NAMES) {
      const profile = STEP_PROFILES[step];
      const scope = new Construct(container, step);
      const logGroup = new logs.LogGroup(scope, 'Logs', { retention: logRetention });
      // An explicit role instead of the AWS managed basic-execution policy: logs to its own group only.
      const role = new iam.Role(scope, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `${step}: ${profile.description}`,
      });
      logGroup.grantWrite(role);

      if (profile.sourceReads.length > 0)
        role.addToPrincipalPolicy(
          ecrReadStatement(scope, 'ReadSourceRepositories', profile.sourceReads, source),
        );
      if (profile.destinationReads.length > 0) {
        role.addToPrincipalPolicy(
          ecrReadStatement(scope, 'ReadDestinationRepositories', profile.destinationReads, destinations),
        );
      }
      if (profile.describeRegistry) role.addToPrincipalPolicy(describeRegistryStatement());
      if (profile.nativeBackfill?.length)
        role.addToPrincipalPolicy(nativeBackfillStatement(profile.nativeBackfill));
      if (profile.sourceWrites.length > 0) {
        role.addToPrincipalPolicy(
          ecrWriteStatement(scope, 'WriteSourceRepositories', profile.sourceWrites, source),
        );
      }
      if (profile.sourceLayerReads?.length) {
        role.addToPrincipalPolicy(
          ecrWriteStatement(scope, 'DownloadSourceLayers', profile.sourceLayerReads, source),
        );
      }
      if (profile.destinationWrites.length > 0) {
        role.addToPrincipalPolicy(
          ecrWriteStatement(scope, 'WriteDestinationRepositories', profile.destinationWrites, destinations),
        );
      }
      if (profile.assumesDestinationRoles && props.destinationRoleArns?.length) {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            sid: 'AssumeDestinationRoles',
            actions: ['sts:AssumeRole'],
            resources: [...props.destinationRoleArns],
          }),
        );
      }
      if (profile.runData.length > 0) this.grantRunData(role, profile.runData);
      else if (profile.recordsProgress) this.grantProgressWrites(role);
      if (profile.continues && profile.runData.length === 0) this.grantContinuations(role);

      functions[step] = new lambda.Function(scope, 'Function', {
        description: `ecr-backfill ${step}: ${profile.description}`,
        // Bundled when the package is built (infra/bundle-functions.ts), so synth runs no bundler.
        code: lambda.Code.fromAsset(lambdaAssetDir(step)),
        handler: LAMBDA_HANDLER,
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: profile.memorySize,
        timeout: profile.timeout,
        ...(profile.reservedConcurrency
          ? { reservedConcurrentExecutions: reservedConcurrencyOf(profile.reservedConcurrency, props) }
          : {}),
        role,
        logGroup,
        environment: {
          RUN_BUCKET: this.runBucket.bucketName,
          SOURCE_REGION: sourceRegion,
          DEFAULT_INPUT: JSON.stringify(props.defaultInput ?? {}),
          RUN_POLICY: JSON.stringify(this.runPolicy),
          // The session policy of every destination-role AssumeRole: this step's actions only
          // (core/ecr/ecr.ts, destinationSessionPolicy).
          ...(profile.assumesDestinationRoles
            ? { DESTINATION_ACTIONS: destinationActionsOf(profile).join(',') }
            : {}),
          ...(props.directAccounts?.length ? { DIRECT_ACCOUNTS: props.directAccounts.join(',') } : {}),
          // Plan picks the role through which a destination the run does not select, but its pushes
          // reach, is called (functions/plan/reached-destinations.ts).
          ...(step === 'Plan' && props.destinationRoleArns?.length
            ? { DESTINATION_ROLE_ARNS: props.destinationRoleArns.join(',') }
            : {}),
          PUT_IMAGE_RATE: String(putImageShare),
          // The whole rate, for the plan's quota bound and ETA (FinalizePlan).
          PUT_IMAGE_QUOTA: String(props.putImageRatePerSecond ?? DEFAULT_PUT_IMAGE_RATE_PER_SECOND),
          POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          NODE_OPTIONS: '--enable-source-maps',
        },
      });
      Validations.of(functions[step]).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          'nodejs24.x is the newest Node.js runtime Lambda documents ' +
          '(https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html) and the one the bundles ' +
          'target (infra/bundle-functions.ts); aws-cdk-lib 2.278 already lists a newer one.',
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

  /** A paced step's continuation records (core/run-files/continuation.ts), and nothing else of the run. */
  private grantContinuations(role: iam.Role): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWriteContinuations',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [this.runBucket.arnForObjects('runs/*/continuations/*')],
      }),
    );
  }

  /**
   * Objects under `runs/` only, each access of the step's row its own grant (core/steps.ts,
   * RunDataAccess); explicit actions (no `s3:*Object*` wildcards).
   */
  private grantRunData(role: iam.Role, access: readonly RunDataAccess[]): void {
    const objects = [this.runBucket.arnForObjects('runs/*')];
    if (access.includes('read')) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'ReadRunData', actions: ['s3:GetObject'], resources: objects }),
      );
    }
    if (access.includes('write') || access.includes('stream')) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'WriteRunData',
          // A streamed file is a multipart upload, which the writer aborts to give the file up.
          actions: ['s3:PutObject', ...(access.includes('stream') ? ['s3:AbortMultipartUpload'] : [])],
          resources: objects,
        }),
      );
    }
    if (access.includes('list')) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ListRunData',
          actions: ['s3:ListBucket'],
          resources: [this.runBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': ['runs/*'] } },
        }),
      );
    }
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

/** The first group of the stack id's UUID (`arn:…:stack/<name>/<uuid>`), resolved at deploy time. */
function stackUuidHead(): string {
  return Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
}

/** The run policy the props describe, with the secure defaults (DEFAULT_RUN_POLICY). */
export function runPolicyOf(props: EcrReplicationBackfillProps): RunPolicy {
  return {
    allowedStrategies: [...(props.allowedStrategies ?? DEFAULT_RUN_POLICY.allowedStrategies)],
    allowOverwriteConflicts: props.allowOverwriteConflicts ?? DEFAULT_RUN_POLICY.allowOverwriteConflicts,
    repositoryScope: [
      ...(props.repositoryScope ?? props.repositoryPrefixes ?? DEFAULT_RUN_POLICY.repositoryScope),
    ],
    maxConcurrencyLimit: props.maxConcurrencyLimit ?? defaultConcurrencyCeilingOf(props),
    allowedMethods: [...(props.allowedMethods ?? DEFAULT_RUN_POLICY.allowedMethods)],
    allowIncludeUntagged: props.allowIncludeUntagged ?? DEFAULT_RUN_POLICY.allowIncludeUntagged,
    allowIncludeArchived: props.allowIncludeArchived ?? DEFAULT_RUN_POLICY.allowIncludeArchived,
    maxReplicationTimeoutMinutes:
      props.maxReplicationTimeoutMinutes ?? DEFAULT_RUN_POLICY.maxReplicationTimeoutMinutes,
  };
}

function reservedConcurrencyOf(kind: ReservedConcurrency, props: EcrReplicationBackfillProps): number {
  return kind === 'pushers'
    ? (props.concurrentPushers ?? DEFAULT_CONCURRENT_PUSHERS)
    : (props.batchStepReservedConcurrency ?? DEFAULT_BATCH_STEP_RESERVED_CONCURRENCY);
}

/** What the batch steps' queues are sized by: the most children at once, and each reservation. */
function batchStepConcurrencyOf(
  props: EcrReplicationBackfillProps,
  maxChildren: number,
): BatchStepConcurrency {
  return {
    maxChildren,
    reserved: {
      pushers: reservedConcurrencyOf('pushers', props),
      batchStep: reservedConcurrencyOf('batchStep', props),
    },
  };
}

/**
 * Whether the queues can be sized at synth: not with a token, and not for a reservation below one
 * slot (an endless wait; the positive-concurrency check names that prop).
 */
function queuesSizable(sizing: BatchStepConcurrency): boolean {
  const { pushers, batchStep } = sizing.reserved;
  return (
    ![sizing.maxChildren, pushers, batchStep].some((n) => Token.isUnresolved(n)) &&
    pushers >= 1 &&
    batchStep >= 1
  );
}

/** The batch steps whose throttle retrier would need more than MAX_LAMBDA_QUEUE_ATTEMPTS attempts. */
function overlongQueues(sizing: BatchStepConcurrency): { step: BatchStepName; attempts: number }[] {
  return BATCH_STEP_NAMES.flatMap((step) => {
    const attempts = throttleRetryOf(step, sizing)?.maxAttempts;
    return attempts !== undefined && attempts > MAX_LAMBDA_QUEUE_ATTEMPTS ? [{ step, attempts }] : [];
  });
}

/**
 * The map's concurrency ceiling must follow from the reserved concurrency: a batch step whose queue
 * (the children that may wait for one of its slots) needs more than MAX_LAMBDA_QUEUE_ATTEMPTS
 * attempts would fail its waiting children instead of queuing them.
 */
function queueProblems(props: EcrReplicationBackfillProps, policy: RunPolicy): string[] {
  const sizing = batchStepConcurrencyOf(props, policy.maxConcurrencyLimit);
  if (!queuesSizable(sizing)) return [];
  return overlongQueues(sizing).map(({ step, attempts }) => {
    const reservation = batchStepOf(step).reservedConcurrency ?? 'pushers';
    const prop = reservation === 'pushers' ? 'concurrentPushers' : 'batchStepReservedConcurrency';
    return `${step}: up to ${sizing.maxChildren} children (maxConcurrencyLimit) would queue for its ${sizing.reserved[reservation]} reserved slots (${prop}) longer than a retrier can wait (${attempts} attempts, at most ${MAX_LAMBDA_QUEUE_ATTEMPTS}): raise ${prop} or lower maxConcurrencyLimit`;
  });
}

/**
 * The map's default concurrency ceiling: what the PutImage rate can use (Little's law), lowered to
 * what the reserved slots can queue, so a deployment without maxConcurrencyLimit never needs one
 * (a smaller concurrentPushers at a higher rate would otherwise be refused by its own default).
 */
function defaultConcurrencyCeilingOf(props: EcrReplicationBackfillProps): number {
  const byRate = defaultMaxConcurrencyLimit(props.putImageRatePerSecond ?? DEFAULT_PUT_IMAGE_RATE_PER_SECOND);
  const fits = (children: number) => overlongQueues(batchStepConcurrencyOf(props, children)).length === 0;
  if (!queuesSizable(batchStepConcurrencyOf(props, byRate)) || fits(byRate)) return byRate;
  // The largest count that fits, by bisection: a queue only grows with the children, and one fits.
  let fitting = 1;
  let failing = byRate;
  while (failing - fitting > 1) {
    const middle = Math.floor((fitting + failing) / 2);
    if (fits(middle)) fitting = middle;
    else failing = middle;
  }
  return fitting;
}

/** What the batch steps reserve together (every step with a reservedConcurrency in the step table). */
export function totalReservedConcurrency(props: EcrReplicationBackfillProps): number {
  return LAMBDA_STEP_NAMES.reduce((sum, step) => {
    const kind = STEP_PROFILES[step].reservedConcurrency;
    return sum + (kind ? reservedConcurrencyOf(kind, props) : 0);
  }, 0);
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
function validateProps(scope: Construct, props: EcrReplicationBackfillProps, policy: RunPolicy): void {
  const problems: string[] = [];
  problems.push(...policyProblems(props, policy, Stack.of(scope).account));
  for (const [name, value] of [
    ['putImageRatePerSecond', props.putImageRatePerSecond],
    ['concurrentPushers', props.concurrentPushers],
    ['planSliceConcurrency', props.planSliceConcurrency],
    ['batchStepReservedConcurrency', props.batchStepReservedConcurrency],
    ['accountConcurrencyLimit', props.accountConcurrencyLimit],
  ] as const) {
    if (value !== undefined && !Token.isUnresolved(value) && !(value > 0))
      problems.push(`${name} must be positive`);
  }
  if (props.destinationRoleArns?.some((arn) => !Token.isUnresolved(arn) && !arn.startsWith('arn:'))) {
    problems.push('destinationRoleArns must be role ARNs');
  }
  const badAccounts = (props.directAccounts ?? []).filter(
    (a) => !Token.isUnresolved(a) && !/^\d{12}$/.test(a),
  );
  if (badAccounts.length > 0)
    problems.push(`directAccounts must be 12-digit account ids, got ${badAccounts.join(', ')}`);
  if (props.replication) problems.push(...replicationProblems(props.replication));
  if (problems.length > 0) {
    throw new Error(`EcrReplicationBackfill (${scope.node.path}): ${problems.join('; ')}`);
  }
}

/**
 * The policy must be well-formed, fit in the Lambda environment with the default input, and the
 * deployer's own inputs (defaultInput, startOnDeploy) must be valid inputs within it and within the
 * construct's grants (infra/deployer-inputs.ts); and the batch steps' reserved concurrency must leave Lambda's
 * unreserved minimum of 100 (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
 */
function policyProblems(
  props: EcrReplicationBackfillProps,
  policy: RunPolicy,
  stackAccount: string,
): string[] {
  // The policy's fields are named as the props that set them.
  const problems = runPolicyFieldProblems(policy);
  const environmentBytes =
    Buffer.byteLength(JSON.stringify(props.defaultInput ?? {})) + Buffer.byteLength(JSON.stringify(policy));
  if (environmentBytes > MAX_DEFAULT_INPUT_BYTES) {
    problems.push(
      `defaultInput and the run policy must serialize to at most ${MAX_DEFAULT_INPUT_BYTES} bytes together (Lambda environment limit)`,
    );
  }
  problems.push(...deployerInputProblems(props, policy, stackAccount));
  problems.push(...queueProblems(props, policy));
  const limit = props.accountConcurrencyLimit ?? DEFAULT_ACCOUNT_CONCURRENCY_LIMIT;
  const reserved = totalReservedConcurrency(props);
  if (!Token.isUnresolved(limit) && reserved > limit - LAMBDA_UNRESERVED_MINIMUM) {
    problems.push(
      `the batch steps would reserve ${reserved} of the account's Lambda concurrency (accountConcurrencyLimit ${limit}), but Lambda keeps ${LAMBDA_UNRESERVED_MINIMUM} unreserved: lower concurrentPushers or batchStepReservedConcurrency, or raise the quota and accountConcurrencyLimit`,
    );
  }
  return problems;
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
