import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchInputSchema, PlanSliceEventSchema } from '../../core/contracts/contracts.ts';
import { CONTINUABLE_STEPS, LAMBDA_STEPS } from '../../core/steps.ts';
import { ERROR_NAMES } from '../../core/errors/error-names.ts';
import { synthesizeBackfillDefinition } from '../../local/synth/synth.ts';
import {
  MAX_CONTINUATIONS,
  LAMBDA_TOO_MANY_REQUESTS,
  MAX_REPLICATION_TIMEOUT_MINUTES,
  NEVER_RETRIED,
  pollAttemptsCovering,
} from '../../statemachine/retry-policies.ts';
import { DISTRIBUTED_MAP_STATES, STATE_NAMES } from '../../statemachine/state-names.ts';
import { allStates, stateOf, type AslDefinition, type AslRetrier, type AslState } from './asl.ts';

const require = createRequire(import.meta.url);
const aslValidator = require('asl-validator') as (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };

const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
];

let definition: AslDefinition;
let states: Map<string, AslState>;

beforeAll(() => {
  definition = synthesizeBackfillDefinition() as unknown as AslDefinition;
  states = allStates(definition);
});

const lambdaTasks = (): Array<[string, AslState]> =>
  [...states].filter(([, state]) => state.Type === 'Task' && state.Resource?.includes(':lambda:'));

const retrierFor = (state: AslState, error: string): AslRetrier | undefined =>
  state.Retry?.find((retrier) => retrier.ErrorEquals.includes(error));

