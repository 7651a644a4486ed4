/**
 * One execution (a user's, or a Distributed Map child) and its attempts: the first run from
 * StartAt, then any redrives. Each attempt runs the rewritten definition in a fresh interpreter,
 * with the local Task handlers bound to this execution, and reads the interpreter's event log to
 * keep what a redrive needs: the state the attempt failed in and that state's input.
 *
 * Redrive, as Step Functions defines it (https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html):
 * "it continues the failed execution from the unsuccessful step and uses the same input. Step
 * Functions preserves the results and execution history of the successful steps". Locally: the
 * attempt runs a copy of the definition whose StartAt is the failed state, with the input that state
 * had; retry counters start from zero (as they do in AWS: a redrive reschedules the state). A failed
 * Distributed Map state is resumed as its Map Run, not restarted (see map-run.ts).
 */
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
} from 'aws-local-stepfunctions';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { roleArn } from './arns.ts';
import { cloneJson, type AslDefinition, type Json } from './asl.ts';
import { MapRun, type MapRunDescription } from './distributed-map/map-run.ts';
import type { Engine, ExecutionSpec } from './engine.ts';
import type { ContextObject } from './evaluate.ts';
import { checkPayloadSize, type LocalTaskHandler } from './lambda/lambda-task.ts';
import type { ExecutionStatus } from './progress.ts';
import { CONTEXT_INPUT_FIELD, CONTEXT_START_TIME_FIELD } from './rewrite.ts';
import { scaledWaitHandler } from './scaled-wait.ts';

export interface FailedState {
  name: string;
  input: Json;
}

export interface ExecutionDescription {
  executionArn: string;
  name: string;
  stateMachineArn: string;
  status: ExecutionStatus;
  input: Json;
  output?: Json;
  error?: string;
  cause?: string;
  startDate?: string;
  stopDate?: string;
  redriveCount: number;
  redriveDate?: string;
  /** Where a redrive resumes: the state the last attempt failed in, with its input. */
  failedState?: FailedState;
  /** State transitions of this execution (its Map Runs' children not included). */
  transitions: number;
  mapRuns: MapRunDescription[];
}

export class ExecutionNotRedrivableError extends Error {
  constructor(arn: string, status: ExecutionStatus) {
    super(`Execution ${arn} is ${status} and cannot be redriven`);
    this.name = 'ExecutionNotRedrivable';
  }
}

interface InterpreterEvent {
  type: string;
  state?: { name: string; input: Json };
}

export class LocalExecution {
  readonly name: string;
  readonly arn: string;
  readonly stateMachineArn: string;
  readonly input: Json;
  status: ExecutionStatus = 'PENDING';
  output?: Json;
  error?: string;
  cause?: string;
  startDate?: Date;
  stopDate?: Date;
  redriveCount = 0;
  redriveDate?: Date;
  failedState?: FailedState;
  transitions = 0;
  readonly mapRuns: MapRun[] = [];
  /** Map Runs a redrive resumes, by state name, consumed by the state's next entry. */
  private readonly redriveTargets = new Map<string, MapRun>();
  /** Set by stop(): the running attempt is aborted and no further state starts. */
  private stopRequest?: { error?: string; cause?: string };
  private abortAttempt?: () => void;
  private running?: Promise<void>;

  constructor(
    private readonly engine: Engine,
    readonly spec: ExecutionSpec,
  ) {
    this.name = spec.name;
    this.arn = spec.arn;
    this.stateMachineArn = spec.stateMachineArn;
    this.input = cloneJson(spec.input);
  }

  /** Runs from StartAt. Resolves when the execution has ended (SUCCEEDED or FAILED). */
  async start(): Promise<void> {
    if (this.status !== 'PENDING') throw new Error(`Execution ${this.arn} has already started`);
    this.startDate = new Date();
    await this.attempt(this.spec.definition.StartAt, this.input);
  }

  /**
   * StopExecution: aborts the running attempt and the children of its running Map Runs (they end
   * ABORTED too), and resolves once the execution has ended ABORTED. A state already running (a
   * Lambda invocation) is not interrupted, as in AWS, but its result is discarded and no further
   * state starts. Stopping an execution that is not running changes nothing.
   * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html
   */
  async stop(details: { error?: string; cause?: string } = {}): Promise<void> {
    if (this.status !== 'RUNNING' || this.stopRequest) {
      await this.running;
      return;
    }
    this.stopRequest = details;
    this.abortAttempt?.();
    await Promise.all(this.mapRuns.filter((run) => run.status === 'RUNNING').map((run) => run.abort()));
    await this.running;
  }

