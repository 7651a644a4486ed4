/**
 * The whole backfill, offline: the synthesized stack's state machine, the real step handlers, the
 * ECR emulator and a local S3, with optional Lambda crashes and console-style redrives.
 *
 *   const result = await runBackfillLocally({ ecrEndpoint, input: {}, maxRedrives: 3 });
 *   result.status, result.report?.summary.counts, result.transitions, result.invocations
 */
import { ECR_DEFAULT_PUT_IMAGE_PER_SECOND } from 'ecr-backfill/core';
import { readStepEnvironment } from 'ecr-backfill/functions';
import type { RunPolicy } from 'ecr-backfill/core';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { PlannedRunSchema, RunReportSchema, RunReportSummarySchema, type RunReport } from 'ecr-backfill/core';
import type { Clock, StepDeps, StepEnvironment } from 'ecr-backfill/core';
import type { StepHandler } from 'ecr-backfill/functions';
import { redriveVerdict } from 'ecr-backfill/core';
import { createLogger } from 'ecr-backfill/functions';
import { getJson, type RunStore } from 'ecr-backfill/core';
import { S3RunStore } from 'ecr-backfill/core';
import { buildRunReport } from 'ecr-backfill/functions';
import { createStepHandlers } from 'ecr-backfill/functions';
import { synthesizeBackfillStack } from '../synth/synth.ts';
import { STATE_NAMES } from 'ecr-backfill/core';
import { rootCredentials, startLocalS3, type LocalS3 } from '../s3/index.ts';
import type { Json } from './asl.ts';
import { DEFAULT_ACCOUNT, DEFAULT_SOURCE_REGION, DEFAULT_TIME_SCALE, LOCAL_DEPLOYMENT } from './defaults.ts';
import { localEcrClients, localStepDeps } from './backfill-deps.ts';
import {
  destinationRoleSessions,
  functionPrincipals,
  registerPrincipals,
  registerWithLocalS3,
  stateMachinePrincipal,
} from './iam.ts';
import { ServiceRole, type RoleDecisionEntry } from './state-machine-role.ts';
import {
  actDeployTimeStart,
  deployTimeStartFromTemplate,
  type DeployTimeStart,
} from './deploy-time-start.ts';
import type { TemplatePrincipal } from '../iam/template-principals.ts';
import {
  deliverEvent,
  eventRulesFromTemplate,
  executionStatusChangeEvent,
  handlersByFunctionArn,
  type EventDelivery,
} from './event-rules.ts';
import type { ExecutionDescription } from './execution.ts';
import { CrashInjector } from './lambda/crash.ts';
import { LocalStateMachine } from './local-state-machine.ts';
import { totalInvocations, type RunMetrics } from './metrics.ts';
import type { MapRunCounts, ProgressEvent } from './progress.ts';
import {
  bucketsFromTemplate,
  functionsByState,
  functionsFromTemplate,
  lambdaReservedConcurrencyByState,
  lambdaTimeoutsByState,
  stateMachineFromTemplate,
  TemplateError,
  TokenResolver,
  type CfnTemplate,
  type TemplateFunction,
} from './template.ts';

export { DEFAULT_ACCOUNT, DEFAULT_SOURCE_REGION, DEFAULT_TIME_SCALE };

/** Where the run stands, for a progress display. */
export interface BackfillSnapshot {
  /** The top-level state the execution is in (or its final status). */
  phase: string;
  /** The Distributed Map currently running, with its item and child counts. */
  map?: { label: string; counts: MapRunCounts };
  /** Tag outcomes of the finished BackfillImages batches (BACKFILLED, ALREADY_PRESENT, …). */
  outcomes: Record<string, number>;
  redrives: number;
  /** The run bucket (in the local S3), where the batches record their progress. */
  runBucket: string;
  /** The user's execution (the deploy-time start's name when the run acts it). */
  executionName: string;
}

export type BackfillEvent =
  ProgressEvent | { type: 'redrive'; redrive: number; maxRedrives: number; fromState: string };