describe('the synthesized workflow definition', () => {
  it('matches the reviewed ASL snapshot', async () => {
    // Prepare / Act: the definition synthesized once above, tokens resolved to fixed fake values.
    const rendered = `${JSON.stringify(definition, null, 2)}\n`;

    // Assess: any workflow change shows up as a diff of this file in review.
    await expect(rendered).toMatchFileSnapshot('./__snapshots__/backfill.asl.json');
  });

  it('is valid Amazon States Language', () => {
    // asl-validator mutates its input (adds QueryLanguage): validate a copy.
    const result = aslValidator(structuredClone(definition));

    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('names every Lambda Task exactly after a step of LAMBDA_STEPS, one function per step', () => {
    const tasks = lambdaTasks();

    expect(tasks.map(([name]) => name).sort()).toEqual(Object.keys(LAMBDA_STEPS).sort());
    expect(new Set(tasks.map(([, state]) => state.Resource)).size).toBe(tasks.length);
  });

  it('invokes functions directly (payloadResponseOnly), passing the whole state except for Plan', () => {
    for (const [name, state] of lambdaTasks()) {
      expect(state.Resource, name).toMatch(/^arn:aws:lambda:/);
      if (name !== STATE_NAMES.Plan) expect(state.Parameters, name).toBeUndefined();
    }
    expect(stateOf(definition, STATE_NAMES.Plan).Parameters).toEqual({
      'input.$': '$',
      'executionName.$': '$$.Execution.Name',
      'executionStartTime.$': '$$.Execution.StartTime',
    });
  });

  it('gives every Lambda Task the Lambda service retrier and the named retry policies', () => {
    for (const [name, state] of lambdaTasks()) {
      expect(retrierFor(state, 'Lambda.ServiceException')?.ErrorEquals, name).toEqual(LAMBDA_SERVICE_ERRORS);
      expect(retrierFor(state, ERROR_NAMES.Throttled), name).toEqual({
        ErrorEquals: [ERROR_NAMES.Throttled],
        IntervalSeconds: 2,
        BackoffRate: 2,
        MaxDelaySeconds: 60,
        MaxAttempts: 8,
        JitterStrategy: 'FULL',
      });
      expect(retrierFor(state, ERROR_NAMES.Transient), name).toEqual({
        ErrorEquals: [ERROR_NAMES.Transient],
        IntervalSeconds: 1,
        BackoffRate: 2,
        MaxDelaySeconds: 30,
        MaxAttempts: 6,
        JitterStrategy: 'FULL',
      });
      expect(retrierFor(state, LAMBDA_TOO_MANY_REQUESTS), name).toMatchObject({
        JitterStrategy: 'FULL',
        MaxDelaySeconds: expect.any(Number) as number,
      });
      expect(retrierFor(state, 'Lambda.Unknown'), name).toEqual({
        ErrorEquals: ['Lambda.Unknown', 'Sandbox.Timedout'],
        IntervalSeconds: 2,
        BackoffRate: 2,
        MaxDelaySeconds: 30,
        MaxAttempts: 3,
        JitterStrategy: 'FULL',
      });
    }
  });

  it('never retries or catches errors that retrying cannot fix', () => {
    for (const [name, state] of states) {
      const retried = (state.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals);
      for (const error of [...NEVER_RETRIED, 'States.ALL', 'States.TaskFailed']) {
        expect(retried, `${name} retries ${error}`).not.toContain(error);
      }
      // A failure must fail the execution (and a failed child the map), so it can be redriven.
      expect(state.Catch, name).toBeUndefined();
    }
  });

  it('polls replication through the Retry of CheckReplication only, covering the longest timeout', () => {
    const pollers = [...states].filter(([, state]) => retrierFor(state, ERROR_NAMES.ReplicationPending));
    const poll = retrierFor(
      stateOf(definition, STATE_NAMES.CheckReplication),
      ERROR_NAMES.ReplicationPending,
    );

    expect(pollers.map(([name]) => name)).toEqual([STATE_NAMES.CheckReplication]);
    expect(poll).toEqual({
      ErrorEquals: [ERROR_NAMES.ReplicationPending],
      IntervalSeconds: 15,
      BackoffRate: 1.5,
      MaxDelaySeconds: 120,
      MaxAttempts: pollAttemptsCovering(MAX_REPLICATION_TIMEOUT_MINUTES * 60),
    });
  });

  it('continues the paced steps through a WorkRemaining retrier of their own, apart from the error retries', () => {
    const continued = [...states].filter(([, state]) => retrierFor(state, ERROR_NAMES.WorkRemaining));

    expect(continued.map(([name]) => name).sort()).toEqual([...CONTINUABLE_STEPS].sort());
    for (const [name, state] of continued) {
      // Its own retrier (its own attempt count), re-entering at once, no back-off: nothing is wrong.
      expect(retrierFor(state, ERROR_NAMES.WorkRemaining), name).toEqual({
        ErrorEquals: [ERROR_NAMES.WorkRemaining],
        IntervalSeconds: 1,
        BackoffRate: 1,
        MaxAttempts: MAX_CONTINUATIONS,
      });
    }
  });

  it('runs the plan, fans out over slices, then routes dry runs and empty plans', () => {
    const isDryRun = stateOf(definition, STATE_NAMES.IsDryRun);

    expect(definition.StartAt).toBe(STATE_NAMES.Plan);
    expect(stateOf(definition, STATE_NAMES.Plan).Next).toBe(STATE_NAMES.PlanSlices);
    expect(stateOf(definition, STATE_NAMES.PlanSlices).Next).toBe(STATE_NAMES.FinalizePlan);
    expect(stateOf(definition, STATE_NAMES.FinalizePlan).Next).toBe(STATE_NAMES.IsDryRun);
    expect(isDryRun.Choices).toEqual([
      { Variable: '$.config.dryRun', BooleanEquals: true, Next: STATE_NAMES.DryRunSucceeded },
      { Variable: '$.items.count', NumericEquals: 0, Next: STATE_NAMES.Summarize },
    ]);
    expect(isDryRun.Default).toBe(STATE_NAMES.ChooseEngine);
    expect(stateOf(definition, STATE_NAMES.ChooseEngine)).toMatchObject({
      Choices: [
        { Variable: '$.plan.engine.method', StringEquals: 'native', Next: STATE_NAMES.NativeBackfills },
      ],
      Default: STATE_NAMES.BackfillImages,
    });
    expect(stateOf(definition, STATE_NAMES.DryRunSucceeded).Type).toBe('Succeed');
    expect(stateOf(definition, STATE_NAMES.BackfillImages).Next).toBe(STATE_NAMES.Summarize);
    expect(stateOf(definition, STATE_NAMES.Summarize).End).toBe(true);
  });
});

describe('the Distributed Map states', () => {
  it('run STANDARD children, are labelled after their state, and have no Retry or Catch', () => {
    for (const name of DISTRIBUTED_MAP_STATES) {
      const map = stateOf(definition, name);

      expect(map.Type).toBe('Map');
      expect(map.Label).toBe(name);
      expect(map.ItemProcessor?.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
      // A Retry on the map would rerun every child; redrive reruns only the failed ones.
      expect(map.Retry).toBeUndefined();
      expect(map.Catch).toBeUndefined();
    }
  });

  it('PlanSlices reads slices.jsonl and hands each child the run context and its slice', () => {
    const planSlices = stateOf(definition, STATE_NAMES.PlanSlices);

    expect(planSlices.ItemReader).toEqual({
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSONL' },
      Parameters: { Bucket: expect.any(String) as string, 'Key.$': '$.slices.key' },
    });
    expect(Object.keys(planSlices.ItemSelector as object).sort()).toEqual(
      Object.keys(PlanSliceEventSchema.shape)
        .map((key) => `${key}.$`)
        .sort(),
    );
    expect((planSlices.ItemSelector as Record<string, string>)['slice.$']).toBe('$$.Map.Item.Value');
    expect(planSlices.MaxConcurrency).toBe(5);
    expect(planSlices.ResultPath).toBeNull();
    expect(planSlices.ResultWriter).toEqual({
      Resource: 'arn:aws:states:::s3:putObject',
      Parameters: {
        Bucket: expect.any(String) as string,
        'Prefix.$': "States.Format('{}/plan-results', $.runPrefix)",
      },
    });
    expect(Object.keys(planSlices.ItemProcessor?.States ?? {})).toEqual([STATE_NAMES.PlanSlice]);
  });

  it('BackfillImages reads items.jsonl in batches carrying every BatchInput field', () => {
    const backfill = stateOf(definition, STATE_NAMES.BackfillImages);
    const batcher = backfill.ItemBatcher as { BatchInput: Record<string, string> } & Record<string, unknown>;

    expect(backfill.ItemReader).toMatchObject({
      ReaderConfig: { InputType: 'JSONL' },
      Parameters: { 'Key.$': '$.items.key' },
    });
    expect(batcher.MaxItemsPerBatchPath).toBe('$.config.batchSize');
    // The planner's bound for the run's items (core/contracts/payload-bounds.ts), not a constant.
    expect(batcher.MaxInputBytesPerBatchPath).toBe('$.items.maxInputBytesPerBatch');
    expect(batcher.MaxInputBytesPerBatch).toBeUndefined();
    expect(Object.keys(batcher.BatchInput).sort()).toEqual(
      Object.keys(BatchInputSchema.shape)
        .map((key) => `${key}.$`)
        .sort(),
    );
    expect(batcher.BatchInput['strategy.$']).toBe('$.config.strategy');
    expect(backfill.MaxConcurrencyPath).toBe('$.config.maxConcurrency');
    expect(backfill.ToleratedFailurePercentagePath).toBe('$.config.toleratedFailurePercentage');
    expect(backfill.ResultPath).toBe('$.backfill');
    expect(backfill.ResultWriter).toEqual({
      Resource: 'arn:aws:states:::s3:putObject',
      Parameters: {
        Bucket: expect.any(String) as string,
        'Prefix.$': "States.Format('{}/results', $.runPrefix)",
      },
    });
    expect(backfill.ItemProcessor?.StartAt).toBe(STATE_NAMES.PushTempTags);
  });

  it('waits for replication for the time the batch input asks', () => {
    expect(stateOf(definition, STATE_NAMES.WaitForReplication)).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.BatchInput.replicationWaitSeconds',
      Next: STATE_NAMES.CheckReplication,
    });
  });
});
