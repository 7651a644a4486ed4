/**
 * Reads the app's options from CDK context (`cdk.json` or `-c key=value`), with explicit errors.
 *
 * `-c` values arrive as strings, `cdk.json` values as JSON: every reader accepts both.
 */
import { Duration, type Environment } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Strategy } from '../core/contracts/contracts.ts';
import { DEFAULT_STACK_NAME } from '../core/deployment.ts';
import type { EcrReplicationBackfillProps, ManagedReplication, StartOnDeploy } from './backfill-construct.ts';

/** The context keys this app reads, with what they mean (shown in errors and docs). */
export const CONTEXT_KEYS = {
  stackName: `stack name (default ${DEFAULT_STACK_NAME})`,
  account: 'account to deploy to (with region; default: environment-agnostic)',
  region: 'Region to deploy to (with account)',
  sourceRegion: 'Region whose images are backfilled (default: the stack Region)',
  defaultInput: 'JSON object merged under every execution input',
  startOnDeploy: 'true, or a JSON execution input: start one execution after deployment',
  destinationRoleArns: 'roles (comma-separated or JSON array) the functions may assume for other accounts',
  destinationRegions: 'destination Regions (comma-separated or JSON array) to scope ECR permissions',
  repositoryPrefixes: 'repository name prefixes (comma-separated or JSON array) the functions may write to',
  logRetentionDays: 'log retention in days (a CloudWatch Logs retention value)',
  replication: 'JSON ManagedReplication: manage the registry replication configuration (replaces it!)',
  putImageRatePerSecond: 'PutImage quota per Region and second (default 10)',
  concurrentPushers: 'invocations that may push at once (default 10)',
  planSliceConcurrency: 'PlanSlice children at once (default 5)',
  runDataExpirationDays: 'days to keep run data (default 90)',
  allowedStrategies:
    'run policy: strategies an execution may choose (comma-separated or JSON array; default promote)',
  allowOverwriteConflicts: 'run policy: true to let executions set overwriteConflicts (default false)',
  repositoryScope:
    'run policy: repository patterns executions are limited to (default: repositoryPrefixes, or all)',
  maxConcurrencyLimit: 'run policy: the largest maxConcurrency an execution may ask for (default 600)',
  batchStepReservedConcurrency: 'reserved concurrency of the reading batch steps (default 30)',
  accountConcurrencyLimit:
    'the account Lambda concurrency quota, to check reserved concurrency (default 1000)',
} as const;
export type ContextKey = keyof typeof CONTEXT_KEYS;

export interface AppOptions {
  readonly stackName: string;
  readonly env?: Environment;
  readonly backfill: EcrReplicationBackfillProps;
}

type ContextReader = (key: ContextKey) => unknown;

export function readAppOptions(tryGetContext: ContextReader): AppOptions {
  const read = (key: ContextKey): unknown => {
    const value = tryGetContext(key);
    return value === '' ? undefined : value;
  };
  const account = optionalString(read, 'account');
  const region = optionalString(read, 'region');
  if ((account === undefined) !== (region === undefined)) {
    throw new ContextError('account', 'set both account and region, or neither');
  }
  const logRetentionDays = optionalNumber(read, 'logRetentionDays');
  const runDataExpirationDays = optionalNumber(read, 'runDataExpirationDays');
  const backfill: EcrReplicationBackfillProps = prune({
    sourceRegion: optionalString(read, 'sourceRegion'),
    defaultInput: optionalObject(read, 'defaultInput'),
    startOnDeploy: startOnDeploy(read),
    destinationRoleArns: optionalList(read, 'destinationRoleArns'),
    destinationRegions: optionalList(read, 'destinationRegions'),
    repositoryPrefixes: optionalList(read, 'repositoryPrefixes'),
    logRetention: logRetentionDays === undefined ? undefined : retention(logRetentionDays),
    replication: optionalObject(read, 'replication') as ManagedReplication | undefined,
    putImageRatePerSecond: optionalNumber(read, 'putImageRatePerSecond'),
    concurrentPushers: optionalNumber(read, 'concurrentPushers'),
    planSliceConcurrency: optionalNumber(read, 'planSliceConcurrency'),
    runDataExpiration: runDataExpirationDays === undefined ? undefined : Duration.days(runDataExpirationDays),
    allowedStrategies: optionalList(read, 'allowedStrategies') as Strategy[] | undefined,
    allowOverwriteConflicts: optionalBoolean(read, 'allowOverwriteConflicts'),
    repositoryScope: optionalList(read, 'repositoryScope'),
    maxConcurrencyLimit: optionalNumber(read, 'maxConcurrencyLimit'),
    batchStepReservedConcurrency: optionalNumber(read, 'batchStepReservedConcurrency'),
    accountConcurrencyLimit: optionalNumber(read, 'accountConcurrencyLimit'),
  });
  return {
    stackName: optionalString(read, 'stackName') ?? DEFAULT_STACK_NAME,
    ...(account && region ? { env: { account, region } } : {}),
    backfill,
  };
}

export class ContextError extends Error {
  constructor(key: ContextKey, problem: string) {
    super(`Context "${key}" (${CONTEXT_KEYS[key]}): ${problem}`);
    this.name = 'ContextError';
  }
}

function optionalString(read: ContextReader, key: ContextKey): string | undefined {
  const value = read(key);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ContextError(key, 'expected a string');
  return value;
}

function optionalNumber(read: ContextReader, key: ContextKey): number | undefined {
  const value = read(key);
  if (value === undefined) return undefined;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number))
    throw new ContextError(key, 'expected a number');
  return number;
}

function optionalBoolean(read: ContextReader, key: ContextKey): boolean | undefined {
  const value = read(key);
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ContextError(key, 'expected true or false');
}

function parseJson(key: ContextKey, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new ContextError(key, 'expected valid JSON');
  }
}

function optionalObject(read: ContextReader, key: ContextKey): Record<string, unknown> | undefined {
  const raw = read(key);
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' ? parseJson(key, raw) : raw;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ContextError(key, 'expected a JSON object');
  }
  return value as Record<string, unknown>;
}

function optionalList(read: ContextReader, key: ContextKey): string[] | undefined {
  const raw = read(key);
  if (raw === undefined) return undefined;
  const value =
    typeof raw === 'string'
      ? raw.trim().startsWith('[')
        ? parseJson(key, raw)
        : raw.split(',').map((item) => item.trim())
      : raw;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
    throw new ContextError(key, 'expected a comma-separated list or a JSON array of strings');
  }
  return value as string[];
}

function startOnDeploy(read: ContextReader): StartOnDeploy | undefined {
  const raw = read('startOnDeploy');
  if (raw === undefined || raw === false || raw === 'false') return undefined;
  if (raw === true || raw === 'true') return {};
  const input = optionalObject(() => raw, 'startOnDeploy');
  return { input: input ?? {} };
}

function retention(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter(
    (value): value is number => typeof value === 'number',
  );
  if (!allowed.includes(days)) {
    throw new ContextError('logRetentionDays', `expected one of ${allowed.join(', ')}`);
  }
  return days;
}

function prune<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