export interface RunBackfillOptions {
  /** The ECR emulator (or any ECR-compatible endpoint). */
  ecrEndpoint: string;
  /** A running local S3; by default one is started for the run and closed after it. */
  s3?: LocalS3;
  /** The execution input (console-style JSON). Default `{}`. */
  input?: unknown;
  /** The deployment's Region, i.e. the source registry's. */
  sourceRegion?: string;
  /** The source registry's account (the emulator's default account). */
  account?: string;
  /** Probability that a Lambda invocation crashes part-way through. Default 0. */
  lambdaCrashRate?: number;
  seed?: number;
  /** Redrives of a failed execution, as an operator would from the console. Default 0. */
  maxRedrives?: number;
  /** Multiplies Wait durations and retry intervals. Default 0.001. */
  timeScale?: number;
  /**
   * Multiplies every function's configured timeout (default 1: the template's, in real time). With
   * `putImageRatePerSecond` scaled alike, a test compresses AWS's pacing: e.g. 0.01 and 10/s make a
   * 600-second batch step at 1 PutImage/s a 6-second one at 10/s — the same puts per invocation.
   */
  lambdaTimeoutScale?: number;
  /** PutImage calls per second the steps may make (shared by every local invocation). Default: the template's. */
  putImageRatePerSecond?: number;
  executionName?: string;
  /**
   * Start the execution as the template's start-on-deploy custom resource does when the stack is
   * created (deploy-time-start.ts): its execution name and input, StartExecution decided as its
   * role. Excludes `input` and `executionName`; a denial throws DeployTimeStartFailed, nothing started.
   */
  deployTimeStart?: boolean;
  /** The synthesized template. Default: the local deployment's (`LOCAL_DEPLOYMENT`). */
  template?: CfnTemplate;
  /** The handlers bound to the Tasks. Default: the real ones (`createStepHandlers`). */
  stepHandlers?: (deps: StepDeps) => Record<string, StepHandler>;
  clock?: Clock;
  onProgress?: (snapshot: BackfillSnapshot, event: BackfillEvent) => void;
}

/** A run an operator stops part-way (StopExecution), for tests of what a stop leaves behind. */
export interface StoppedRunOptions extends RunBackfillOptions {
  /**
   * Stops the execution (StopExecution) once the user's execution enters a top-level state, once
   * invocations of a Lambda Task (anywhere, Map Run children included) have ended `times` times
   * (default 1; returned or thrown, e.g. a poll's pending error), or after a delay. The run then
   * ends ABORTED and is not redriven.
   */
  stopAfter: StopAfter;
}

export type StopAfter = { stateEntered: string } | { taskInvoked: string; times?: number } | { ms: number };

export interface BackfillRunResult {
  status: 'SUCCEEDED' | 'FAILED';
  output?: Json;
  error?: string;
  cause?: string;
  /** report.json: written by Summarize, or built from the map results for a run that failed. */
  report?: RunReport;
  /** State transitions, as Step Functions would bill them. */
  transitions: number;
  /** Lambda invocations per Task state. */
  invocations: Record<string, number>;
  totalInvocations: number;
  executionId: string;
  executionName: string;
  redrives: number;
  /** Why a failed execution was not redriven although `maxRedrives` allowed it (error-catalog.ts). */
  redriveRefused?: string;
  metrics: RunMetrics;
  execution: ExecutionDescription;
  runBucket: string;
  /** The status change events delivered to the template's EventBridge rules, and what their targets did. */
  eventDeliveries: EventDelivery[];
  /** What Step Functions did as the state machine's role (Lambda invokes, child executions), as decided. */
  stateMachineRoleDecisions: RoleDecisionEntry[];
  /** With `deployTimeStart`: the custom resource acted, its role and what was decided for it. */
  deployTimeStart?: {
    logicalId: string;
    roleArn: string;
    decisions: RoleDecisionEntry[];
  };
}

