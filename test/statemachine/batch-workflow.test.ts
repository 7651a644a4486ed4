/**
 * Executes the synthesized child workflow of BackfillImages (one batch) with an ASL interpreter and
 * recording handlers: the order of steps, the strategy branches and the retry behaviour are those of
 * the rendered definition, not of a model of it.
 */
import { StateMachine } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BatchState, Strategy } from '../../core/contracts/contracts.ts';
import type { LambdaStepName } from '../../core/steps.ts';
import { ERROR_NAMES } from '../../core/errors/error-names.ts';
import { synthesizeBackfillDefinition } from '../../local/synth/synth.ts';
import { STATE_NAMES } from '../../statemachine/state-names.ts';
import { stateOf, type AslDefinition } from './asl.ts';

type StepBehaviour = (call: number) => void;
/** The part of the interpreter's event log these tests read (its EventLog type is not exported). */
interface RunEvent {
  type: string;
  state?: { name: string };
}

let batchWorkflow: AslDefinition;

beforeAll(() => {
  const definition = synthesizeBackfillDefinition() as unknown as AslDefinition;
  const processor = stateOf(definition, STATE_NAMES.BackfillImages).ItemProcessor;
  if (!processor) throw new Error('BackfillImages has no ItemProcessor');
  batchWorkflow = { StartAt: processor.StartAt, States: processor.States };
});

function batch(strategy: Strategy): BatchState {
  return {
    BatchInput: {
      runId: 'run-1',
      bucket: 'bucket',
      runPrefix: 'runs/run-1',
      sourceRegion: 'us-east-1',
      sourceRegistryId: '123456789012',
      strategy,
      tempTagPrefix: 'ecr-backfill-',
      overwriteConflicts: false,
      includeUntagged: false,
      replicationTimeoutMinutes: 30,
      replicationWaitSeconds: 60,
    },
    Items: [],
  };
}

function namedError(name: string): Error {
  const error = new Error(`${name} raised by the test handler`);
  error.name = name;
  return error;
}

/** Runs one batch; every Task records its call and applies the behaviour given for its step. */
async function runBatch(input: BatchState, behaviours: Partial<Record<LambdaStepName, StepBehaviour>> = {}) {
  const calls: string[] = [];
  const counts = new Map<string, number>();
  const handler = (step: string) => (event: unknown) => {
    const call = (counts.get(step) ?? 0) + 1;
    counts.set(step, call);
    calls.push(step);
    behaviours[step as LambdaStepName]?.(call);
    return event as never;
  };
  const taskNames = Object.entries(batchWorkflow.States)
    .filter(([, state]) => state.Type === 'Task')
    .map(([name]) => name);
  const execution = new StateMachine(batchWorkflow as never).run(input, {
    overrides: {
      taskResourceLocalHandlers: Object.fromEntries(taskNames.map((name) => [name, handler(name)])),
      waitTimeOverrides: { [STATE_NAMES.WaitForReplication]: 0 },
      retryIntervalOverrides: Object.fromEntries(taskNames.map((name) => [name, 0])),
    },
  });
  const events: RunEvent[] = [];
  const collecting = (async () => {
    for await (const event of execution.eventLogs) events.push(event);
  })();
  const outcome = await execution.result.then(
    (output) => ({ output, error: undefined }),
    (error: unknown) => ({ output: undefined, error: error as Error }),
  );
  await collecting;
  const entered = events.filter((event) => event.type === 'StateEntered').map((event) => event.state?.name);
  return { calls, entered, ...outcome };
}

