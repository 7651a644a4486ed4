/**
 * A state machine definition, run locally: validated, checked for local handlers, rewritten where
 * the interpreter falls short (see rewrite.ts), then executed with aws-local-stepfunctions.
 *
 *   const machine = new LocalStateMachine({ definition, lambdaHandlers, s3 });
 *   const first = await machine.start(input);            // runs to the end
 *   if (first.status === 'FAILED') await machine.redrive(first.executionArn);
 *   await machine.stop(name, { error, cause });           // from elsewhere, while it runs: ABORTED
 *   machine.describe(first.executionArn).mapRuns[0].children  // every child, with where it failed
 *
 * It refuses to run a definition with a Task it has no local handler for: the interpreter would send
 * that Task to the real AWS Lambda service.
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { StepHandler } from 'ecr-backfill/functions';
import { executionArn, stateMachineArn, type ArnContext } from './arns.ts';
import { cloneJson, forEachState, isDistributedMap, type AslDefinition, type Json } from './asl.ts';
import { parseDistributedMap, type DistributedMapSpec } from './distributed-map/spec.ts';
import type { Engine, ExecutionSpec } from './engine.ts';
import { LocalExecution, type ExecutionDescription } from './execution.ts';
import type { CrashInjector } from './lambda/crash.ts';
import {
  ConcurrencyPool,
  createLambdaTask,
  type InvocationRecord,
  type LocalTaskHandler,
} from './lambda/lambda-task.ts';
import { emptyMetrics, recordInvocation, type RunMetrics } from './metrics.ts';
import type { ProgressListener } from './progress.ts';
import { rewriteForLocalRun } from './rewrite.ts';
import type { ServiceRoleAuthorizer } from './state-machine-role.ts';
import { validateDefinition } from './validate.ts';

export class MissingLocalHandlerError extends Error {
  constructor(readonly taskStates: string[]) {
    super(
      `Refusing to run: no local handler for Task state${taskStates.length > 1 ? 's' : ''} ${taskStates
        .map((name) => `'${name}'`)
        .join(', ')} (the interpreter would invoke the real AWS service)`,
    );
    this.name = 'MissingLocalHandlerError';
  }
}

export class ExecutionDoesNotExistError extends Error {
  constructor(id: string) {
    super(`No local execution '${id}'`);
    this.name = 'ExecutionDoesNotExist';
  }
}

export interface LocalStateMachineOptions {
  /** Plain ASL (JSONPath). Validated before anything runs. */
  definition: AslDefinition;
  name?: string;
  region?: string;
  account?: string;
  partition?: string;
  /** Lambda-backed Tasks: the step handler invoked in-process, by Task state name. */
  lambdaHandlers?: Record<string, StepHandler>;
  /** Any other Task (a service integration): its result, computed locally, by Task state name. */
  taskHandlers?: Record<string, LocalTaskHandler>;
  /** S3 for ItemReader and ResultWriter (the local S3). */
  s3: S3Client;
  /** Multiplies every Wait duration and retry interval. Default 1 (real time). */
  timeScale?: number;
  /** Lambda crash injection. */
  crashes?: CrashInjector;
  /**
   * Each Lambda Task's function timeout in ms, by state name (from the template: see
   * `lambdaTimeoutsByState`). An invocation still running then dies with `Sandbox.Timedout`.
   */
  lambdaTimeoutsMs?: Record<string, number>;
  /**
   * Each Lambda Task's function reserved concurrency, by state name (from the template: see
   * `lambdaReservedConcurrencyByState`). An invoke beyond it fails with
   * `Lambda.TooManyRequestsException`; states naming one function share its limit.
   */
  lambdaReservedConcurrency?: Record<string, { functionName: string; limit: number }>;
  /** Largest ResultWriter file before it is split into `_1`, `_2`, … Default 128 MiB. */
  resultWriterMaxFileBytes?: number;
  onProgress?: ProgressListener;
  onInvocation?: (record: InvocationRecord) => void;
  /**
   * Called when a user's execution ends (SUCCEEDED, FAILED, ABORTED), awaited before start, redrive
   * or stop resolve: e.g. to deliver its status change event to EventBridge rules.
   */
  onExecutionEnd?: (execution: ExecutionDescription) => Promise<void>;
  /**
   * Decides what Step Functions does as the state machine's role (state-machine-role.ts): Lambda
   * invokes and the Distributed Maps' child executions. Absent: everything is allowed. The role's S3
   * calls are the `s3` client's (sign it as the role).
   */
  role?: ServiceRoleAuthorizer;
}

export interface StartOptions {
  /** Execution name (default: a UUID). Names are unique per state machine. */
  name?: string;
}

/** Every Task of the definition (nested ones included) that is not a Distributed Map. */
function taskStates(definition: AslDefinition): Map<string, string | undefined> {
  const tasks = new Map<string, string | undefined>();
  forEachState(definition, (name, state) => {
    if (state.Type === 'Task') tasks.set(name, state.Resource);
  });
  return tasks;
}

export class LocalStateMachine {
  readonly name: string;
  readonly arn: string;
  readonly metrics: RunMetrics = emptyMetrics();
  private readonly engine: Engine;
  private readonly rootDefinition: AslDefinition;
  private readonly executions = new Map<string, LocalExecution>();

