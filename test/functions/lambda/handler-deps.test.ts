import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  EnvironmentError,
  lambdaHandler,
  readStepEnvironment,
} from '../../../functions/lambda/handler-deps.ts';
import { ECR_DEFAULT_PUT_IMAGE_PER_SECOND } from '../../../core/quotas.ts';
import type { StepDeps } from '../../../core/deps.ts';
import { runLogger } from '../../../core/logger.ts';
import { DEFAULT_RUN_POLICY } from '../../../core/contracts/run-policy.ts';

describe('readStepEnvironment', () => {
  it('reads the run bucket, the source Region (SOURCE_REGION over AWS_REGION), default input and PutImage rate', () => {
    const env = readStepEnvironment({
      RUN_BUCKET: 'runs',
      AWS_REGION: 'us-east-1',
      SOURCE_REGION: 'ap-south-1',
      DEFAULT_INPUT: '{"strategy":"promote"}',
      PUT_IMAGE_RATE: '2.5',
      PUT_IMAGE_QUOTA: '50',
    });
    expect(env).toEqual({
      runBucket: 'runs',
      sourceRegion: 'ap-south-1',
      defaultInput: { strategy: 'promote' },
      putImageRatePerSecond: 2.5,
      putImageQuotaPerSecond: 50,
      runPolicy: DEFAULT_RUN_POLICY,
    });
  });

  it('reads the run policy from RUN_POLICY, and names each malformed field', () => {
    const policy = {
      allowedStrategies: ['promote', 'retag-source'],
      allowOverwriteConflicts: true,
      repositoryScope: ['team-a/'],
      maxConcurrencyLimit: 50,
    };
    const base = { RUN_BUCKET: 'runs', AWS_REGION: 'eu-west-1' };

    // The fields the policy leaves out take their safe defaults.
    expect(readStepEnvironment({ ...base, RUN_POLICY: JSON.stringify(policy) }).runPolicy).toEqual({
      ...policy,
      allowedMethods: ['repush', 'native', 'auto'],
      allowIncludeUntagged: true,
      allowIncludeArchived: false,
      maxReplicationTimeoutMinutes: 360,
    });
    let error: unknown;
    try {
      readStepEnvironment({
        ...base,
        RUN_POLICY: JSON.stringify({ ...policy, allowedStrategies: ['delete-all'], maxConcurrencyLimit: 0 }),
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).problems).toEqual([
      expect.stringMatching(/^RUN_POLICY\.allowedStrategies\[0\]: /),
      expect.stringMatching(/^RUN_POLICY\.maxConcurrencyLimit: /),
    ]);
    expect(() => readStepEnvironment({ ...base, RUN_POLICY: '{' })).toThrow(/RUN_POLICY is not valid JSON/);
  });

  it('defaults the optional variables to no default input and ECR’s default PutImage quota', () => {
    const env = readStepEnvironment({ RUN_BUCKET: 'runs', AWS_REGION: 'eu-west-1' });
    expect(env.sourceRegion).toBe('eu-west-1');
    expect(env.defaultInput).toEqual({});
    expect(env.putImageRatePerSecond).toBe(ECR_DEFAULT_PUT_IMAGE_PER_SECOND);
    expect(env.runPolicy).toEqual(DEFAULT_RUN_POLICY);
  });

  it('names every problem at once', () => {
    let error: unknown;
    try {
      readStepEnvironment({ DEFAULT_INPUT: '[1]', PUT_IMAGE_RATE: 'fast', PUT_IMAGE_QUOTA: '0' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).problems).toEqual([
      'RUN_BUCKET is required',
      'SOURCE_REGION or AWS_REGION is required',
      'DEFAULT_INPUT must be a JSON object',
      'PUT_IMAGE_RATE must be a positive number, got "fast"',
      'PUT_IMAGE_QUOTA must be a positive number, got "0"',
    ]);
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('lambdaHandler', () => {
  it('checks the environment at init inside Lambda', () => {
    expect(() =>
      lambdaHandler(() => () => Promise.resolve('ok'), { AWS_LAMBDA_FUNCTION_NAME: 'fn' }),
    ).toThrow(EnvironmentError);
  });

  it('builds the deps on the first call elsewhere, so importing a handler module needs no environment', async () => {
    // Prepare
    let built = 0;
    const handler = lambdaHandler(
      (deps: StepDeps) => {
        built += 1;
        return (event: unknown) => Promise.resolve({ event, bucket: deps.env.runBucket });
      },
      { RUN_BUCKET: 'runs', AWS_REGION: 'us-east-1' },
    );
    expect(built).toBe(0);

    // Act
    const first = await handler('a');
    await handler('b');

    // Assess
    expect(first).toEqual({ event: 'a', bucket: 'runs' });
    expect(built).toBe(1);
  });

  it('hands each invocation Context to the logger and the step: request id and cold start on every line', async () => {
    // Prepare: Lambda sets this for an on-demand function; Powertools reports cold starts only then.
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const handler = lambdaHandler(
      (deps: StepDeps) => (_event: unknown, context?: Context) => {
        runLogger(deps.logger, 'run-1', 'Plan').info('step started');
        return Promise.resolve(context?.awsRequestId);
      },
      { RUN_BUCKET: 'runs', AWS_REGION: 'us-east-1' },
    );
    const context = (awsRequestId: string): Context =>
      ({
        awsRequestId,
        functionName: 'ecr-backfill-plan',
        functionVersion: '$LATEST',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:111111111111:function:ecr-backfill-plan',
        memoryLimitInMB: '1024',
      }) as Context;

    // Act
    const seen = [await handler({}, context('req-1')), await handler({}, context('req-2'))];

    // Assess
    const logged = lines
      .filter((line) => line.includes('step started'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(seen).toEqual(['req-1', 'req-2']);
    expect(logged).toMatchObject([
      { function_request_id: 'req-1', cold_start: true, function_name: 'ecr-backfill-plan', runId: 'run-1' },
      { function_request_id: 'req-2', cold_start: false, function_name: 'ecr-backfill-plan', runId: 'run-1' },
    ]);
  });
});
