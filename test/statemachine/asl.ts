/**
 * Small helpers to read a rendered ASL definition in tests.
 */
export interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Array<Record<string, unknown> & { Next: string }>;
  Retry?: AslRetrier[];
  Catch?: unknown[];
  Resource?: string;
  Parameters?: Record<string, unknown>;
  ItemProcessor?: AslDefinition & { ProcessorConfig?: Record<string, unknown> };
  [field: string]: unknown;
}

export interface AslRetrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
}

/** Every state of the definition, including those of Map item processors, by name. */
export function allStates(definition: AslDefinition): Map<string, AslState> {
  const states = new Map<string, AslState>();
  const visit = (graph: AslDefinition): void => {
    for (const [name, state] of Object.entries(graph.States)) {
      if (states.has(name)) throw new Error(`Duplicate state name ${name}`);
      states.set(name, state);
      if (state.ItemProcessor) visit(state.ItemProcessor);
    }
  };
  visit(definition);
  return states;
}

export function stateOf(definition: AslDefinition, name: string): AslState {
  const state = allStates(definition).get(name);
  if (!state) throw new Error(`No state ${name}`);
  return state;
}
