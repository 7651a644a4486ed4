/**
 * Evaluates JSONPath payload templates and reference paths exactly as the interpreter does, by
 * running them through it: a one-state machine whose Pass state holds the template as `Parameters`.
 * The Distributed Map shim uses this for ItemSelector, BatchInput, ItemReader/ResultWriter
 * parameters and the `*Path` fields, so paths, `$$` context and intrinsic functions behave the same
 * as in the states the interpreter runs itself.
 */
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { Json, JsonObject } from './asl.ts';

/** The context object (`$$`): Execution, StateMachine, Map.Item while selecting items, … */
export type ContextObject = Record<string, unknown>;

function unwrap(error: unknown): unknown {
  return error instanceof ExecutionError ? error.cause : error;
}

export async function evaluateTemplate(
  template: JsonObject,
  input: Json,
  context: ContextObject,
): Promise<Json> {
  const machine = new StateMachine(
    { StartAt: 'Evaluate', States: { Evaluate: { Type: 'Pass', Parameters: template, End: true } } },
    { validationOptions: { noValidate: true } },
  );
  const execution = machine.run(input, { context });
  // Nobody reads this event log: close it so it does not keep the events alive.
  void execution.eventLogs.return(undefined);
  try {
    return await execution.result;
  } catch (error) {
    throw unwrap(error);
  }
}

/** The value at a reference path (`$.x`, `$$.Map.Item.Value`), or undefined when nothing is there. */
export async function evaluatePath(
  path: string,
  input: Json,
  context: ContextObject,
): Promise<Json | undefined> {
  try {
    const result = (await evaluateTemplate({ 'value.$': path }, input, context)) as JsonObject;
    return result.value;
  } catch (error) {
    if (
      error instanceof Error &&
      error.name === 'States.Runtime' &&
      /does not point to a value/.test(error.message)
    ) {
      return undefined;
    }
    throw error;
  }
}
