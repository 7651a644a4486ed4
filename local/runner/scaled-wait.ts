/**
 * Wait states, compressed: the duration AWS would wait (Seconds, SecondsPath, Timestamp,
 * TimestampPath, evaluated as the interpreter does) multiplied by the time scale. The order of
 * events is unchanged; only the clock runs faster.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AslState, Json } from './asl.ts';
import { evaluatePath, type ContextObject } from './evaluate.ts';
import { TaskError } from './lambda/lambda-task.ts';

class WaitRuntimeError extends TaskError {
  readonly isRetryable = false;
  readonly isCatchable = false;
}

async function waitSeconds(state: AslState, input: Json, context: ContextObject): Promise<number> {
  if (typeof state.Seconds === 'number') return state.Seconds;
  if (typeof state.Timestamp === 'string') return (Date.parse(state.Timestamp) - Date.now()) / 1000;
  if (typeof state.SecondsPath === 'string') {
    const seconds = await evaluatePath(state.SecondsPath, input, context);
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
      throw new WaitRuntimeError(
        'States.Runtime',
        `SecondsPath '${state.SecondsPath}' evaluated to ${JSON.stringify(seconds)}, but expected an integer >= 0`,
      );
    }
    return seconds;
  }
  if (typeof state.TimestampPath === 'string') {
    const timestamp = await evaluatePath(state.TimestampPath, input, context);
    const at = typeof timestamp === 'string' ? Date.parse(timestamp) : NaN;
    if (Number.isNaN(at)) {
      throw new WaitRuntimeError(
        'States.Runtime',
        `TimestampPath '${state.TimestampPath}' is not a timestamp`,
      );
    }
    return (at - Date.now()) / 1000;
  }
  return 0;
}

export function scaledWaitHandler(
  state: AslState,
  timeScale: number,
  context: () => ContextObject,
): (input: Json) => Promise<Json> {
  return async (input) => {
    const seconds = await waitSeconds(state, input, context());
    const ms = Math.max(0, seconds * 1000 * timeScale);
    await sleep(ms);
    return input;
  };
}