  /**
   * Continues a failed execution from its failed state. An EXPRESS child restarts from the
   * beginning instead: Express workflows cannot resume mid-way, a Map Run redrive restarts them
   * (https://docs.aws.amazon.com/step-functions/latest/dg/redrive-map-run.html).
   */
  async redrive(): Promise<void> {
    // FAILED, ABORTED and TIMED_OUT executions are redrivable (redrive-executions.html).
    if (this.status !== 'FAILED' && this.status !== 'ABORTED')
      throw new ExecutionNotRedrivableError(this.arn, this.status);
    this.redriveCount += 1;
    this.redriveDate = new Date();
    this.engine.metrics.redrives += 1;
    // "Execution redrives are considered as state transitions" (redrive-executions.html).
    this.transitions += 1;
    this.engine.metrics.transitions += 1;
    if (this.spec.type === 'EXPRESS' || !this.failedState) {
      await this.attempt(this.spec.definition.StartAt, this.input);
      return;
    }
    const { name, input } = this.failedState;
    const failedMapRun = this.mapRuns.findLast((run) => run.stateName === name);
    // A Map Run that never got to start its children (its items could not be read) starts afresh.
    if ((failedMapRun?.status === 'FAILED' || failedMapRun?.status === 'ABORTED') && failedMapRun.started)
      this.redriveTargets.set(name, failedMapRun);
    await this.attempt(name, input);
  }

  describe(): ExecutionDescription {
    return {
      executionArn: this.arn,
      name: this.name,
      stateMachineArn: this.stateMachineArn,
      status: this.status,
      input: cloneJson(this.input),
      ...(this.output !== undefined ? { output: cloneJson(this.output) } : {}),
      ...(this.error !== undefined ? { error: this.error } : {}),
      ...(this.cause !== undefined ? { cause: this.cause } : {}),
      ...(this.startDate ? { startDate: this.startDate.toISOString() } : {}),
      ...(this.stopDate ? { stopDate: this.stopDate.toISOString() } : {}),
      redriveCount: this.redriveCount,
      ...(this.redriveDate ? { redriveDate: this.redriveDate.toISOString() } : {}),
      ...(this.failedState ? { failedState: cloneJson(this.failedState) } : {}),
      transitions: this.transitions,
      mapRuns: this.mapRuns.map((run) => run.describe()),
    };
  }

  /** The context object (`$$`). Input and StartTime also under names the interpreter keeps. */
  context(): ContextObject {
    const startTime = (this.startDate ?? new Date()).toISOString();
    return {
      Execution: {
        Id: this.arn,
        Name: this.name,
        RoleArn: roleArn(this.engine.arnContext, 'LocalStateMachineRole'),
        RedriveCount: this.redriveCount,
        [CONTEXT_INPUT_FIELD]: this.input,
        [CONTEXT_START_TIME_FIELD]: startTime,
      },
      StateMachine: { Id: this.stateMachineArn, Name: this.spec.stateMachineName },
    };
  }

  private handlers(): Record<string, LocalTaskHandler> {
    const handlers: Record<string, LocalTaskHandler> = { ...this.engine.handlers };
    for (const [name, state] of Object.entries(this.engine.waits)) {
      handlers[name] = scaledWaitHandler(state, this.engine.timeScale, () => this.context());
    }
    for (const name of Object.keys(this.engine.distributedMaps)) {
      handlers[name] = (input) => this.runDistributedMap(name, input);
    }
    // After a stop no state runs: the interpreter may still be unwinding (a Retry, a Catch), but
    // a stopped execution invokes nothing more. The promise never settles; nobody awaits it.
    // Every state served here (Lambda Tasks, Waits, Distributed Maps) checks its input against
    // Step Functions' 256 KiB limit "when scheduling a task, entering a state" (checkPayloadSize):
    // the output the previous state left (after its ResultPath) is this state's input.
    const guarded: Record<string, LocalTaskHandler> = {};
    for (const [name, handler] of Object.entries(handlers)) {
      guarded[name] = async (input) => {
        if (this.stopRequest) return new Promise<Json>(() => {});
        checkPayloadSize(`The input of '${name}'`, input);
        return handler(input);
      };
    }
    return guarded;
  }

