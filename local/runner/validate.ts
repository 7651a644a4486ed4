import aslValidator from 'asl-validator';
import { forEachState, isJsonObject, type AslDefinition } from './asl.ts';

export class InvalidDefinitionError extends Error {
  constructor(readonly problems: string) {
    super(`The state machine definition is invalid:\n${problems}`);
    this.name = 'InvalidDefinitionError';
  }
}

/** The definition uses something the local interpreter would silently get wrong. */
export class UnsupportedDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedDefinitionError';
  }
}

/**
 * Validates with asl-validator (the same checks the interpreter would run), on a copy: the validator
 * writes `QueryLanguage` into every state it visits.
 */
export function validateDefinition(definition: AslDefinition): void {
  const text = JSON.stringify(definition);
  let problems = validated.get(text);
  if (problems === undefined) {
    const result = aslValidator(JSON.parse(text), { checkPaths: true, checkArn: true });
    problems = result.isValid ? '' : result.errorsText('\n');
    validated.set(text, problems);
  }
  if (problems !== '') throw new InvalidDefinitionError(problems);
  rejectUnsupportedFeatures(definition);
}

/**
 * asl-validator compiles its JSON schemas on every call (~0.5 s): remember verdicts per definition,
 * since tests and redrive-heavy runs build many machines from the same one.
 */
const validated = new Map<string, string>();

/**
 * aws-local-stepfunctions ignores JSONata and fails on variables (docs/architecture.md §4): refuse both
 * rather than run something other than what AWS would.
 */
function rejectUnsupportedFeatures(definition: AslDefinition): void {
  if (definition.QueryLanguage === 'JSONata') {
    throw new UnsupportedDefinitionError('JSONata state machines cannot run locally; use JSONPath.');
  }
  forEachState(definition, (name, state) => {
    if (state.QueryLanguage === 'JSONata') {
      throw new UnsupportedDefinitionError(
        `State '${name}' uses JSONata, which the local interpreter ignores.`,
      );
    }
    if (state.Assign !== undefined) {
      throw new UnsupportedDefinitionError(
        `State '${name}' assigns workflow variables, which run locally cannot.`,
      );
    }
    if (isJsonObject(state.Arguments) || typeof state.Output === 'string') {
      throw new UnsupportedDefinitionError(`State '${name}' uses JSONata fields (Arguments/Output).`);
    }
  });
}