export function defaultExecutionName(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\..*$/, '')
    .replace('T', '-')
    .toLowerCase();
  return `local-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * A function's own environment over the shared one: the destination-role session policy's actions
 * (DESTINATION_ACTIONS) and the accounts it reaches directly (DIRECT_ACCOUNTS), as the Lambda reads them.
 */
function functionEnvironment(shared: StepEnvironment, fn: TemplateFunction): StepEnvironment {
  const own = readStepEnvironment({
    RUN_BUCKET: 'unused',
    SOURCE_REGION: 'unused',
    ...(fn.environment.DESTINATION_ACTIONS !== undefined
      ? { DESTINATION_ACTIONS: fn.environment.DESTINATION_ACTIONS }
      : {}),
    ...(fn.environment.DIRECT_ACCOUNTS !== undefined
      ? { DIRECT_ACCOUNTS: fn.environment.DIRECT_ACCOUNTS }
      : {}),
    ...(fn.environment.DESTINATION_ROLE_ARNS !== undefined
      ? { DESTINATION_ROLE_ARNS: fn.environment.DESTINATION_ROLE_ARNS }
      : {}),
  });
  return {
    ...shared,
    ...(own.destinationActions ? { destinationActions: own.destinationActions } : {}),
    ...(own.directAccounts ? { directAccounts: own.directAccounts } : {}),
    ...(own.destinationRoleArns ? { destinationRoleArns: own.destinationRoleArns } : {}),
  };
}

function runPolicyFromEnvironment(text: string | undefined): RunPolicy | undefined {
  return readStepEnvironment({ RUN_BUCKET: 'unused', SOURCE_REGION: 'unused', RUN_POLICY: text ?? '' })
    .runPolicy;
}

function parseDefaultInput(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  const parsed: unknown = JSON.parse(text);
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}

/** Follows progress events into a snapshot, and adds up the tag outcomes of finished batches. */
class ProgressTracker {
  readonly snapshot: BackfillSnapshot;
  private readonly outcomesByChild = new Map<string, Record<string, number>>();

  constructor(
    private readonly listener: RunBackfillOptions['onProgress'],
    runBucket: string,
    executionName: string,
  ) {
    this.snapshot = { phase: 'Starting', outcomes: {}, redrives: 0, runBucket, executionName };
  }

  handle(event: BackfillEvent): void {
    const snapshot = this.snapshot;
    switch (event.type) {
      case 'state-entered':
        snapshot.phase = event.stateName;
        if (event.stateName !== STATE_NAMES.PlanSlices && event.stateName !== STATE_NAMES.BackfillImages) {
          delete snapshot.map;
        }
        break;
      case 'map-run-started':
      case 'map-run-finished':
        snapshot.map = { label: event.stateName, counts: event.counts };
        break;
      case 'map-run-progress':
        snapshot.map = { label: event.stateName, counts: event.counts };
        if (event.stateName === STATE_NAMES.BackfillImages && event.child.status === 'SUCCEEDED') {
          const counts = z.object({ counts: z.record(z.string(), z.number()) }).safeParse(event.child.output);
          if (counts.success) this.outcomesByChild.set(event.child.name, counts.data.counts);
          snapshot.outcomes = {};
          for (const childCounts of this.outcomesByChild.values()) {
            for (const [outcome, n] of Object.entries(childCounts)) {
              snapshot.outcomes[outcome] = (snapshot.outcomes[outcome] ?? 0) + n;
            }
          }
        }
        break;
      case 'redrive':
        snapshot.redrives = event.redrive;
        snapshot.phase = `Redrive ${event.redrive}/${event.maxRedrives} from ${event.fromState}`;
        break;
      case 'execution-finished':
        // Map children finish too; only the user's execution ends the run.
        if (event.root) snapshot.phase = event.status;
        break;
      default:
        break;
    }
    this.listener?.(snapshot, event);
  }
}

/** Creates the buckets in a local S3 the caller started (an existing one is fine). */
async function ensureBuckets(s3: S3Client, buckets: string[]): Promise<void> {
  for (const bucket of buckets) {
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
    }
  }
}

async function readReport(
  runStore: RunStore,
  execution: ExecutionDescription,
  clock: Clock,
): Promise<RunReport | undefined> {
  const summary = RunReportSummarySchema.safeParse(execution.output);
  if (execution.status === 'SUCCEEDED' && summary.success) {
    const { bucket, key } = summary.data.reportJson;
    return RunReportSchema.parse(await getJson(runStore, bucket, key));
  }
  // A run that failed in BackfillImages: the map's input is the PlannedRun; build the report from
  // the ResultWriter files written so far, as `ecr-backfill report` does for a failed execution.
  const planned = PlannedRunSchema.safeParse(execution.failedState?.input);
  if (
    execution.status !== 'FAILED' ||
    execution.failedState?.name !== STATE_NAMES.BackfillImages ||
    !planned.success
  ) {
    return undefined;
  }
  try {
    const built = await buildRunReport({
      runStore,
      logger: createLogger({ logLevel: 'SILENT' }),
      now: () => clock.now(),
      run: planned.data,
      locateManifest: true,
    });
    return RunReportSchema.parse(await getJson(runStore, built.reportJson.bucket, built.reportJson.key));
  } catch {
    return undefined;
  }
}

/** The template's deploy-time start, for a run that acts it; refused with a run's own name or input. */
function requireDeployTimeStart(
  template: CfnTemplate,
  resolver: TokenResolver,
  principals: readonly TemplatePrincipal[],
  stateMachineArn: string,
  options: RunBackfillOptions,
): DeployTimeStart {
  if (options.input !== undefined || options.executionName !== undefined) {
    throw new Error(
      'deployTimeStart runs the execution the template starts, with its name and input: drop input and executionName',
    );
  }
  const start = deployTimeStartFromTemplate(template, resolver, principals);
  if (!start) {
    throw new TemplateError(
      'The template has no start-on-deploy custom resource (synthesize it with startOnDeploy)',
    );
  }
  if (start.stateMachineArn !== stateMachineArn) {
    throw new TemplateError(
      `The custom resource ${start.logicalId} starts ${start.stateMachineArn}, not the template's state machine ${stateMachineArn}`,
    );
  }
  return start;
}

