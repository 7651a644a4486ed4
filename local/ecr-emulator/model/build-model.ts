/**
 * `npm run model -- <botocore ECR service-2.json> [source note]`: writes local/ecr-emulator/ecr-model.json,
 * ECR's API as AWS models it, for model-validator.ts.
 *
 * - Operations, structures, members, member types, required members and error names come from the
 *   installed @aws-sdk/client-ecr: its schemas (dist-es/schemas/schemas_0.js, Smithy static schemas:
 *   `[3, namespace, name, traits, memberNames, memberSchemas, requiredCount]`, required members first).
 * - The SDK's schemas carry no constraints; lengths, patterns and enums of the same members come from
 *   botocore's ECR service model (botocore/data/ecr/2015-09-21/service-2.json, github.com/boto/botocore,
 *   Apache-2.0), matched by structure and member name. Members botocore does not have yet (operations
 *   newer than the botocore given) keep the SDK's types without constraints.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EcrModel, MemberSpec, ShapeSpec } from './model-types.ts';

interface BotocoreShape {
  type: string;
  members?: Record<string, { shape: string }>;
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
}

type SchemaRef = number | (() => unknown) | unknown[];

const LIST_MODIFIER = 0b0100_0000;
const MAP_MODIFIER = 0b1000_0000;

function simpleType(code: number): MemberSpec {
  if (code === 0) return { type: 'string' };
  if (code === 1 || code === 0b0001_0001 || code === 0b0001_0011) return { type: 'number' };
  if (code === 2) return { type: 'boolean' };
  if (code >= 4 && code <= 7) return { type: 'timestamp' };
  if (code === 0b0001_0101 || code === 0b0010_1010) return { type: 'blob' };
  if (code === 0b0000_1111) return { type: 'document' };
  throw new Error(`unknown simple schema ${code}`);
}

function constraintsOf(shape: BotocoreShape | undefined): Record<string, unknown> {
  if (!shape) return {};
  return {
    ...(shape.min !== undefined ? { min: shape.min } : {}),
    ...(shape.max !== undefined ? { max: shape.max } : {}),
    ...(shape.pattern !== undefined ? { pattern: shape.pattern } : {}),
    ...(shape.enum !== undefined ? { enum: shape.enum } : {}),
  };
}

export async function buildModel(botocorePath: string, botocoreSource: string): Promise<EcrModel> {
  const require = createRequire(import.meta.url);
  const sdkRoot = dirname(require.resolve('@aws-sdk/client-ecr/package.json'));
  const sdkVersion = (JSON.parse(readFileSync(join(sdkRoot, 'package.json'), 'utf8')) as { version: string })
    .version;
  const schemas = (await import(pathToFileURL(join(sdkRoot, 'dist-es/schemas/schemas_0.js')).href)) as Record<
    string,
    unknown
  >;
  const botocore = JSON.parse(readFileSync(botocorePath, 'utf8')) as {
    shapes: Record<string, BotocoreShape>;
  };
  const bc = (name: string | undefined): BotocoreShape | undefined =>
    name === undefined ? undefined : botocore.shapes[name];

  const shapes: Record<string, ShapeSpec> = {};
  const errors: Record<string, string> = {};
  const operations: EcrModel['operations'] = {};

  const resolve = (ref: SchemaRef): unknown => (typeof ref === 'function' ? ref() : ref);

  /** A member's spec; `botocoreShape` is botocore's shape for the same member, for its constraints. */
  function memberSpec(ref: SchemaRef, botocoreShape: BotocoreShape | undefined): MemberSpec {
    const schema = resolve(ref);
    if (typeof schema === 'number') {
      if (schema & LIST_MODIFIER) {
        const member = simpleType(schema & ~LIST_MODIFIER);
        return {
          type: 'list',
          member: { ...member, ...constraintsOf(bc(botocoreShape?.member?.shape)) },
          ...constraintsOf(botocoreShape),
        };
      }
      if (schema & MAP_MODIFIER) {
        return {
          type: 'map',
          key: { type: 'string', ...constraintsOf(bc(botocoreShape?.key?.shape)) },
          value: { ...simpleType(schema & ~MAP_MODIFIER), ...constraintsOf(bc(botocoreShape?.value?.shape)) },
          ...constraintsOf(botocoreShape),
        };
      }
      return { ...simpleType(schema), ...constraintsOf(botocoreShape) };
    }
    if (Array.isArray(schema)) {
      // A member with its own traits: [schema, traits].
      if (schema.length === 2 && typeof schema[1] === 'object' && !Array.isArray(schema[0]))
        return memberSpec(schema[0] as SchemaRef, botocoreShape);
      return { ref: addShape(schema) };
    }
    throw new Error(`unexpected schema ${String(schema)}`);
  }

  function addShape(schema: unknown[]): string {
    const [kind, , name] = schema as [number, string, string];
    if (shapes[name] || errors[name]) return name;
    const own = bc(name);
    if (kind === 3 || kind === -3 || kind === 4) {
      const memberNames = schema[4] as string[];
      const memberRefs = schema[5] as SchemaRef[];
      const requiredCount = kind === 4 ? 0 : ((schema[6] as number | undefined) ?? 0);
      const spec: ShapeSpec =
        kind === 4
          ? { type: 'union', members: {} }
          : { type: 'structure', members: {}, required: memberNames.slice(0, requiredCount) };
      shapes[name] = spec;
      memberNames.forEach((member, index) => {
        spec.members[member] = memberSpec(memberRefs[index] as SchemaRef, bc(own?.members?.[member]?.shape));
      });
      if (kind === -3) errors[name] = name;
      return name;
    }
    if (kind === 1) {
      shapes[name] = { type: 'list', member: { type: 'string' } };
      shapes[name] = {
        type: 'list',
        member: memberSpec(schema[4] as SchemaRef, bc(own?.member?.shape)),
        ...constraintsOf(own),
      };
      return name;
    }
    if (kind === 2) {
      shapes[name] = { type: 'map', key: { type: 'string' }, value: { type: 'string' } };
      shapes[name] = {
        type: 'map',
        key: memberSpec(schema[4] as SchemaRef, bc(own?.key?.shape)),
        value: memberSpec(schema[5] as SchemaRef, bc(own?.value?.shape)),
        ...constraintsOf(own),
      };
      return name;
    }
    throw new Error(`unexpected schema kind ${kind} for ${name}`);
  }

  for (const [exported, value] of Object.entries(schemas)) {
    if (!exported.endsWith('$') || !Array.isArray(value)) continue;
    if (value[0] === 9) {
      const [, , name, , input, output] = value as [number, string, string, unknown, SchemaRef, SchemaRef];
      operations[name] = {
        input: addShape(resolve(input) as unknown[]),
        output: addShape(resolve(output) as unknown[]),
      };
    } else if (value[0] === -3) {
      addShape(value);
    }
  }
  const sorted = <T>(record: Record<string, T>): Record<string, T> =>
    Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
  return {
    source: {
      structure: `@aws-sdk/client-ecr ${sdkVersion} (dist-es/schemas/schemas_0.js)`,
      constraints: botocoreSource,
    },
    operations: sorted(operations),
    errors: sorted(errors),
    shapes: sorted(shapes),
  };
}

export const MODEL_FILE = fileURLToPath(new URL('../ecr-model.json', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [botocorePath, source] = process.argv.slice(2);
  if (!botocorePath) {
    process.stderr.write(
      'usage: npm run model -- <botocore/data/ecr/2015-09-21/service-2.json> ["github.com/boto/botocore@<commit>"]\n',
    );
    process.exit(2);
  }
  const model = await buildModel(botocorePath, `botocore ECR service-2.json, ${source ?? botocorePath}`);
  writeFileSync(MODEL_FILE, `${JSON.stringify(model, null, 1)}\n`);
  process.stdout.write(
    `wrote ${MODEL_FILE}: ${Object.keys(model.operations).length} operations, ${Object.keys(model.shapes).length} shapes\n`,
  );
}
