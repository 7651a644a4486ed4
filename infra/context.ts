/**
 * Reads the app's options from CDK context (`cdk.json` or `-c key=value`), with explicit errors.
 *
 * `-c` values arrive as strings, `cdk.json` values as JSON: every parser accepts both. The
 * construct's props are declared for context once, in PROP_CONTEXT: one entry per prop, with its
 * context key, meaning and parser. Everything else here (the key list, the descriptions in errors,
 * `backfillPropsFromContext`) derives from it.
 */
import { Duration, type Environment } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { METHODS, STRATEGIES, type Method, type Strategy } from '../core/contracts/contracts.ts';
import { DEFAULT_RUN_POLICY } from '../core/contracts/run-policy.ts';
import { closestMatch } from '../core/contracts/patterns.ts';
import { DEFAULT_STACK_NAME } from '../core/deployment.ts';
import { DEFAULT_PLAN_SLICE_CONCURRENCY } from '../statemachine/definition.ts';
import {
  DEFAULT_ACCOUNT_CONCURRENCY_LIMIT,
  DEFAULT_BATCH_STEP_RESERVED_CONCURRENCY,
  DEFAULT_CONCURRENT_PUSHERS,
  DEFAULT_PUT_IMAGE_RATE_PER_SECOND,
  DEFAULT_RUN_DATA_EXPIRATION_DAYS,
  type EcrReplicationBackfillProps,
  type ManagedReplication,
  type StartOnDeploy,
} from './backfill-construct.ts';

// ---------------------------------------------------------------------------------------------
// Value parsers: each takes a set value (a `-c` string or cdk.json JSON) and throws ValueProblem
// ---------------------------------------------------------------------------------------------

/** What is wrong with a context value; the reader names the key. */
class ValueProblem extends Error {}

type Parser<T> = (value: unknown) => T;

const string: Parser<string> = (value) => {
  if (typeof value !== 'string') throw new ValueProblem('expected a string');
  return value;
};

const number: Parser<number> = (value) => {
  const parsed = typeof value === 'string' ? Number(value) : value;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed)) throw new ValueProblem('expected a number');
  return parsed;
};

const boolean: Parser<boolean> = (value) => {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ValueProblem('expected true or false');
};

function json(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new ValueProblem('expected valid JSON');
  }
}

const object: Parser<Record<string, unknown>> = (raw) => {
  const value = typeof raw === 'string' ? json(raw) : raw;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValueProblem('expected a JSON object');
  }
  return value as Record<string, unknown>;
};

const list: Parser<string[]> = (raw) => {
  const value =
    typeof raw === 'string'
      ? raw.trim().startsWith('[')
        ? json(raw)
        : raw.split(',').map((item) => item.trim())
      : raw;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
    throw new ValueProblem('expected a comma-separated list or a JSON array of strings');
  }
  return value as string[];
};

const strategies: Parser<Strategy[]> = (raw) => {
  const values = list(raw);
  const unknown = values.filter((value) => !(STRATEGIES as readonly string[]).includes(value));
  if (unknown.length > 0) {
    throw new ValueProblem(`expected strategies among ${STRATEGIES.join(', ')} (got ${unknown.join(', ')})`);
  }
  return values as Strategy[];
};

const methods: Parser<Method[]> = (raw) => {
  const values = list(raw);
  const unknown = values.filter((value) => !(METHODS as readonly string[]).includes(value));
  if (unknown.length > 0) {
    throw new ValueProblem(`expected methods among ${METHODS.join(', ')} (got ${unknown.join(', ')})`);
  }
  return values as Method[];
};

const startOnDeploy: Parser<StartOnDeploy | undefined> = (raw) => {
  if (raw === false || raw === 'false') return undefined;
  if (raw === true || raw === 'true') return {};
  // Checked field by field when the construct is synthesized (infra/deployer-inputs.ts).
  return { input: object(raw) };
};

const logRetention: Parser<logs.RetentionDays> = (raw) => {
  const days = number(raw);
  const allowed = Object.values(logs.RetentionDays).filter(
    (value): value is number => typeof value === 'number',
  );
  if (!allowed.includes(days)) throw new ValueProblem(`expected one of ${allowed.join(', ')}`);
  return days;
};

// ---------------------------------------------------------------------------------------------
// The construct's props, declared once for context
// ---------------------------------------------------------------------------------------------

type Props = EcrReplicationBackfillProps;
type PropName = keyof Props;

/** How one construct prop is set from context. */
interface ContextProp<K extends PropName> {
  /** The context key, only where it is not the prop's name (the context speaks in days). */
  readonly key?: string;
  /** What the key means, shown in errors. */
  readonly description: string;
  /** The prop from a set context value; throws ValueProblem. */
  readonly parse: Parser<Props[K]>;
}

/** A prop that code sets, never context, and why. */
interface CodeOnly {
  readonly codeOnly: string;
}

/**
 * One entry per prop of EcrReplicationBackfillProps, keyed by the prop: `satisfies` makes a prop
 * added without an entry a type error, and an entry for no prop one too. The order is the order of
 * CONTEXT_KEYS.
 */
