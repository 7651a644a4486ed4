/**
 * Amazon States Language, as plain JSON: just enough typing to walk and rewrite a definition.
 * https://states-language.net/spec.html
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** One state. Fields are read by name; unknown ones are carried along untouched. */
export interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Resource?: string;
  [field: string]: Json | undefined;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  Comment?: string;
  TimeoutSeconds?: number;
  QueryLanguage?: string;
  [field: string]: unknown;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep copy through JSON, as Step Functions serializes every payload between states. */
export function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value ?? null)) as T;
}

/** The nested state machines of a state: a Map's ItemProcessor/Iterator, a Parallel's Branches. */
export function childDefinitions(state: AslState): AslDefinition[] {
  const nested: AslDefinition[] = [];
  for (const field of ['ItemProcessor', 'Iterator'] as const) {
    const value = state[field];
    if (isJsonObject(value)) nested.push(value as unknown as AslDefinition);
  }
  const branches = state.Branches;
  if (Array.isArray(branches)) {
    for (const branch of branches) if (isJsonObject(branch)) nested.push(branch as unknown as AslDefinition);
  }
  return nested;
}

/** Visits every state of a definition, nested ones included (names are unique machine-wide). */
export function forEachState(
  definition: AslDefinition,
  visit: (name: string, state: AslState, owner: AslDefinition) => void,
): void {
  for (const [name, state] of Object.entries(definition.States)) {
    visit(name, state, definition);
    for (const nested of childDefinitions(state)) forEachState(nested, visit);
  }
}

/**
 * The Lambda function a Task invokes: `Parameters.FunctionName` for `arn:aws:states:::lambda:invoke`,
 * else the `Resource` itself (a function ARN). Undefined for other Tasks.
 */
export function taskFunctionArn(state: AslState): string | undefined {
  if (state.Type !== 'Task') return undefined;
  const parameters = state.Parameters;
  const functionName = isJsonObject(parameters) ? parameters.FunctionName : undefined;
  const arn = typeof functionName === 'string' ? functionName : state.Resource;
  return typeof arn === 'string' && arn.includes(':lambda:') ? arn : undefined;
}

/** `ProcessorConfig.Mode: DISTRIBUTED`: what CDK's `DistributedMap` renders. */
export function isDistributedMap(state: AslState): boolean {
  if (state.Type !== 'Map') return false;
  const processor = state.ItemProcessor;
  if (!isJsonObject(processor)) return false;
  const config = processor.ProcessorConfig;
  return isJsonObject(config) && config.Mode === 'DISTRIBUTED';
}

/** A value as text: strings as they are, other scalars as written, objects as JSON. */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${value}`;
  return JSON.stringify(value) ?? '';
}
