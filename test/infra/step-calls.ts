/**
 * What a step's code calls, read from its sources, in the terms of the step table's `calls`
 * (core/steps.ts): the ECR actions it reaches and whether it reaches the run bucket.
 *
 * - An ECR action is named by its SDK command or paginator, imported from `@aws-sdk/client-ecr`
 *   (`PutImageCommand`, `paginateDescribeImages` → `ecr:PutImage`, `ecr:DescribeImages`).
 * - The shared code (core/ and the step kit) is read once: each of its top-level functions, classes
 *   and constants needs the actions it names and, through the helpers it calls by name, theirs. A
 *   step that names a helper (`putManifest(`, `describeReplicationRules(`) needs what the helper needs.
 * - The run bucket is reached through the run store (`deps.runStore`, `ctx.runStore`); the other
 *   members of the step context are listed in CONTEXT_MEMBER_NEEDS, and a member missing from it
 *   fails the guard.
 * - A step's sources are its folder and, transitively, the step code it loads from other folders of
 *   functions/ (FinishBatch re-runs four steps inline; FinalizePlan chooses the engine). Not the
 *   Lambda plumbing, nor the batch step handler: the progress and continuation records it writes are
 *   granted from the table's `runsIn` and `continues`.
 *
 * Source text is parsed (TypeScript's parser), so names in comments and strings never count.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { StepCalls } from '../../core/steps.ts';
import { runtimeImports } from '../package/product-imports.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** An IAM action (`ecr:PutImage`), or the run bucket's data under `runs/`. */
export type Need = string;
export const RUN_BUCKET: Need = 'run bucket';

/**
 * Operations IAM authorizes as another action. ListImageReferrers: "The IAM principal invoking this
 * operation must have the ecr:BatchGetImage permission"
 * (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ListImageReferrers.html).
 */
const IAM_ACTION_OF: Readonly<Record<string, Need>> = { ListImageReferrers: 'ecr:BatchGetImage' };

/** What each member of the batch steps' StepContext (functions/step-kit/step-context.ts) reaches. */
export const CONTEXT_MEMBER_NEEDS: Readonly<Record<string, readonly Need[]>> = {
  step: [],
  batch: [],
  clock: [],
  logger: [],
  runStore: [RUN_BUCKET],
  // Handles: what a step does with one is named by the helper it hands the client to.
  source: [],
  destination: [],
  // The registry's replication rules, read once per invocation.
  replicationDestinations: ['ecr:DescribeRegistry'],
  // The batch's progress record: granted to every batch step (runsIn BackfillImages).
  progress: [],
  budget: [],
};

/** Shared files whose use is granted from the table otherwise, never by name. */
const KIT_GRANTED = new Set(['functions/step-kit/batch-step-handler.ts']);
/** Folders of functions/ that are not step code. */
const NOT_STEP_CODE = /^functions\/(lambda|step-kit)\//;

export interface SourceFile {
  /** Repository-relative. */
  path: string;
  text: string;
}

function parse(file: SourceFile): ts.SourceFile {
  return ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
}

/** Every identifier under `node` (names of calls, properties, shorthand members). */
function identifiersIn(node: ts.Node, into = new Set<string>()): Set<string> {
  if (ts.isIdentifier(node)) into.add(node.text);
  node.forEachChild((child) => void identifiersIn(child, into));
  return into;
}

/** The ECR actions a file names: its value imports of SDK commands and paginators, by local name. */
function ecrImports(source: ts.SourceFile): Map<string, Need> {
  const actions = new Map<string, Need>();
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    if (statement.moduleSpecifier.text !== '@aws-sdk/client-ecr') continue;
    const clause = statement.importClause;
    if (!clause || clause.isTypeOnly || !clause.namedBindings || !ts.isNamedImports(clause.namedBindings))
      continue;
    for (const element of clause.namedBindings.elements) {
      if (element.isTypeOnly) continue;
      const imported = (element.propertyName ?? element.name).text;
      const action = /^(\w+)Command$/.exec(imported)?.[1] ?? /^paginate(\w+)$/.exec(imported)?.[1];
      if (action) actions.set(element.name.text, IAM_ACTION_OF[action] ?? `ecr:${action}`);
    }
  }
  return actions;
}

/** What the names in `names` need directly: ECR commands of the file, the run store, context members. */
function directNeeds(names: ReadonlySet<string>, ecr: ReadonlyMap<string, Need>): Set<Need> {
  const needs = new Set<Need>();
  for (const name of names) {
    const action = ecr.get(name);
    if (action) needs.add(action);
    if (name === 'runStore') needs.add(RUN_BUCKET);
  }
  return needs;
}