export const PROP_CONTEXT = {
  sourceRegion: {
    description: 'Region whose images are backfilled (default: the stack Region)',
    parse: string,
  },
  defaultInput: {
    description: 'JSON execution input merged under every execution input',
    // Checked field by field when the construct is synthesized (infra/deployer-inputs.ts).
    parse: object,
  },
  startOnDeploy: {
    description: 'true, or a JSON execution input: start one execution after deployment',
    parse: startOnDeploy,
  },
  destinationRoleArns: {
    description: 'roles (comma-separated or JSON array) the functions may assume for other accounts',
    parse: list,
  },
  directAccounts: {
    description:
      'other accounts (comma-separated or JSON array) whose registries the functions reach without a role',
    parse: list,
  },
  destinationRegions: {
    description: 'destination Regions (comma-separated or JSON array) to scope ECR permissions',
    parse: list,
  },
  repositoryPrefixes: {
    description: 'repository name prefixes (comma-separated or JSON array) the functions may write to',
    parse: list,
  },
  logRetention: {
    key: 'logRetentionDays' as const,
    description: 'log retention in days (a CloudWatch Logs retention value)',
    parse: logRetention,
  },
  replication: {
    description: 'JSON ManagedReplication: manage the registry replication configuration (replaces it!)',
    parse: (value) => object(value) as unknown as ManagedReplication,
  },
  putImageRatePerSecond: {
    description: `PutImage quota per Region and second (default ${DEFAULT_PUT_IMAGE_RATE_PER_SECOND})`,
    parse: number,
  },
  concurrentPushers: {
    description: `invocations that may push at once (default ${DEFAULT_CONCURRENT_PUSHERS})`,
    parse: number,
  },
  planSliceConcurrency: {
    description: `PlanSlice children at once (default ${DEFAULT_PLAN_SLICE_CONCURRENCY})`,
    parse: number,
  },
  runDataExpiration: {
    key: 'runDataExpirationDays' as const,
    description: `days to keep run data (default ${DEFAULT_RUN_DATA_EXPIRATION_DAYS})`,
    parse: (value) => Duration.days(number(value)),
  },
  stateMachineLogLevel: { codeOnly: 'a CDK enum; the construct logs everything (ALL) unless code says less' },
  allowedStrategies: {
    description: `run policy: strategies an execution may choose (comma-separated or JSON array; default ${DEFAULT_RUN_POLICY.allowedStrategies.join(', ')})`,
    parse: strategies,
  },
  allowOverwriteConflicts: {
    description: `run policy: true to let executions set overwriteConflicts (default ${String(DEFAULT_RUN_POLICY.allowOverwriteConflicts)})`,
    parse: boolean,
  },
  repositoryScope: {
    description:
      'run policy: repository patterns executions are limited to (default: repositoryPrefixes, or all)',
    parse: list,
  },
  maxConcurrencyLimit: {
    description: `run policy: the largest maxConcurrency an execution may ask for (default ${DEFAULT_RUN_POLICY.maxConcurrencyLimit} at the default PutImage quota)`,
    parse: number,
  },
  allowedMethods: {
    description: `run policy: engines an execution may choose (comma-separated or JSON array; default ${DEFAULT_RUN_POLICY.allowedMethods.join(', ')})`,
    parse: methods,
  },
  allowIncludeUntagged: {
    description: `run policy: true to let executions set includeUntagged (default ${String(DEFAULT_RUN_POLICY.allowIncludeUntagged)})`,
    parse: boolean,
  },
  allowIncludeArchived: {
    description: `run policy: true to let executions set includeArchived (default ${String(DEFAULT_RUN_POLICY.allowIncludeArchived)})`,
    parse: boolean,
  },
  maxReplicationTimeoutMinutes: {
    description: `run policy: the largest replicationTimeoutMinutes an execution may ask for (default ${DEFAULT_RUN_POLICY.maxReplicationTimeoutMinutes})`,
    parse: number,
  },
  batchStepReservedConcurrency: {
    description: `reserved concurrency of the reading batch steps (default ${DEFAULT_BATCH_STEP_RESERVED_CONCURRENCY})`,
    parse: number,
  },
  accountConcurrencyLimit: {
    description: `the account Lambda concurrency quota, to check reserved concurrency (default ${DEFAULT_ACCOUNT_CONCURRENCY_LIMIT})`,
    parse: number,
  },
} satisfies { readonly [K in PropName]-?: ContextProp<K> | CodeOnly };

/** The context keys that are the app's own, not the construct's. */
const APP_CONTEXT = {
  stackName: `stack name (default ${DEFAULT_STACK_NAME})`,
  account: 'account to deploy to (with region; default: environment-agnostic)',
  region: 'Region to deploy to (with account)',
} as const;

type PropEntry = (typeof PROP_CONTEXT)[PropName];
/** The context key of each context-settable prop. */
type PropContextKey = {
  [K in PropName]: (typeof PROP_CONTEXT)[K] extends { readonly key: infer Key extends string }
    ? Key
    : (typeof PROP_CONTEXT)[K] extends CodeOnly
      ? never
      : K;
}[PropName];
export type ContextKey = keyof typeof APP_CONTEXT | PropContextKey;

