/**
 * A Map Run: what a Distributed Map state does when entered, done locally.
 *
 * 1. Reads the items: ItemReader (S3, Parameters evaluated against the state input) or ItemsPath.
 * 2. ItemSelector on each item, with `$$.Map.Item.Value` / `$$.Map.Item.Index`.
 * 3. ItemBatcher: child inputs `{BatchInput, Items}`.
 * 4. Runs each child as its own execution (STANDARD or EXPRESS) of the ItemProcessor, at most
 *    MaxConcurrency at a time (0 or absent: no limit; AWS caps a Map Run at 10,000).
 * 5. Tolerated failures: the run fails with `States.ExceedToleratedFailureThreshold` once the failed
 *    items exceed ToleratedFailurePercentage of all items or ToleratedFailureCount (default: any
 *    failure). Once exceeded no new child starts; running ones finish ("Step Functions may continue to
 *    run child workflows in a Map Run even after the tolerated failure threshold is exceeded").
 * 6. ResultWriter files in S3, then the state's output `{MapRunArn, ResultWriterDetails}`; without a
 *    ResultWriter, the array of child outputs.
 *
 * Redrive (https://docs.aws.amazon.com/step-functions/latest/dg/redrive-map-run.html): the same Map
 * Run (same ARN, items and children) continues: succeeded children are kept; failed children are
 * redriven (each resumes at the state it failed in, with that state's input); children that never
 * started start now. The tolerance is evaluated again over all items and the result files are
 * rewritten. A Retry on the map state, by contrast, starts a new Map Run with every child.
 */
import { randomUUID } from 'node:crypto';
import { executionArn, mapRunArn, stateMachineArn } from '../arns.ts';
import { cloneJson, isJsonObject, type Json, type JsonObject } from '../asl.ts';
import type { Engine } from '../engine.ts';
import { evaluatePath, evaluateTemplate, type ContextObject } from '../evaluate.ts';
import type { ExecutionDescription, LocalExecution } from '../execution.ts';
import { MAX_PAYLOAD_BYTES } from '../lambda/lambda-task.ts';
import type { ChildOutcome, MapRunCounts } from '../progress.ts';
import { MAP_ERRORS, MapRunError, MapRunRuntimeError } from './errors.ts';
import { batchItems } from './item-batcher.ts';
import { readItems } from './item-reader.ts';
import { writeResults } from './result-writer.ts';
import type { DistributedMapSpec } from './spec.ts';

/** "MaxConcurrency … up to 10,000" for a Distributed Map. */
export const DISTRIBUTED_MAP_MAX_CONCURRENCY = 10_000;

export interface MapRunChildDescription extends ExecutionDescription {
  index: number;
  itemCount: number;
}

export interface MapRunDescription {
  mapRunArn: string;
  stateName: string;
  label: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  executionType: 'STANDARD' | 'EXPRESS';
  redriveCount: number;
  maxConcurrency: number;
  toleratedFailurePercentage?: number;
  toleratedFailureCount?: number;
  resultWriterDetails?: { Bucket: string; Key: string };
  counts: MapRunCounts;
  children: MapRunChildDescription[];
}

interface Child {
  index: number;
  itemCount: number;
  execution: LocalExecution;
}

interface Settings {
  maxConcurrency: number;
  toleratedFailurePercentage?: number;
  toleratedFailureCount?: number;
  resultWriter?: { bucket: string; prefix: string };
}

