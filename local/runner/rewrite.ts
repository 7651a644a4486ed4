/**
 * Turns a validated definition into the one the interpreter executes locally. AWS semantics are kept
 * (transitions, retries, attempt counts, ordering); only what the interpreter cannot do faithfully is
 * replaced, each by a Task with a local handler of the same state name:
 *
 * - Distributed Map states (the interpreter would run them inline, ignore ItemBatcher, ResultWriter
 *   and tolerated failures, and throw on ItemReader) become Tasks the Distributed Map shim serves.
 * - Wait states become Tasks that sleep for the scaled duration (the interpreter's own overrides are
 *   one fixed number per state, which cannot scale `SecondsPath`).
 * - Retry intervals and MaxDelaySeconds are multiplied by the time scale, so backoff, jitter and
 *   MaxAttempts still apply (the interpreter's `retryIntervalOverrides` would flatten the backoff).
 * - Tasks without a timeout get a long one: the interpreter's default is 60 s, AWS has none.
 * - `$$.Execution.Input` / `$$.Execution.StartTime` read values the runner keeps, because the
 *   interpreter overwrites both on every run, and a redrive is a run that starts mid-definition.
 */
import {
  cloneJson,
  isDistributedMap,
  isJsonObject,
  type AslDefinition,
  type AslState,
  type Json,
} from './asl.ts';

/** Resource of the Tasks standing in for Distributed Maps (never sent anywhere: handlers are local). */
export const DISTRIBUTED_MAP_RESOURCE = 'arn:aws:states:::local:distributedMap';
export const SCALED_WAIT_RESOURCE = 'arn:aws:states:::local:wait';

/** Just under Node's timer limit (2^31 - 1 ms), which would otherwise fire after 1 ms. */
export const LOCAL_TASK_TIMEOUT_SECONDS = 2_000_000;

export const CONTEXT_INPUT_FIELD = 'LocalInput';
export const CONTEXT_START_TIME_FIELD = 'LocalStartTime';

export interface RewrittenDefinition {
  executable: AslDefinition;
  /** The original Distributed Map states (their ItemProcessor already rewritten), by state name. */
  distributedMaps: Record<string, AslState>;
  /** The original Wait states, by state name. */
  waits: Record<string, AslState>;
}

const KEPT_BY_TASK_STAND_IN = [
  'Comment',
  'InputPath',
  'ResultSelector',
  'ResultPath',
  'OutputPath',
  'Retry',
  'Catch',
];

function transitionFields(state: AslState): Partial<AslState> {
  return state.End === true ? { End: true } : { Next: state.Next };
}

function pick(state: AslState, fields: string[]): Record<string, Json> {
  const picked: Record<string, Json> = {};
  for (const field of fields) {
    const value = state[field];
    if (value !== undefined) picked[field] = value;
  }
  return picked;
}

function scaleRetriers(state: AslState, timeScale: number): void {
  if (!Array.isArray(state.Retry)) return;
  state.Retry = state.Retry.map((retrier) => {
    if (!isJsonObject(retrier)) return retrier;
    const scaled: Record<string, Json> = {
      ...retrier,
      IntervalSeconds: Number(retrier.IntervalSeconds ?? 1) * timeScale,
    };
    if (typeof retrier.MaxDelaySeconds === 'number')
      scaled.MaxDelaySeconds = retrier.MaxDelaySeconds * timeScale;
    return scaled;
  });
}

function redirectContextPaths(value: Json): Json {
  if (typeof value === 'string') {
    return value.replace(/\$\$\.Execution\.(Input|StartTime)(?![A-Za-z0-9_])/g, (_m, field: string) =>
      field === 'Input' ? `$$.Execution.${CONTEXT_INPUT_FIELD}` : `$$.Execution.${CONTEXT_START_TIME_FIELD}`,
    );
  }
  if (Array.isArray(value)) return value.map(redirectContextPaths);
  if (isJsonObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redirectContextPaths(v)]));
  }
  return value;
}

function rewriteStates(
  definition: AslDefinition,
  timeScale: number,
  result: RewrittenDefinition,
): AslDefinition {
  const states: Record<string, AslState> = {};
  for (const [name, original] of Object.entries(definition.States)) {
    const state = { ...original };
    if (isJsonObject(state.ItemProcessor)) {
      state.ItemProcessor = rewriteStates(
        state.ItemProcessor as unknown as AslDefinition,
        timeScale,
        result,
      ) as unknown as Json;
    }
    if (isJsonObject(state.Iterator)) {
      state.Iterator = rewriteStates(
        state.Iterator as unknown as AslDefinition,
        timeScale,
        result,
      ) as unknown as Json;
    }
    if (Array.isArray(state.Branches)) {
      state.Branches = state.Branches.map(
        (branch) => rewriteStates(branch as unknown as AslDefinition, timeScale, result) as unknown as Json,
      );
    }
    scaleRetriers(state, timeScale);
    if (isDistributedMap(state)) {
      result.distributedMaps[name] = state;
      states[name] = {
        Type: 'Task',
        Resource: DISTRIBUTED_MAP_RESOURCE,
        TimeoutSeconds: LOCAL_TASK_TIMEOUT_SECONDS,
        ...pick(state, KEPT_BY_TASK_STAND_IN),
        ...transitionFields(state),
      };
    } else if (state.Type === 'Wait') {
      result.waits[name] = state;
      states[name] = {
        Type: 'Task',
        Resource: SCALED_WAIT_RESOURCE,
        TimeoutSeconds: LOCAL_TASK_TIMEOUT_SECONDS,
        ...pick(state, ['Comment', 'InputPath', 'OutputPath']),
        ...transitionFields(state),
      };
    } else if (state.Type === 'Task') {
      if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
        state.TimeoutSeconds = LOCAL_TASK_TIMEOUT_SECONDS;
      }
      states[name] = state;
    } else {
      states[name] = state;
    }
  }
  return { ...definition, States: states };
}

export function rewriteForLocalRun(definition: AslDefinition, timeScale: number): RewrittenDefinition {
  const result: RewrittenDefinition = {
    executable: definition,
    distributedMaps: {},
    waits: {},
  };
  const redirected = redirectContextPaths(
    cloneJson(definition) as unknown as Json,
  ) as unknown as AslDefinition;
  result.executable = rewriteStates(redirected, timeScale, result);
  return result;
}
