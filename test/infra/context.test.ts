import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import {
  backfillPropsFromContext,
  CONTEXT_KEYS,
  readAppOptions,
  type ContextKey,
} from '../../infra/context.ts';

const contextOf =
  (values: Partial<Record<ContextKey, unknown>>) =>
  (key: ContextKey): unknown =>
    values[key];

describe('reading the app options from CDK context', () => {
  it('defaults to an environment-agnostic EcrBackfill stack with no options', () => {
    expect(readAppOptions(contextOf({}))).toEqual({ stackName: 'EcrBackfill', backfill: {} });
  });

  it('reads -c strings: JSON objects, comma lists, numbers and booleans', () => {
    const options = readAppOptions(
      contextOf({
        account: '123456789012',
        region: 'eu-west-1',
        sourceRegion: 'eu-west-1',
        defaultInput: '{"batchSize":10}',
        startOnDeploy: 'true',
        destinationRoleArns: 'arn:aws:iam::1:role/a, arn:aws:iam::2:role/b',
        repositoryPrefixes: '["team-a/","shared/"]',
        logRetentionDays: '30',
        putImageRatePerSecond: '20',
        runDataExpirationDays: '7',
      }),
    );

    expect(options.env).toEqual({ account: '123456789012', region: 'eu-west-1' });
    expect(options.backfill).toMatchObject({
      sourceRegion: 'eu-west-1',
      defaultInput: { batchSize: 10 },
      startOnDeploy: {},
      destinationRoleArns: ['arn:aws:iam::1:role/a', 'arn:aws:iam::2:role/b'],
      repositoryPrefixes: ['team-a/', 'shared/'],
      logRetention: logs.RetentionDays.ONE_MONTH,
      putImageRatePerSecond: 20,
    });
    expect(options.backfill.runDataExpiration?.toDays()).toBe(7);
  });

  it('reads cdk.json values as JSON, and a startOnDeploy object as the execution input', () => {
    const options = readAppOptions(
      contextOf({
        startOnDeploy: { dryRun: true },
        destinationRegions: ['us-west-2'],
        replication: { rules: [] },
      }),
    );

    expect(options.backfill.startOnDeploy).toEqual({ input: { dryRun: true } });
    expect(options.backfill.destinationRegions).toEqual(['us-west-2']);
    expect(options.backfill.replication).toEqual({ rules: [] });
  });

  it('treats startOnDeploy=false like no start', () => {
    expect(readAppOptions(contextOf({ startOnDeploy: 'false' })).backfill.startOnDeploy).toBeUndefined();
  });

  it('names every problem at once, each with its key', () => {
    let error: unknown;
    try {
      readAppOptions(
        contextOf({
          defaultInput: '[1]',
          concurrentPushers: 'many',
          allowedStrategies: 'promote,yolo',
          account: '1',
        }),
      );
    } catch (caught) {
      error = caught;
    }

    expect(error).toMatchObject({
      name: 'ContextError',
      problems: [
        expect.stringMatching(/^Context "defaultInput" .*: expected a JSON object$/),
        expect.stringMatching(/^Context "concurrentPushers" .*: expected a number$/),
        expect.stringMatching(
          /^Context "allowedStrategies" .*: expected strategies among promote, retag-source \(got yolo\)$/,
        ),
        expect.stringMatching(/^Context "account" .*: set both account and region, or neither$/),
      ],
    });
  });

  it.each([
    [{ defaultInput: '{oops' }, /Context "defaultInput".*valid JSON/],
    [{ defaultInput: '[1]' }, /Context "defaultInput".*JSON object/],
    [{ logRetentionDays: '42' }, /Context "logRetentionDays".*expected one of/],
    [{ putImageRatePerSecond: 'fast' }, /Context "putImageRatePerSecond".*number/],
    [{ account: '123456789012' }, /both account and region/],
    [{ repositoryPrefixes: 'a,,b' }, /Context "repositoryPrefixes"/],
  ] satisfies Array<[Partial<Record<ContextKey, unknown>>, RegExp]>)(
    'names the key and the problem: %o',
    (values, message) => {
      expect(() => readAppOptions(contextOf(values))).toThrow(message);
    },
  );
});