function batchSize(childInput: Json): number {
  return isJsonObject(childInput) && Array.isArray(childInput.Items) ? childInput.Items.length : 1;
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

export class MapRun {
  readonly id = randomUUID();
  readonly arn: string;
  readonly stateName: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' = 'RUNNING';
  private aborted = false;
  redriveCount = 0;
  private children: Child[] = [];
  /** Children waiting to (re)run in the current attempt: pending, whatever their last status. */
  private readonly queued = new Set<Child>();
  private settings: Settings = { maxConcurrency: 0 };
  private resultWriterDetails?: { Bucket: string; Key: string };
  private readonly childStateMachineName: string;
  private readonly childStateMachineArn: string;

  constructor(
    private readonly engine: Engine,
    private readonly parent: LocalExecution,
    private readonly spec: DistributedMapSpec,
  ) {
    this.stateName = spec.stateName;
    this.childStateMachineName = `${parent.spec.stateMachineName}/${spec.label}`;
    this.childStateMachineArn = `${parent.stateMachineArn}/${spec.label}`;
    this.arn = mapRunArn(engine.arnContext, parent.spec.stateMachineName, spec.label, this.id);
  }

  /** Runs a new Map Run over the state input; resolves to the state's result. */
  async start(input: Json): Promise<Json> {
    this.engine.metrics.mapRuns += 1;
    try {
      await this.prepareChildren(input);
    } catch (error) {
      // Nothing started (e.g. States.ItemReaderFailed): a redrive starts the Map Run afresh.
      this.status = 'FAILED';
      throw error;
    }
    return this.runChildren();
  }

  /** True once the items were read and the children created: a redrive then continues this run. */
  get started(): boolean {
    return this.children.length > 0;
  }

  private async prepareChildren(input: Json): Promise<void> {
    const context = this.parent.context();
    this.settings = await this.resolveSettings(input, context);
    const items = await this.readItems(input, context);
    const selected = await this.selectItems(items, input, context);
    const inputs = await this.childInputs(selected, input, context);
    this.children = inputs.map((childInput, index) => {
      const name = randomUUID();
      return {
        index,
        itemCount: this.spec.itemBatcher ? batchSize(childInput) : 1,
        execution: this.engine.createExecution({
          name,
          arn: `${this.childStateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
          stateMachineArn: this.childStateMachineArn,
          stateMachineName: this.childStateMachineName,
          definition: this.spec.itemProcessor,
          input: childInput,
          type: this.spec.executionType,
          root: false,
        }),
      };
    });
    this.engine.metrics.childExecutions += this.children.length;
  }

  /** Continues this (failed) Map Run: only children that did not succeed run again. */
  async redrive(): Promise<Json> {
    this.redriveCount += 1;
    this.status = 'RUNNING';
    this.aborted = false;
    return this.runChildren();
  }

  /**
   * The parent was stopped: no child starts any more and the running ones are stopped (they end
   * ABORTED); the Map Run ends ABORTED. A redrive of the parent continues it like a failed one.
   */
  async abort(): Promise<void> {
    this.aborted = true;
    // Stopping the children is a StopExecution of the role; refused, they run to their end.
    if ((await this.roleDenial('states:StopExecution', this.parentExecutionArn())) !== undefined) return;
    await Promise.all(
      this.children
        .filter(({ execution }) => execution.status === 'RUNNING')
        .map(({ execution }) =>
          execution.stop({ error: 'States.Aborted', cause: 'The parent execution was stopped' }),
        ),
    );
  }

  describe(): MapRunDescription {
    return {
      mapRunArn: this.arn,
      stateName: this.stateName,
      label: this.spec.label,
      status: this.status,
      executionType: this.spec.executionType,
      redriveCount: this.redriveCount,
      maxConcurrency: this.settings.maxConcurrency,
      ...(this.settings.toleratedFailurePercentage !== undefined
        ? { toleratedFailurePercentage: this.settings.toleratedFailurePercentage }
        : {}),
      ...(this.settings.toleratedFailureCount !== undefined
        ? { toleratedFailureCount: this.settings.toleratedFailureCount }
        : {}),
      ...(this.resultWriterDetails ? { resultWriterDetails: { ...this.resultWriterDetails } } : {}),
      counts: this.counts(),
      children: this.children.map((child) => ({
        ...child.execution.describe(),
        index: child.index,
        itemCount: child.itemCount,
      })),
    };
  }

  counts(): MapRunCounts {
    const counts: MapRunCounts = {
      itemsTotal: 0,
      itemsSucceeded: 0,
      itemsFailed: 0,
      itemsRunning: 0,
      itemsPending: 0,
      childrenTotal: this.children.length,
      succeeded: 0,
      failed: 0,
      running: 0,
      pending: 0,
    };
    for (const child of this.children) {
      const { itemCount, execution } = child;
      counts.itemsTotal += itemCount;
      switch (this.queued.has(child) ? 'PENDING' : execution.status) {
        case 'SUCCEEDED':
          counts.succeeded += 1;
          counts.itemsSucceeded += itemCount;
          break;
        case 'FAILED':
          counts.failed += 1;
          counts.itemsFailed += itemCount;
          break;
        case 'RUNNING':
          counts.running += 1;
          counts.itemsRunning += itemCount;
          break;
        default:
          counts.pending += 1;
          counts.itemsPending += itemCount;
      }
    }
    return counts;
  }

  private async resolveSettings(input: Json, context: ContextObject): Promise<Settings> {
    const spec = this.spec;
    const integer = async (value: number | undefined, path: string | undefined, field: string) => {
      const resolved = path !== undefined ? await evaluatePath(path, input, context) : value;
      if (resolved === undefined) return undefined;
      if (!isNonNegativeInteger(resolved)) {
        throw new MapRunError(
          MAP_ERRORS.Runtime,
          `${field} must be a non-negative integer, got ${JSON.stringify(resolved)}`,
        );
      }
      return resolved;
    };
    const maxConcurrency =
      (await integer(spec.maxConcurrency, spec.maxConcurrencyPath, 'MaxConcurrency')) ?? 0;
    const settings: Settings = { maxConcurrency };
    const percentage = await integer(
      spec.toleratedFailurePercentage,
      spec.toleratedFailurePercentagePath,
      'ToleratedFailurePercentage',
    );
    if (percentage !== undefined) {
      if (percentage > 100)
        throw new MapRunError(MAP_ERRORS.Runtime, 'ToleratedFailurePercentage must be 0-100');
      settings.toleratedFailurePercentage = percentage;
    }
    const count = await integer(
      spec.toleratedFailureCount,
      spec.toleratedFailureCountPath,
      'ToleratedFailureCount',
    );
    if (count !== undefined) settings.toleratedFailureCount = count;
    if (spec.resultWriter) {
      const parameters = (await evaluateTemplate(spec.resultWriter.parameters, input, context)) as JsonObject;
      if (typeof parameters.Bucket !== 'string') {
        throw new MapRunError(MAP_ERRORS.ResultWriterFailed, 'ResultWriter Parameters.Bucket is missing');
      }
      settings.resultWriter = {
        bucket: parameters.Bucket,
        prefix: typeof parameters.Prefix === 'string' ? parameters.Prefix : '',
      };
    }
    return settings;
  }

  private async readItems(input: Json, context: ContextObject): Promise<Json[]> {
    const reader = this.spec.itemReader;
    if (!reader) {
      const items = await evaluatePath(this.spec.itemsPath ?? '$', input, context);
      if (!Array.isArray(items)) {
        throw new MapRunError(
          MAP_ERRORS.Runtime,
          `ItemsPath '${this.spec.itemsPath ?? '$'}' does not point to an array`,
        );
      }
      return items;
    }
    const parameters = (await evaluateTemplate(reader.parameters, input, context)) as JsonObject;
    const maxItems =
      reader.maxItemsPath !== undefined
        ? await evaluatePath(reader.maxItemsPath, input, context)
        : reader.maxItems;
    return readItems(this.engine.s3, reader, parameters, typeof maxItems === 'number' ? maxItems : undefined);
  }

  private async selectItems(items: Json[], input: Json, context: ContextObject): Promise<Json[]> {
    const selector = this.spec.itemSelector;
    if (!selector) return items;
    const selected: Json[] = [];
    for (const [index, value] of items.entries()) {
      selected.push(
        await evaluateTemplate(selector, input, {
          ...context,
          Map: { Item: { Index: index, Value: value } },
        }),
      );
    }
    return selected;
  }

  private async childInputs(items: Json[], input: Json, context: ContextObject): Promise<Json[]> {
    const batcher = this.spec.itemBatcher;
    if (!batcher) return this.checkSizes(items);
    const number = async (value: number | undefined, path: string | undefined) => {
      const resolved = path !== undefined ? await evaluatePath(path, input, context) : value;
      return typeof resolved === 'number' ? resolved : undefined;
    };
    const maxItems = await number(batcher.maxItemsPerBatch, batcher.maxItemsPerBatchPath);
    const maxBytes = await number(batcher.maxInputBytesPerBatch, batcher.maxInputBytesPerBatchPath);
    const batchInput = batcher.batchInput
      ? await evaluateTemplate(batcher.batchInput, input, context)
      : undefined;
    return this.checkSizes(
      batchItems(items, {
        ...(maxItems !== undefined ? { maxItems } : {}),
        ...(maxBytes !== undefined ? { maxBytes: Math.min(maxBytes, MAX_PAYLOAD_BYTES) } : {}),
        ...(batchInput !== undefined ? { batchInput } : {}),
      }),
    );
  }

  private checkSizes<T extends Json>(inputs: T[]): T[] {
    for (const [index, childInput] of inputs.entries()) {
      const bytes = Buffer.byteLength(JSON.stringify(childInput));
      if (bytes > MAX_PAYLOAD_BYTES) {
        throw new MapRunError(
          'States.DataLimitExceeded',
          `The input of child ${index} is ${bytes} bytes, over 256 KiB`,
        );
      }
    }
    return inputs;
  }

  private thresholdExceeded(): boolean {
    const { itemsTotal, itemsFailed } = this.counts();
    if (itemsFailed === 0) return false;
    const { toleratedFailurePercentage: percentage, toleratedFailureCount: count } = this.settings;
    if (percentage === undefined && count === undefined) return true;
    if (percentage !== undefined && (itemsFailed / itemsTotal) * 100 > percentage) return true;
    if (count !== undefined && itemsFailed > count) return true;
    return false;
  }

  /** The state machine's own ARN, which the role's states:StartExecution names. */
  private rootStateMachineArn(): string {
    return stateMachineArn(this.engine.arnContext, this.rootStateMachineName());
  }

  private rootStateMachineName(): string {
    return this.parent.spec.stateMachineName.split('/')[0] ?? this.parent.spec.stateMachineName;
  }

  /** `execution:<stateMachineName>:<name>`: where the role's DescribeExecution and StopExecution are decided (state-machine-role.ts). */
  private parentExecutionArn(): string {
    return executionArn(this.engine.arnContext, this.rootStateMachineName(), this.parent.name);
  }

  private async roleDenial(action: string, resource: string): Promise<string | undefined> {
    return this.engine.authorize?.(action, resource);
  }

  /**
   * What this attempt does as the state machine's role, decided before any child runs: start the
   * children that never ran, redrive the failed ones, follow them. A denial fails the Map Run with
   * States.Runtime, nothing started; a redrive after the role is fixed continues it.
   */
  private async authorizeAttempt(todo: readonly Child[]): Promise<void> {
    const calls: [string, string][] = [['states:DescribeExecution', this.parentExecutionArn()]];
    for (const { execution } of todo) {
      calls.push(
        execution.status === 'FAILED' || execution.status === 'ABORTED'
          ? ['states:RedriveExecution', execution.arn]
          : ['states:StartExecution', this.rootStateMachineArn()],
      );
    }
    for (const [action, resource] of calls) {
      const denial = await this.roleDenial(action, resource);
      if (denial !== undefined) {
        this.status = 'FAILED';
        throw new MapRunRuntimeError(`The Map Run ${this.arn} could not run its child executions: ${denial}`);
      }
    }
  }

  private async runChildren(): Promise<Json> {
    const todo = this.children.filter((child) => child.execution.status !== 'SUCCEEDED');
    await this.authorizeAttempt(todo);
    for (const child of todo) this.queued.add(child);
    this.engine.emit({
      type: 'map-run-started',
      executionArn: this.parent.arn,
      stateName: this.stateName,
      mapRunArn: this.arn,
      redriveCount: this.redriveCount,
      counts: this.counts(),
    });
    const limit =
      this.settings.maxConcurrency > 0
        ? Math.min(this.settings.maxConcurrency, DISTRIBUTED_MAP_MAX_CONCURRENCY)
        : DISTRIBUTED_MAP_MAX_CONCURRENCY;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length && !this.aborted && !this.thresholdExceeded()) {
        const child = todo[next] as Child;
        next += 1;
        this.queued.delete(child);
        const execution = child.execution;
        if (execution.status === 'FAILED' || execution.status === 'ABORTED') await execution.redrive();
        else await execution.start();
        this.reportChild(child);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, todo.length) }, worker));
    // Children the threshold kept from starting stay as they were (never started: PENDING).
    this.queued.clear();
    if (this.aborted) {
      this.status = 'ABORTED';
      throw new MapRunError('States.Aborted', `Map Run ${this.arn} was aborted`);
    }
    return this.finish();
  }

  private reportChild(child: Child): void {
    const execution = child.execution;
    const outcome: ChildOutcome = {
      name: execution.name,
      status: execution.status,
      itemCount: child.itemCount,
      ...(execution.output !== undefined ? { output: execution.output } : {}),
      ...(execution.error !== undefined ? { error: execution.error, cause: execution.cause ?? '' } : {}),
      ...(execution.failedState ? { failedState: execution.failedState.name } : {}),
    };
    this.engine.emit({
      type: 'map-run-progress',
      executionArn: this.parent.arn,
      stateName: this.stateName,
      mapRunArn: this.arn,
      counts: this.counts(),
      child: outcome,
    });
  }

  private async finish(): Promise<Json> {
    const failed = this.thresholdExceeded();
    try {
      await this.writeResults();
    } catch (error) {
      // The results could not be written (States.ResultWriterFailed): a redrive writes them again.
      this.status = 'FAILED';
      throw error;
    }
    this.status = failed ? 'FAILED' : 'SUCCEEDED';
    const counts = this.counts();
    this.engine.emit({
      type: 'map-run-finished',
      executionArn: this.parent.arn,
      stateName: this.stateName,
      mapRunArn: this.arn,
      status: this.status,
      counts,
    });
    if (failed) {
      const first = this.children.find(({ execution }) => execution.status === 'FAILED')?.execution;
      const detail = first
        ? `; first failure: ${first.error ?? ''} at ${first.failedState?.name ?? '?'}`
        : '';
      throw new MapRunError(
        MAP_ERRORS.ExceedToleratedFailureThreshold,
        `The specified tolerated failure threshold was exceeded (${counts.itemsFailed} of ${counts.itemsTotal} items failed in ${this.arn}${detail})`,
      );
    }
    if (this.resultWriterDetails) {
      return { MapRunArn: this.arn, ResultWriterDetails: { ...this.resultWriterDetails } };
    }
    return this.children.map(({ execution }) =>
      execution.status === 'SUCCEEDED'
        ? cloneJson(execution.output ?? null)
        : { Error: execution.error ?? null, Cause: execution.cause ?? null },
    );
  }

  private async writeResults(): Promise<void> {
    const writer = this.settings.resultWriter;
    if (!writer) return;
    this.resultWriterDetails = await writeResults(
      this.engine.s3,
      {
        bucket: writer.bucket,
        prefix: writer.prefix,
        mapRunId: this.id,
        mapRunArn: this.arn,
        maxFileBytes: this.engine.resultWriterMaxFileBytes,
      },
      this.children.map(({ execution }) => ({
        executionArn: execution.arn,
        name: execution.name,
        stateMachineArn: execution.stateMachineArn,
        status: execution.status,
        input: execution.input,
        ...(execution.output !== undefined ? { output: execution.output } : {}),
        ...(execution.error !== undefined ? { error: execution.error } : {}),
        ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
        ...(execution.startDate ? { startDate: execution.startDate } : {}),
        ...(execution.stopDate ? { stopDate: execution.stopDate } : {}),
        redriveCount: execution.redriveCount,
      })),
    );
  }
}