function scaledTimeouts(timeoutsMs: Record<string, number>, scale: number): Record<string, number> {
  if (!(scale > 0)) throw new RangeError(`lambdaTimeoutScale must be positive, got ${scale}`);
  return Object.fromEntries(Object.entries(timeoutsMs).map(([state, ms]) => [state, ms * scale]));
}

/** A stopped run ends ABORTED, unless it ended before the stop came. */
export type StoppedRunResult = Omit<BackfillRunResult, 'status'> & {
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
};

export function runBackfillLocally(options: StoppedRunOptions): Promise<StoppedRunResult>;
export function runBackfillLocally(options: RunBackfillOptions): Promise<BackfillRunResult>;
export async function runBackfillLocally(
  options: RunBackfillOptions & { stopAfter?: StopAfter },
): Promise<BackfillRunResult | StoppedRunResult> {
  const sourceRegion = options.sourceRegion ?? DEFAULT_SOURCE_REGION;
  const account = options.account ?? DEFAULT_ACCOUNT;
  const template = options.template ?? synthesizeBackfillStack({ backfill: LOCAL_DEPLOYMENT });
  const resolver = new TokenResolver(template, { region: sourceRegion, account });
  const buckets = bucketsFromTemplate(template, resolver);
  const machineSpec = stateMachineFromTemplate(template, resolver);
  const functions = functionsFromTemplate(template, resolver);
  const functionEnv = functions[0]?.environment ?? {};
  const runBucket = functionEnv.RUN_BUCKET ?? Object.values(buckets)[0];
  if (!runBucket) throw new Error('The template has no run bucket');
  const principals = functionPrincipals(template, resolver, account, functions);
  const deployStart = options.deployTimeStart
    ? requireDeployTimeStart(template, resolver, principals.all, machineSpec.arn, options)
    : undefined;
  const executionName = deployStart?.executionName ?? options.executionName ?? defaultExecutionName();

  const ownsS3 = options.s3 === undefined;
  const s3 =
    options.s3 ?? (await startLocalS3({ buckets: Object.values(buckets), region: sourceRegion, account }));
  if (!ownsS3) await ensureBuckets(s3.client, Object.values(buckets));
  const ecr = localEcrClients(options.ecrEndpoint, options.account);
  // The local S3 knows the template's roles and enforces its bucket policy (TLS included).
  registerWithLocalS3(s3, template, resolver, account, principals.all);
  const roleClients: ReturnType<typeof localEcrClients>[] = [];
  const s3Clients: S3Client[] = [];
  const s3ClientOf = (principal: { accessKeyId: string }): S3Client => {
    const client = s3.clientFor(sourceRegion, {
      accessKeyId: principal.accessKeyId,
      secretAccessKey: 'local-s3-secret-key',
    });
    s3Clients.push(client);
    return client;
  };
  // The harness's own reads act as the run bucket's owner: the root of the deployment's account,
  // which a world shared with other accounts need not default to.
  const handlerS3 = s3.clientFor(sourceRegion, rootCredentials(account));
  s3Clients.push(handlerS3);
  // Step Functions acts as the state machine's role (state-machine-role.ts), its S3 calls included.
  const machinePrincipal = stateMachinePrincipal(template, principals.all);
  const machineRole = new ServiceRole(machinePrincipal);
  const machineS3 = s3ClientOf(machinePrincipal);
  const tracker = new ProgressTracker(options.onProgress, runBucket, executionName);
  const clock = options.clock ?? { now: () => Date.now() };
  try {
    const env: StepEnvironment = {
      runBucket,
      sourceRegion,
      defaultInput: parseDefaultInput(functionEnv.DEFAULT_INPUT),
      putImageRatePerSecond: options.putImageRatePerSecond ?? Number(functionEnv.PUT_IMAGE_RATE ?? 10),
      // Locally every invocation shares one limiter at the given rate: that rate is the whole quota.
      putImageQuotaPerSecond:
        options.putImageRatePerSecond ??
        Number(functionEnv.PUT_IMAGE_QUOTA ?? ECR_DEFAULT_PUT_IMAGE_PER_SECOND),
      // The deployed run policy, read and checked as the Lambda reads it at init.
      runPolicy: runPolicyFromEnvironment(functionEnv.RUN_POLICY),
    };
    const makeHandlers = options.stepHandlers ?? createStepHandlers;
    // Every step runs as its function's role (iam.ts): its own clients, signed with that role's keys.
    await registerPrincipals(options.ecrEndpoint, principals.all);
    const lambdaHandlers: Record<string, StepHandler> = {
      ...makeHandlers(localStepDeps({ ecr: ecr.provider, s3: handlerS3, clock, env })),
    };
    const handlersByFunction = new Map<string, Record<string, StepHandler>>();
    for (const [state, fn] of Object.entries(functionsByState(machineSpec.definition, functions))) {
      let handlers = handlersByFunction.get(fn.logicalId);
      if (!handlers) {
        const principal = principals.byFunction.get(fn.logicalId);
        if (!principal) throw new Error(`The function ${fn.logicalId} has no principal`);
        const ownEnv = functionEnvironment(env, fn);
        const clients = localEcrClients(options.ecrEndpoint, options.account, {
          credentials: { accessKeyId: principal.accessKeyId, secretAccessKey: 'emulator-secret-key' },
          ...(ownEnv.destinationActions ? { sessionActions: ownEnv.destinationActions } : {}),
          // A destination's roleArn: AssumeRole in the local world, the world's role and its trust policy.
          credentialsForRole: destinationRoleSessions(options.ecrEndpoint, principal),
        });
        roleClients.push(clients);
        // Its run files as its role too: the local S3 decides with the role's grants and the bucket policy.
        handlers = makeHandlers(
          localStepDeps({ ecr: clients.provider, s3: s3ClientOf(principal), clock, env: ownEnv }),
        );
        handlersByFunction.set(fn.logicalId, handlers);
      }
      const handler = handlers[state];
      if (handler) lambdaHandlers[state] = handler;
    }
    const rules = eventRulesFromTemplate(
      template,
      resolver,
      handlersByFunctionArn(machineSpec.definition, lambdaHandlers),
    );
    const eventDeliveries: EventDelivery[] = [];
    const stopAfter = options.stopAfter;
    let stopRequested = false;
    let invocationsSeen = 0;
    const stopNow = (why: string): void => {
      if (stopRequested) return;
      stopRequested = true;
      machine.stop(executionName, { error: 'Stopped', cause: why }).catch(() => undefined);
    };
    const machine: LocalStateMachine = new LocalStateMachine({
      definition: machineSpec.definition,
      name: machineSpec.name,
      region: sourceRegion,
      account,
      lambdaHandlers,
      onExecutionEnd: async (execution) => {
        const event = executionStatusChangeEvent(execution, { account, region: sourceRegion });
        eventDeliveries.push(...(await deliverEvent(rules, event)));
      },
      ...(stopAfter && 'taskInvoked' in stopAfter
        ? {
            onInvocation: (record) => {
              if (record.stateName !== stopAfter.taskInvoked) return;
              invocationsSeen += 1;
              if (invocationsSeen >= (stopAfter.times ?? 1))
                stopNow(`stopAfter: ${invocationsSeen} invocations of ${record.stateName}`);
            },
          }
        : {}),
      s3: machineS3,
      role: machineRole.authorize,
      // Real time, not scaled: ECR calls and the handlers' own work take real time too.
      lambdaTimeoutsMs: scaledTimeouts(
        lambdaTimeoutsByState(machineSpec.definition, functions),
        options.lambdaTimeoutScale ?? 1,
      ),
      lambdaReservedConcurrency: lambdaReservedConcurrencyByState(machineSpec.definition, functions),
      timeScale: options.timeScale ?? DEFAULT_TIME_SCALE,
      ...(options.lambdaCrashRate
        ? { crashes: new CrashInjector({ rate: options.lambdaCrashRate, seed: options.seed ?? 0 }) }
        : {}),
      onProgress: (event) => {
        tracker.handle(event);
        if (
          stopAfter &&
          'stateEntered' in stopAfter &&
          event.type === 'state-entered' &&
          event.stateName === stopAfter.stateEntered
        )
          stopNow(`stopAfter: entered ${event.stateName}`);
      },
    });
    let deployDecisions: RoleDecisionEntry[] = [];
    const started = deployStart
      ? actDeployTimeStart(deployStart, (input, name) => machine.start(input, { name })).then((outcome) => {
          deployDecisions = outcome.decisions;
          // A fresh local state machine holds no execution of that name: an ignored error cannot happen.
          if (!outcome.started) throw new Error(`The deploy-time start was ignored (${outcome.ignored})`);
          return outcome.started;
        })
      : machine.start((options.input ?? {}) as Json, { name: executionName });
    const timer =
      stopAfter && 'ms' in stopAfter
        ? setTimeout(() => stopNow(`stopAfter: ${stopAfter.ms} ms`), stopAfter.ms)
        : undefined;
    let execution = await started.finally(() => clearTimeout(timer));
    const maxRedrives = options.maxRedrives ?? 0;
    let redrives = 0;
    // An operator redrives only what a redrive can fix: not bad input or a missing configuration.
    let redriveRefused: string | undefined;
    while (execution.status === 'FAILED' && redrives < maxRedrives) {
      const verdict = redriveVerdict({ error: execution.error, failedState: execution.failedState?.name });
      if (!verdict.redrivable) {
        redriveRefused = verdict.reason;
        break;
      }
      redrives += 1;
      tracker.handle({
        type: 'redrive',
        redrive: redrives,
        maxRedrives,
        fromState: execution.failedState?.name ?? '?',
      });
      execution = await machine.redrive(execution.executionArn);
    }
    const report = await readReport(new S3RunStore(handlerS3), execution, clock);
    // ABORTED only when stopAfter asked for the stop (nothing else can stop this run's execution).
    const status =
      execution.status === 'SUCCEEDED' || execution.status === 'ABORTED' ? execution.status : 'FAILED';
    return {
      status,
      ...(execution.output !== undefined ? { output: execution.output } : {}),
      ...(execution.error !== undefined ? { error: execution.error } : {}),
      ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
      ...(report ? { report } : {}),
      transitions: machine.metrics.transitions,
      invocations: { ...machine.metrics.invocations },
      totalInvocations: totalInvocations(machine.metrics),
      executionId: execution.executionArn,
      executionName,
      redrives,
      ...(redriveRefused !== undefined ? { redriveRefused } : {}),
      metrics: machine.metrics,
      execution,
      runBucket,
      eventDeliveries,
      stateMachineRoleDecisions: machineRole.decisions(),
      ...(deployStart
        ? {
            deployTimeStart: {
              logicalId: deployStart.logicalId,
              roleArn: deployStart.role.roleArn,
              decisions: deployDecisions,
            },
          }
        : {}),
    };
  } finally {
    ecr.destroy();
    for (const clients of roleClients) clients.destroy();
    for (const client of s3Clients) client.destroy();
    if (ownsS3) await s3.close();
  }
}
