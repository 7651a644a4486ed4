/**
 * The construct's run policy (RUN_POLICY, which Plan enforces) and the batch steps' reserved
 * concurrency, as synthesized.
 */
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { readStepEnvironment } from '../../functions/lambda/handler-deps.ts';
import { parseInputWithinPolicy } from '../../core/contracts/run-policy.ts';
import { InvalidInputError } from '../../core/errors/errors.ts';
import type { ExecutionInput } from '../../core/contracts/execution-input.ts';
import {
  EcrReplicationBackfill,
  runPolicyOf,
  totalReservedConcurrency,
  type EcrReplicationBackfillProps,
} from '../../infra/backfill-construct.ts';
import type { CfnTemplate } from '../../local/synth/definition-from-template.ts';
import { synthesizeBackfillStack } from '../../local/synth/synth.ts';
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

/** The problems of the InvalidInputError `act` throws. */
function problemsOf(act: () => unknown): string[] {
  try {
    act();
  } catch (error) {
    if (error instanceof InvalidInputError) return error.problems;
    throw error;
  }
  throw new Error('expected InvalidInput');
}

/** The message of the error `act` throws. */
function messageOf(act: () => unknown): string {
  try {
    act();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected an error');
}

describe('the run policy the construct hands to Plan', () => {
  it('defaults to promote only, no overwrites, any repository, a 600 concurrency limit, every engine, no archived images', () => {
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
      allowedMethods: ['repush', 'native', 'auto'],
      allowIncludeUntagged: true,
      allowIncludeArchived: false,
      maxReplicationTimeoutMinutes: 360,
    });
  });

  it('carries the props, derives the limit from the PutImage quota and the scope from the IAM prefixes', () => {
    const { env } = synthesized({
      allowedStrategies: ['promote', 'retag-source'],
      allowOverwriteConflicts: true,
      repositoryPrefixes: ['team-a/'],
      putImageRatePerSecond: 20,
      allowedMethods: ['repush'],
      allowIncludeUntagged: false,
      allowIncludeArchived: true,
      maxReplicationTimeoutMinutes: 45,
    });

    expect(JSON.parse(env('Plan').RUN_POLICY ?? '')).toEqual({
      allowedStrategies: ['promote', 'retag-source'],
      allowOverwriteConflicts: true,
      repositoryScope: ['team-a/'],
      maxConcurrencyLimit: 1200,
      allowedMethods: ['repush'],
      allowIncludeUntagged: false,
      allowIncludeArchived: true,
      maxReplicationTimeoutMinutes: 45,
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
    [{ defaultInput: { strategy: 'retag-source' } }, /defaultInput\.strategy: "retag-source" is not allowed/],
    [
      { startOnDeploy: { input: { overwriteConflicts: true } } },
      /startOnDeploy\.input\.overwriteConflicts: not allowed by this deployment's run policy/,
    ],
    [{ defaultInput: { maxConcurrency: 700 } }, /defaultInput\.maxConcurrency: must be ≤ 600/],
    [{ allowedMethods: [] }, /allowedMethods: /],
    [{ maxReplicationTimeoutMinutes: 361 }, /maxReplicationTimeoutMinutes: /],
    [{ defaultInput: { includeArchived: true } }, /defaultInput\.includeArchived: not allowed/],
    [
      { allowedMethods: ['repush'], defaultInput: { method: 'native' } },
      /defaultInput\.method: "native" is not allowed/,
    ],
    [
      { maxReplicationTimeoutMinutes: 20, defaultInput: { replicationTimeoutMinutes: 30 } },
      /defaultInput\.replicationTimeoutMinutes: must be ≤ 20/,
    ],
    [
      { repositoryScope: ['team-a/'], defaultInput: { repositories: ['team-b/*'] } },
      /defaultInput\.repositories\[0\]: "team-b\/\*" is outside this deployment's repository scope/,
    ],
  ] satisfies Array<[EcrReplicationBackfillProps, RegExp]>)(
    'refuses a policy or deployer input it cannot honour: %j',
    (props, message) => {
      expect(invalid(props)).toThrow(message);
    },
  );

  it("holds the deployer's inputs to Plan's rules, in Plan's words: one message per broken rule", () => {
    // Prepare: an input breaking every rule of a narrowed policy.
    const props: EcrReplicationBackfillProps = { repositoryScope: ['team-a/'], maxConcurrencyLimit: 8 };
    const input: ExecutionInput = {
      strategy: 'retag-source',
      overwriteConflicts: true,
      maxConcurrency: 9,
      repositories: ['team-a/api', 'team-b/'],
    };
    const planProblems = problemsOf(() =>
      parseInputWithinPolicy(input, { sourceRegion: 'us-east-1' }, runPolicyOf(props)),
    );
    expect(planProblems).toHaveLength(4);

    // Act
    const synthError = messageOf(invalid({ ...props, startOnDeploy: { input } }));

    // Assess: what Plan would refuse at run time, the construct refuses at synth, naming the prop.
    for (const problem of planProblems) expect(synthError).toContain(`startOnDeploy.input.${problem}`);
  });

  it('accepts deployer inputs within the policy', () => {
    expect(
      invalid({
        allowedStrategies: ['promote', 'retag-source'],
        repositoryScope: ['team-a/'],
        defaultInput: { strategy: 'retag-source', repositories: ['team-a/*'], maxConcurrency: 600 },
        startOnDeploy: { input: { overwriteConflicts: false, maxConcurrency: 12 } },
      }),
    ).not.toThrow();
  });
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

  it('refuses a concurrency ceiling whose children could not all queue for the reserved pushers', () => {
    // 10 slots hold the queue of about 2,000 children (MAX_LAMBDA_QUEUE_ATTEMPTS); 10,000 need 51.
    expect(invalid({ maxConcurrencyLimit: 1_900 })).not.toThrow();
    expect(invalid({ maxConcurrencyLimit: 10_000 })).toThrow(
      /PushTempTags: up to 10000 children \(maxConcurrencyLimit\) would queue for its 10 reserved slots \(concurrentPushers\).*raise concurrentPushers or lower maxConcurrencyLimit/,
    );
    expect(
      invalid({ maxConcurrencyLimit: 10_000, concurrentPushers: 51, batchStepReservedConcurrency: 51 }),
    ).not.toThrow();
  });

  it('lowers the default ceiling to what the reserved pushers can queue, so the defaults always synthesize', () => {
    // At 20 PutImage/s the rate alone would allow 1,200 children, more than 4 pushers can queue.
    const props: EcrReplicationBackfillProps = { putImageRatePerSecond: 20, concurrentPushers: 4 };
    const ceiling = runPolicyOf(props).maxConcurrencyLimit;

    expect(runPolicyOf({ putImageRatePerSecond: 20 }).maxConcurrencyLimit).toBe(1_200);
    expect(ceiling).toBeLessThan(1_200);
    expect(invalid(props)).not.toThrow();
    // The largest that fits: one child more is refused when asked for explicitly.
    expect(invalid({ ...props, maxConcurrencyLimit: ceiling })).not.toThrow();
    expect(invalid({ ...props, maxConcurrencyLimit: ceiling + 1 })).toThrow(
      /would queue for its 4 reserved slots/,
    );
  });
});