  constructor(options: LocalStateMachineOptions) {
    validateDefinition(options.definition);
    const arnContext: ArnContext = {
      partition: options.partition ?? 'aws',
      region: options.region ?? 'us-east-1',
      account: options.account ?? '123456789012',
    };
    this.name = options.name ?? 'LocalStateMachine';
    this.arn = stateMachineArn(arnContext, this.name);
    const handlers = this.bindTasks(options);
    const timeScale = options.timeScale ?? 1;
    if (!(timeScale >= 0)) throw new RangeError('timeScale must be >= 0');
    const rewritten = rewriteForLocalRun(options.definition, timeScale);
    const distributedMaps: Record<string, DistributedMapSpec> = {};
    for (const [name, state] of Object.entries(rewritten.distributedMaps)) {
      distributedMaps[name] = parseDistributedMap(name, state);
    }
    this.rootDefinition = rewritten.executable;
    this.engine = {
      arnContext,
      handlers,
      distributedMaps,
      waits: rewritten.waits,
      s3: options.s3,
      timeScale,
      resultWriterMaxFileBytes: options.resultWriterMaxFileBytes ?? 128 * 1024 * 1024,
      metrics: this.metrics,
      emit: (event) => options.onProgress?.(event),
      createExecution: (spec: ExecutionSpec) => new LocalExecution(this.engine, spec),
      ...(options.onExecutionEnd ? { executionEnded: options.onExecutionEnd } : {}),
      ...(options.role ? { authorize: options.role } : {}),
    };
  }

  /** Starts an execution and resolves with its description once it has ended. */
  async start(input: Json, options: StartOptions = {}): Promise<ExecutionDescription> {
    const name = options.name ?? randomUUID();
    const arn = executionArn(this.engine.arnContext, this.name, name);
    // Step Functions' error for a name in use, by the name the SDK gives it:
    // https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
    if (this.executions.has(arn))
      throw Object.assign(new Error(`Execution Already Exists: '${arn}'`), {
        name: 'ExecutionAlreadyExists',
      });
    const execution = this.engine.createExecution({
      name,
      arn,
      stateMachineArn: this.arn,
      stateMachineName: this.name,
      definition: this.rootDefinition,
      input: cloneJson(input),
      type: 'STANDARD',
      root: true,
    });
    this.executions.set(arn, execution);
    await execution.start();
    return execution.describe();
  }

  /** Redrives a failed execution (by ARN or name) and resolves once it has ended again. */
  async redrive(id: string): Promise<ExecutionDescription> {
    const execution = this.find(id);
    await execution.redrive();
    return execution.describe();
  }

  /**
   * StopExecution: aborts a running execution (by ARN or name) and its Map Runs' running children,
   * and resolves with its description once it has ended ABORTED (with the given error and cause).
   * An ABORTED execution can be redriven, like a FAILED one.
   */
  async stop(id: string, details: { error?: string; cause?: string } = {}): Promise<ExecutionDescription> {
    const execution = this.find(id);
    await execution.stop(details);
    return execution.describe();
  }

  describe(id: string): ExecutionDescription {
    return this.find(id).describe();
  }

  list(): ExecutionDescription[] {
    return [...this.executions.values()].map((execution) => execution.describe());
  }

  private find(id: string): LocalExecution {
    const execution =
      this.executions.get(id) ?? [...this.executions.values()].find((candidate) => candidate.name === id);
    if (!execution) throw new ExecutionDoesNotExistError(id);
    return execution;
  }

  private bindTasks(options: LocalStateMachineOptions): Record<string, LocalTaskHandler> {
    const tasks = taskStates(options.definition);
    const distributed = new Set<string>();
    forEachState(options.definition, (name, state) => {
      if (isDistributedMap(state)) distributed.add(name);
    });
    const missing = [...tasks.keys()].filter(
      (name) => !options.lambdaHandlers?.[name] && !options.taskHandlers?.[name],
    );
    if (missing.length > 0) throw new MissingLocalHandlerError(missing);
    const handlers: Record<string, LocalTaskHandler> = {};
    const pools = new Map<string, ConcurrencyPool>();
    const poolOf = (name: string): ConcurrencyPool | undefined => {
      const reserved = options.lambdaReservedConcurrency?.[name];
      if (!reserved) return undefined;
      let pool = pools.get(reserved.functionName);
      if (!pool) {
        pool = new ConcurrencyPool(reserved.functionName, reserved.limit);
        pools.set(reserved.functionName, pool);
      }
      return pool;
    };
    for (const [name, resource] of tasks) {
      const lambda = options.lambdaHandlers?.[name];
      const concurrency = poolOf(name);
      handlers[name] = lambda
        ? createLambdaTask({
            stateName: name,
            resource: resource ?? '',
            handler: lambda,
            ...(options.crashes ? { crashes: options.crashes } : {}),
            ...(options.lambdaTimeoutsMs?.[name] !== undefined
              ? { timeoutMs: options.lambdaTimeoutsMs[name] }
              : {}),
            onInvocation: (record) => {
              recordInvocation(this.metrics, record);
              options.onInvocation?.(record);
            },
            ...(concurrency ? { concurrency } : {}),
            ...(options.role ? { authorize: options.role } : {}),
            onThrottle: (stateName) => {
              this.metrics.throttles[stateName] = (this.metrics.throttles[stateName] ?? 0) + 1;
            },
          })
        : (options.taskHandlers?.[name] as LocalTaskHandler);
    }
    return handlers;
  }
}
