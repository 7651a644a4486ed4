import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { readAppOptions, type ContextKey } from '../../infra/context.ts';

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
