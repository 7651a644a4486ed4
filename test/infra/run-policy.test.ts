/**
 * The construct's run policy (RUN_POLICY, which Plan enforces) and the batch steps' reserved
 * concurrency, as synthesized.
 */
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { readStepEnvironment } from '../../functions/lambda/handler-deps.ts';
import {
  EcrReplicationBackfill,
  totalReservedConcurrency,
  type EcrReplicationBackfillProps,
} from '../../infra/backfill-construct.ts';
import type { CfnTemplate } from '../../infra/definition-from-template.ts';
import { synthesizeBackfillStack } from '../../infra/synth.ts';
import { stepFunctions } from './template-helpers.ts';

type Environment = { Variables: Record<string, string> };

function synthesized(backfill: EcrReplicationBackfillProps = {}) {
  const template: CfnTemplate = synthesizeBackfillStack({ backfill });
  const functions = stepFunctions(template);
  const env = (step: 'Plan') =>
    (functions.get(step)?.Properties?.Environment as Environment | undefined)?.Variables ?? {};
  const reserved = Object.fromEntries(
    [...functions].map(([step, fn]) => [step, fn.Properties?.ReservedConcurrentExecutions]),
  );
  return { env, reserved };
}

const invalid = (props: EcrReplicationBackfillProps) => () =>
  new EcrReplicationBackfill(
    new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Invalid'),
    'Backfill',
    props,
  );

describe('the run policy the construct hands to Plan', () => {
  it('defaults to promote only, no overwrites, any repository and a 600 concurrency limit', () => {
    const { env } = synthesized();

    // Read back exactly as the Lambda does at init.
    const policy = readStepEnvironment({
      RUN_BUCKET: 'runs',
      AWS_REGION: 'us-east-1',
      RUN_POLICY: env('Plan').RUN_POLICY,
    }).runPolicy;

    expect(policy).toEqual({
      allowedStrategies: ['promote'],
      allowOverwriteConflicts: false,
      repositoryScope: [],
      maxConcurrencyLimit: 600,
    });
  });

  it('carries the props, derives the limit from the PutImage quota and the scope from the IAM prefixes', () => {
    const { env } = synthesized({
      allowedStrategies: ['promote', 'retag-source'],
      allowOverwriteConflicts: true,
      repositoryPrefixes: ['team-a/'],
      putImageRatePerSecond: 20,
    });

    expect(JSON.parse(env('Plan').RUN_POLICY ?? '')).toEqual({
      allowedStrategies: ['promote', 'retag-source'],
      allowOverwriteConflicts: true,
      repositoryScope: ['team-a/'],
      maxConcurrencyLimit: 1200,
    });
    expect(
      JSON.parse(
        synthesized({ repositoryScope: ['x/*'], maxConcurrencyLimit: 7 }).env('Plan').RUN_POLICY ?? '',
      ),
    ).toMatchObject({ repositoryScope: ['x/*'], maxConcurrencyLimit: 7 });
  });

  it.each([
    [{ allowedStrategies: [] }, /allowedStrategies: /],
    [{ maxConcurrencyLimit: 20_000 }, /maxConcurrencyLimit: /],
    [{ repositoryScope: ['Team/'] }, /repositoryScope\[0\]: /],
    [
      { defaultInput: { strategy: 'retag-source' } },
      /defaultInput.strategy "retag-source" is not in allowedStrategies/,
    ],
    [
      { startOnDeploy: { input: { overwriteConflicts: true } } },
      /startOnDeploy.input.overwriteConflicts needs allowOverwriteConflicts: true/,
    ],
    [
      { defaultInput: { maxConcurrency: 700 } },
      /defaultInput.maxConcurrency 700 is above maxConcurrencyLimit \(600\)/,
    ],
  ] satisfies Array<[EcrReplicationBackfillProps, RegExp]>)(
    'refuses a policy or deployer input it cannot honour: %j',
    (props, message) => {
      expect(invalid(props)).toThrow(message);
    },
  );
});

describe('reserved concurrency of the batch steps', () => {
  it('reserves concurrentPushers for the pushing steps and 30 for the others, nothing for planning', () => {
    const { reserved } = synthesized();

    expect(reserved).toMatchObject({
      PushTempTags: 10,
      RetagSourceTags: 10,
      PromoteTags: 10,
      FinishBatch: 10,
      CheckReplication: 30,
      VerifyDigests: 30,
      CleanupTempTags: 30,
    });
    for (const step of ['Plan', 'PlanSlice', 'FinalizePlan', 'Summarize'])
      expect(reserved[step]).toBeUndefined();
    // 130 of the default 1,000: far from the 900 Lambda lets an account reserve.
    expect(totalReservedConcurrency({})).toBe(130);
  });

  it('follows the props, and refuses a sum that would cut into the 100 Lambda keeps unreserved', () => {
    expect(synthesized({ concurrentPushers: 4, batchStepReservedConcurrency: 12 }).reserved).toMatchObject({
      PushTempTags: 4,
      CheckReplication: 12,
    });
    expect(invalid({ batchStepReservedConcurrency: 100, concurrentPushers: 100 })).not.toThrow();
    expect(invalid({ batchStepReservedConcurrency: 100, concurrentPushers: 151 })).toThrow(
      /the batch steps would reserve 904 .*accountConcurrencyLimit 1000/,
    );
    expect(invalid({ accountConcurrencyLimit: 200 })).toThrow(/would reserve 130 .*keeps 100 unreserved/);
  });
});