describe('the construct props from context (backfillPropsFromContext)', () => {
  /** One `-c` string per context key of a prop. */
  const everyProp: Record<string, string> = {
    sourceRegion: 'eu-west-1',
    defaultInput: '{"batchSize":10}',
    startOnDeploy: '{"dryRun":true}',
    destinationRoleArns: 'arn:aws:iam::222222222222:role/w',
    directAccounts: '222222222222,333333333333',
    destinationRegions: 'us-west-2,ap-northeast-2',
    repositoryPrefixes: 'team-a/',
    logRetentionDays: '7',
    replication: '{"rules":[]}',
    putImageRatePerSecond: '20',
    concurrentPushers: '4',
    planSliceConcurrency: '2',
    runDataExpirationDays: '30',
    allowedStrategies: 'promote,retag-source',
    allowOverwriteConflicts: 'true',
    repositoryScope: '["team-a/*"]',
    maxConcurrencyLimit: '100',
    allowedMethods: 'repush,auto',
    allowIncludeUntagged: 'false',
    allowIncludeArchived: 'true',
    maxReplicationTimeoutMinutes: '60',
    batchStepReservedConcurrency: '12',
    accountConcurrencyLimit: '2000',
  };

  it('sets every context-settable prop from its key, and each key is one the app documents', () => {
    const { props, problems } = backfillPropsFromContext(everyProp);

    expect(problems).toEqual([]);
    expect(Object.keys(props).sort()).toEqual(
      [
        'accountConcurrencyLimit',
        'allowIncludeArchived',
        'allowIncludeUntagged',
        'allowOverwriteConflicts',
        'allowedMethods',
        'allowedStrategies',
        'batchStepReservedConcurrency',
        'concurrentPushers',
        'defaultInput',
        'destinationRegions',
        'destinationRoleArns',
        'directAccounts',
        'logRetention',
        'maxConcurrencyLimit',
        'maxReplicationTimeoutMinutes',
        'planSliceConcurrency',
        'putImageRatePerSecond',
        'replication',
        'repositoryPrefixes',
        'repositoryScope',
        'runDataExpiration',
        'sourceRegion',
        'startOnDeploy',
      ].sort(),
    );
    expect(props).toMatchObject({
      logRetention: logs.RetentionDays.ONE_WEEK,
      allowedStrategies: ['promote', 'retag-source'],
      allowOverwriteConflicts: true,
      maxConcurrencyLimit: 100,
      allowedMethods: ['repush', 'auto'],
      allowIncludeUntagged: false,
      allowIncludeArchived: true,
      maxReplicationTimeoutMinutes: 60,
      startOnDeploy: { input: { dryRun: true } },
    });
    expect(props.runDataExpiration?.toDays()).toBe(30);
    expect(Object.keys(CONTEXT_KEYS).sort()).toEqual(
      [...Object.keys(everyProp), 'stackName', 'account', 'region'].sort(),
    );
  });

  it('reads no key that sets no prop, and treats an empty value as not set', () => {
    const { props, problems } = backfillPropsFromContext({
      stackName: 'Other',
      '@aws-cdk/core:enablePartitionLiterals': true,
      sourceRegion: '',
    });

    expect(props).toEqual({});
    expect(problems).toEqual([]);
  });

  it('names every bad value by its context key', () => {
    const { problems } = backfillPropsFromContext({ logRetentionDays: '42', runDataExpirationDays: 'soon' });

    expect(problems).toEqual([
      expect.stringMatching(
        /^Context "logRetentionDays" \(log retention in days.*\): expected one of 1, 3, 5/,
      ),
      expect.stringMatching(
        /^Context "runDataExpirationDays" \(days to keep run data \(default 90\)\): expected a number$/,
      ),
    ]);
  });
});