/** The props context can set, each with its context key. */
const SETTABLE_PROPS: readonly { prop: PropName; key: PropContextKey; entry: ContextProp<PropName> }[] = (
  Object.entries(PROP_CONTEXT) as [PropName, PropEntry][]
).flatMap(([prop, entry]) =>
  'codeOnly' in entry ? [] : [{ prop, key: ('key' in entry ? entry.key : prop) as PropContextKey, entry }],
);

/** Every context key this app reads, with what it means (shown in errors and docs). */
export const CONTEXT_KEYS: Readonly<Record<ContextKey, string>> = {
  ...APP_CONTEXT,
  ...(Object.fromEntries(SETTABLE_PROPS.map(({ key, entry }) => [key, entry.description])) as Record<
    PropContextKey,
    string
  >),
};

const contextProblem = (key: ContextKey, problem: string): string =>
  `Context "${key}" (${CONTEXT_KEYS[key]}): ${problem}`;

/** Context values count as not set when absent or empty (`-c key=`). */
const isSet = (value: unknown): boolean => value !== undefined && value !== '';

/**
 * The construct's props from CDK context values (`-c` strings, or cdk.json JSON), by PROP_CONTEXT,
 * with every problem named by its key. Keys that set no prop (the app's own, CDK's feature flags)
 * are not read here.
 */
export function backfillPropsFromContext(context: Readonly<Record<string, unknown>>): {
  props: EcrReplicationBackfillProps;
  problems: string[];
} {
  const props: Partial<Record<PropName, unknown>> = {};
  const problems: string[] = [];
  for (const { prop, key, entry } of SETTABLE_PROPS) {
    const raw = context[key];
    if (!isSet(raw)) continue;
    try {
      const value = entry.parse(raw);
      if (value !== undefined) props[prop] = value;
    } catch (error) {
      if (!(error instanceof ValueProblem)) throw error;
      problems.push(contextProblem(key, error.message));
    }
  }
  // Each value is its entry's parse result, typed by PROP_CONTEXT's `satisfies`.
  return { props: props as EcrReplicationBackfillProps, problems };
}

/**
 * A context key in this app's own style (camelCase, like every key of CONTEXT_KEYS). CDK's own keys
 * have a colon (feature flags `@aws-cdk/...:flag`, `aws:cdk:...` settings, lookup caches) or are
 * kebab/snake case (`acknowledged-issue-numbers`); they are CDK's to judge, never refused here.
 */
const OWN_STYLE_KEY = /^[a-z][a-zA-Z0-9]*$/;

/**
 * The context keys in this app's style that it does not read (`-c destinationRegion=…`), each with
 * the key it most likely meant: a typo must not silently deploy the default.
 */
export function unknownContextKeyProblems(keys: Iterable<string>): string[] {
  return [...keys]
    .filter((key) => OWN_STYLE_KEY.test(key) && !(key in CONTEXT_KEYS))
    .map((key) => {
      const suggestion = closestContextKey(key);
      return `Context "${key}": unknown key ${
        suggestion === undefined
          ? `(known keys: ${Object.keys(CONTEXT_KEYS).join(', ')})`
          : `(did you mean "${suggestion}"?)`
      }`;
    });
}

/** The context key the app reads that `key` most likely meant, if any is close. */
export function closestContextKey(key: string): string | undefined {
  return closestMatch(key, Object.keys(CONTEXT_KEYS));
}

export interface AppOptions {
  readonly stackName: string;
  readonly env?: Environment;
  readonly backfill: EcrReplicationBackfillProps;
}

type ContextReader = (key: ContextKey) => unknown;

/**
 * The app's options from context; one ContextError names every problem, including each of
 * `allKeys` (every key the context holds) that the app does not read.
 */
export function readAppOptions(tryGetContext: ContextReader, allKeys: readonly string[] = []): AppOptions {
  const context = Object.fromEntries(
    (Object.keys(CONTEXT_KEYS) as ContextKey[]).map((key) => [key, tryGetContext(key)]),
  );
  const { props, problems } = backfillPropsFromContext(context);
  problems.push(...unknownContextKeyProblems(allKeys));
  const app = (key: keyof typeof APP_CONTEXT): string | undefined => {
    if (!isSet(context[key])) return undefined;
    try {
      return string(context[key]);
    } catch (error) {
      if (!(error instanceof ValueProblem)) throw error;
      problems.push(contextProblem(key, error.message));
      return undefined;
    }
  };
  const stackName = app('stackName');
  const account = app('account');
  const region = app('region');
  if ((account === undefined) !== (region === undefined)) {
    problems.push(contextProblem('account', 'set both account and region, or neither'));
  }
  if (problems.length > 0) throw new ContextError(problems);
  return {
    stackName: stackName ?? DEFAULT_STACK_NAME,
    ...(account && region ? { env: { account, region } } : {}),
    backfill: props,
  };
}

export class ContextError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ContextError';
  }
}