  private runDistributedMap(stateName: string, input: Json): Promise<Json> {
    const resumed = this.redriveTargets.get(stateName);
    if (resumed) {
      this.redriveTargets.delete(stateName);
      return resumed.redrive();
    }
    const spec = this.engine.distributedMaps[stateName];
    if (!spec) throw new Error(`No Distributed Map named ${stateName}`);
    const run = new MapRun(this.engine, this, spec);
    this.mapRuns.push(run);
    return run.start(input);
  }

  private attempt(startAt: string, input: Json): Promise<void> {
    this.running = this.runAttempt(startAt, input).finally(() => {
      this.abortAttempt = undefined;
    });
    return this.running;
  }

  private async runAttempt(startAt: string, input: Json): Promise<void> {
    const definition: AslDefinition =
      startAt === this.spec.definition.StartAt
        ? this.spec.definition
        : { ...this.spec.definition, StartAt: startAt };
    this.status = 'RUNNING';
    this.stopRequest = undefined;
    this.failedState = undefined;
    this.engine.emit({
      type: 'execution-started',
      executionArn: this.arn,
      root: this.spec.root,
      redriveCount: this.redriveCount,
      startAt,
    });
    const machine = new StateMachine(definition as unknown as StateMachineDefinition, {
      validationOptions: { noValidate: true },
    });
    const run = machine.run(input, {
      overrides: { taskResourceLocalHandlers: this.handlers() },
      context: this.context(),
    });
    this.abortAttempt = run.abort;
    const topLevel = new Set(Object.keys(definition.States));
    const open = new Map<string, Json>();
    const events = (async () => {
      for await (const event of run.eventLogs as AsyncIterable<InterpreterEvent>) {
        if (event.type === 'StateEntered' || event.type === 'StateRetried') {
          this.transitions += 1;
          this.engine.metrics.transitions += 1;
        }
        const state = event.state;
        if (!state || !topLevel.has(state.name)) continue;
        if (event.type === 'StateEntered') {
          open.delete(state.name);
          open.set(state.name, state.input);
          if (this.spec.root)
            this.engine.emit({ type: 'state-entered', executionArn: this.arn, stateName: state.name });
        } else if (event.type === 'StateExited') {
          open.delete(state.name);
        }
      }
    })();
    try {
      const output = await run.result;
      checkPayloadSize(`The output of execution '${this.name}'`, output);
      this.output = output;
      this.status = 'SUCCEEDED';
    } catch (error) {
      const failure = error instanceof ExecutionError ? error.cause : error;
      this.status = 'FAILED';
      if (error instanceof ExecutionAbortedError || this.stopRequest) {
        this.status = 'ABORTED';
        const { error: stopError, cause } = this.stopRequest ?? { error: undefined, cause: undefined };
        if (stopError !== undefined) this.error = stopError;
        else delete this.error;
        if (cause !== undefined) this.cause = cause;
        else delete this.cause;
      } else if (error instanceof ExecutionTimeoutError) {
        this.error = 'States.Timeout';
        this.cause = 'The execution timed out (TimeoutSeconds)';
      } else {
        this.error = failure instanceof Error ? failure.name : 'States.Runtime';
        this.cause = failure instanceof Error ? failure.message : String(failure);
      }
    }
    await events;
    if (this.status === 'FAILED' || this.status === 'ABORTED') {
      const [name, stateInput] = [...open.entries()].at(-1) ?? [];
      if (name !== undefined) this.failedState = { name, input: stateInput ?? null };
    }
    if (this.status === 'SUCCEEDED') {
      delete this.error;
      delete this.cause;
    }
    this.stopDate = new Date();
    this.engine.emit({
      type: 'execution-finished',
      executionArn: this.arn,
      root: this.spec.root,
      status: this.status,
      ...(this.error !== undefined ? { error: this.error, cause: this.cause ?? '' } : {}),
    });
    // Only a user's execution: the rules of this stack match the parent state machine's ARN, and
    // the children's events are not modelled.
    if (this.spec.root) await this.engine.executionEnded?.(this.describe());
  }
}
