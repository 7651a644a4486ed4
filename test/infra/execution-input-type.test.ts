/**
 * What an editor shows on the construct's input props: `defaultInput` and `startOnDeploy.input` are
 * the ExecutionInput interface, every field carrying its schema description as TSDoc (read here
 * through the TypeScript compiler, as an editor's language service reads it).
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { executionInputJsonSchema } from '../../core/contracts/input-schema.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let compiled: ts.Program | undefined;
/** The package entry's program, built once (a type checker over the sources takes seconds). */
function packageProgram(): ts.Program {
  if (compiled) return compiled;
  const config = ts.getParsedCommandLineOfConfigFile(
    `${ROOT}tsconfig.json`,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error('tsconfig.json not read');
  compiled = ts.createProgram([`${ROOT}infra/index.ts`], config.options);
  return compiled;
}

/** Each property of `props.<path>`'s type, with its documentation comment, in the compiled sources. */
function documentedFields(path: readonly string[]): Map<string, string> {
  const program = packageProgram();
  const checker = program.getTypeChecker();
  const entry = program.getSourceFile(`${ROOT}infra/index.ts`);
  const module = entry && checker.getSymbolAtLocation(entry);
  const propsSymbol =
    module && checker.getExportsOfModule(module).find((s) => s.name === 'EcrReplicationBackfillProps');
  if (!propsSymbol) throw new Error('EcrReplicationBackfillProps is not exported by the package entry');
  let type = checker.getDeclaredTypeOfSymbol(checker.getAliasedSymbol(propsSymbol));
  for (const name of path) {
    const property = type.getProperty(name);
    if (!property) throw new Error(`no property ${name}`);
    type = checker.getNonNullableType(checker.getTypeOfSymbol(property));
  }
  return new Map(
    type
      .getProperties()
      .map((property) => [
        property.name,
        ts.displayPartsToString(property.getDocumentationComment(checker)).replace(/\s+/g, ' '),
      ]),
  );
}

const descriptions = Object.entries(
  (executionInputJsonSchema() as { properties: Record<string, { description?: string }> }).properties,
);

describe('the documented input type of the construct props', () => {
  it.each([[['defaultInput']], [['startOnDeploy', 'input']]])(
    'props.%s has every input field, each documented with its schema description',
    (path) => {
      const fields = documentedFields(path);

      expect([...fields.keys()].sort()).toEqual(descriptions.map(([name]) => name).sort());
      for (const [name, { description }] of descriptions) {
        expect(description, name).toBeTruthy();
        expect(fields.get(name), name).toContain(description!.replace(/\s+/g, ' '));
      }
    },
    120_000,
  );
});