describe('one batch of BackfillImages', () => {
  it('promote: pushes, waits, checks, promotes, verifies, cleans up, finishes, in that order', async () => {
    const { calls, entered, error } = await runBatch(batch('promote'));

    expect(error).toBeUndefined();
    expect(calls).toEqual([
      STATE_NAMES.PushTempTags,
      STATE_NAMES.CheckReplication,
      STATE_NAMES.PromoteTags,
      STATE_NAMES.VerifyDigests,
      STATE_NAMES.CleanupTempTags,
      STATE_NAMES.FinishBatch,
    ]);
    expect(entered).toContain(STATE_NAMES.WaitForReplication);
    expect(entered.indexOf(STATE_NAMES.WaitForReplication)).toBeLessThan(
      entered.indexOf(STATE_NAMES.CheckReplication),
    );
  });

  it('retag-source: retags the source tags; PromoteTags passes through (no Choice state to pay for)', async () => {
    const { calls, error } = await runBatch(batch('retag-source'));

    expect(error).toBeUndefined();
    expect(calls).toEqual([
      STATE_NAMES.PushTempTags,
      STATE_NAMES.RetagSourceTags,
      STATE_NAMES.CheckReplication,
      STATE_NAMES.PromoteTags,
      STATE_NAMES.VerifyDigests,
      STATE_NAMES.CleanupTempTags,
      STATE_NAMES.FinishBatch,
    ]);
  });

  it('polls CheckReplication while it throws ReplicationPending, then carries on', async () => {
    const { calls, error } = await runBatch(batch('promote'), {
      CheckReplication: (call) => {
        if (call <= 3) throw namedError(ERROR_NAMES.ReplicationPending);
      },
    });

    expect(error).toBeUndefined();
    expect(calls.filter((step) => step === STATE_NAMES.CheckReplication)).toHaveLength(4);
    expect(calls.at(-1)).toBe(STATE_NAMES.FinishBatch);
  });

  it('retries a throttled or transient step and does not redo the steps before it', async () => {
    const { calls, error } = await runBatch(batch('promote'), {
      PromoteTags: (call) => {
        if (call === 1) throw namedError(ERROR_NAMES.Throttled);
        if (call === 2) throw namedError(ERROR_NAMES.Transient);
      },
    });

    expect(error).toBeUndefined();
    expect(calls.filter((step) => step === STATE_NAMES.PromoteTags)).toHaveLength(3);
    expect(calls.filter((step) => step === STATE_NAMES.PushTempTags)).toHaveLength(1);
  });

  it('re-runs a step whose invocation crashed or timed out, and fails the batch once the bound is spent', async () => {
    const recovered = await runBatch(batch('promote'), {
      CleanupTempTags: (call) => {
        if (call === 1) throw namedError('Lambda.Unknown');
        if (call === 2) throw namedError('Sandbox.Timedout');
      },
    });
    const exhausted = await runBatch(batch('promote'), {
      VerifyDigests: () => {
        throw namedError('Lambda.Unknown');
      },
    });

    expect(recovered.error).toBeUndefined();
    expect(recovered.calls.filter((step) => step === STATE_NAMES.CleanupTempTags)).toHaveLength(3);
    expect(recovered.calls.filter((step) => step === STATE_NAMES.PromoteTags)).toHaveLength(1);
    expect(String(exhausted.error)).toContain('Lambda.Unknown');
    // One attempt plus the three retries of LAMBDA_CRASHED_RETRY, then the child fails (redrivable).
    expect(exhausted.calls.filter((step) => step === STATE_NAMES.VerifyDigests)).toHaveLength(4);
  });

  it.each([
    [STATE_NAMES.FinishBatch, ERROR_NAMES.ItemsFailed],
    [STATE_NAMES.PromoteTags, ERROR_NAMES.AccessDenied],
    [STATE_NAMES.PushTempTags, ERROR_NAMES.InvalidInput],
  ] as const)('fails the batch at once when %s throws %s (never retried)', async (step, errorName) => {
    const { calls, error } = await runBatch(batch('promote'), {
      [step]: () => {
        throw namedError(errorName);
      },
    });

    expect(error).toBeDefined();
    expect(String(error)).toContain(errorName);
    expect(calls.filter((called) => called === step)).toHaveLength(1);
    expect(calls.at(-1)).toBe(step);
  });
});