/** The top-level declarations of a file that code elsewhere calls by name, with their bodies. */
function topLevelDeclarations(source: ts.SourceFile): Array<{ name: string; body: ts.Node }> {
  const declarations: Array<{ name: string; body: ts.Node }> = [];
  for (const statement of source.statements) {
    if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name) {
      declarations.push({ name: statement.name.text, body: statement });
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name) && declaration.initializer) {
          declarations.push({ name: declaration.name.text, body: declaration.initializer });
        }
      }
    }
  }
  return declarations;
}

function sourceFilesUnder(folder: string): SourceFile[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
    .map((path) => ({ path, text: readFileSync(join(ROOT, path), 'utf8') }));
}

export type HelperNeeds = ReadonlyMap<string, ReadonlySet<Need>>;

/**
 * What each helper of the shared code needs, by name: its own ECR commands and run store, and
 * (to a fixpoint) those of the helpers it names.
 */
export function sharedHelperNeeds(
  files: readonly SourceFile[] = [...sourceFilesUnder('core'), ...sourceFilesUnder('functions/step-kit')],
): HelperNeeds {
  const helpers = new Map<string, { needs: Set<Need>; names: Set<string> }>();
  for (const file of files.filter(({ path }) => !KIT_GRANTED.has(path))) {
    const source = parse(file);
    const ecr = ecrImports(source);
    for (const { name, body } of topLevelDeclarations(source)) {
      const names = identifiersIn(body);
      const entry = helpers.get(name) ?? { needs: new Set<Need>(), names: new Set<string>() };
      for (const need of directNeeds(names, ecr)) entry.needs.add(need);
      for (const called of names) if (called !== name) entry.names.add(called);
      helpers.set(name, entry);
    }
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const entry of helpers.values()) {
      for (const called of entry.names) {
        for (const need of helpers.get(called)?.needs ?? []) {
          if (!entry.needs.has(need)) {
            entry.needs.add(need);
            changed = true;
          }
        }
      }
    }
  }
  return new Map([...helpers].map(([name, { needs }]) => [name, needs]));
}

/**
 * A step's sources: the files of its folder, and those of step code in functions/ they load at run
 * time (type imports load nothing), transitively.
 */
export function stepSources(folder: string): SourceFile[] {
  const seen = new Set<string>();
  const queue = readdirSync(join(ROOT, 'functions', folder))
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join('functions', folder, name));
  const files: SourceFile[] = [];
  while (queue.length > 0) {
    const path = queue.pop();
    if (path === undefined || seen.has(path)) continue;
    seen.add(path);
    const text = readFileSync(join(ROOT, path), 'utf8');
    files.push({ path, text });
    for (const specifier of runtimeImports(text)) {
      if (!specifier.startsWith('.')) continue;
      const target = relative(ROOT, resolve(ROOT, dirname(path), specifier));
      if (target.startsWith('functions/') && !NOT_STEP_CODE.test(target)) queue.push(target);
    }
  }
  return files;
}

/** What a step's sources call, in the table's terms (its actions, and RUN_BUCKET). */
export function stepNeeds(files: readonly SourceFile[], helpers: HelperNeeds): Set<Need> {
  const needs = new Set<Need>();
  for (const file of files) {
    const source = parse(file);
    const names = identifiersIn(source);
    for (const need of directNeeds(names, ecrImports(source))) needs.add(need);
    for (const name of names) {
      for (const need of helpers.get(name) ?? []) needs.add(need);
      if (Object.hasOwn(CONTEXT_MEMBER_NEEDS, name))
        for (const need of CONTEXT_MEMBER_NEEDS[name]!) needs.add(need);
    }
  }
  return needs;
}

/** What a row of the table grants, in the same terms. */
export function declaredNeeds(calls: StepCalls): Set<Need> {
  return new Set<Need>([
    ...calls.sourceReads,
    ...calls.destinationReads,
    ...(calls.describeRegistry ? ['ecr:DescribeRegistry'] : []),
    ...(calls.readsDestinationRegistryPolicy ? ['ecr:GetRegistryPolicy'] : []),
    ...calls.sourceWrites,
    ...calls.destinationWrites,
    ...(calls.sourceLayerReads ?? []),
    ...(calls.nativeBackfill ?? []),
    ...(calls.runData.length > 0 ? [RUN_BUCKET] : []),
  ]);
}

/**
 * Where a step's row and its code disagree: a call its row does not grant (AccessDenied in AWS, where
 * a deployment would meet), or a grant its code never uses (least privilege). Whether a read is
 * made in the source or in destinations is the row's to say (test/workflow/least-privilege.test.ts
 * checks it by running the workflow); this reads which reads a step makes at all.
 */
export function grantProblems(step: string, calls: StepCalls, needs: ReadonlySet<Need>): string[] {
  const declared = declaredNeeds(calls);
  const problems = [...needs]
    .filter((need) => !declared.has(need))
    .map((need) => `${step} calls ${need}, which its row in core/steps.ts does not grant`);
  for (const grant of declared) {
    if (!needs.has(grant)) problems.push(`${step} is granted ${grant}, which its code never calls`);
  }
  return problems.sort();
}
