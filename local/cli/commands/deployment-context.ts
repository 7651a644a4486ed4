/**
 * `local` and `demo` run what you deploy: the deployment's CDK context, read as `cdk synth` reads it
 * (`./cdk.json`'s `context`, then each `-c/--context key=value`, which wins), turned into the
 * construct's props by the construct's own reader (`backfillPropsFromContext`), so the run policy,
 * quotas and scope of a local run are the deployment's.
 * https://docs.aws.amazon.com/cdk/v2/guide/context.html
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import {
  backfillPropsFromContext,
  CONTEXT_KEYS,
  closestContextKey,
  type EcrReplicationBackfillProps,
} from 'ecr-backfill';
import { CliError, EXIT_CODES } from 'ecr-backfill/cli';

/** Commander collector of a repeatable `-c key=value`. */
export function collectContext(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  const key = at > 0 ? value.slice(0, at).trim() : '';
  if (!key) throw new InvalidArgumentError(`expected key=value (got '${value}').`);
  // CDK's feature flags (`@aws-cdk/...:flag`) are keys with a colon; anything else must be one the app reads.
  if (!key.includes(':') && !(key in CONTEXT_KEYS)) {
    const suggestion = closestContextKey(key);
    throw new InvalidArgumentError(
      `unknown context key '${key}'${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; the construct reads: ${Object.keys(CONTEXT_KEYS).join(', ')}.`,
    );
  }
  return { ...previous, [key]: value.slice(at + 1) };
}

/** The `context` of `cdk.json` in `dir`, as `cdk synth` run there reads it; {} without one. */
export function cdkJsonContext(dir: string): Record<string, unknown> {
  const file = join(dir, 'cdk.json');
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`${file} is not valid JSON: ${(error as Error).message}`, {
      exitCode: EXIT_CODES.usage,
    });
  }
  const context = (parsed as { context?: unknown } | null)?.context;
  if (context === undefined) return {};
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new CliError(`${file}: "context" must be a JSON object.`, { exitCode: EXIT_CODES.usage });
  }
  return context as Record<string, unknown>;
}

/** The app's own keys (stack name and environment): they set no prop, and a local run has no stack to name. */
const APP_KEYS = new Set(['stackName', 'account', 'region']);

export interface DeploymentContext {
  /** The construct's props the context sets ({} when it sets none). */
  props: EcrReplicationBackfillProps;
  /** The context keys that set a prop, for the run's banner. */
  keys: string[];
}

/**
 * The construct's props of the deployment described by `./cdk.json` in `cwd` and the `-c` flags
 * (a flag wins over cdk.json), with every problem named; nothing runs on a bad value.
 */
export function deploymentContext(
  flags: Readonly<Record<string, string>> = {},
  cwd = process.cwd(),
): DeploymentContext {
  const context = { ...cdkJsonContext(cwd), ...flags };
  const { props, problems } = backfillPropsFromContext(context);
  if (problems.length > 0) {
    throw new CliError('The deployment context has problems:', {
      exitCode: EXIT_CODES.usage,
      hints: [...problems.map((problem) => `- ${problem}`), 'Fix cdk.json or the -c/--context values.'],
    });
  }
  const keys = Object.keys(CONTEXT_KEYS).filter(
    (key) => !APP_KEYS.has(key) && context[key] !== undefined && context[key] !== '',
  );
  return { props, keys };
}
