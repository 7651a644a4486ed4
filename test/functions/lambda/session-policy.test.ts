/**
 * Cross-account least privilege: every AssumeRole of a destination role carries a session policy
 * with the step's own ECR actions, so a step that only reads can never write in a destination
 * account, even when the role allows it.
 */
import { describe, expect, it } from 'vitest';
import type { LambdaStepName } from '../../../core/steps.ts';
import { createEcrClientProvider, destinationSessionPolicy } from '../../../core/ecr/ecr.ts';
import { readStepEnvironment } from '../../../functions/lambda/handler-deps.ts';
import { synthesizeBackfillStack } from '../../../local/synth/synth.ts';
import { stepFunctions } from '../../infra/template-helpers.ts';

const ROLE = 'arn:aws:iam::222222222222:role/EcrBackfillWriter';
const WRITES = ['ecr:PutImage', 'ecr:BatchDeleteImage'];

interface SessionPolicy {
  Statement: { Effect: string; Action: string[]; Resource: string }[];
}

/** The session policy each deployed step passes on AssumeRole, as its Lambda would build it. */
function sessionPolicies(): Map<LambdaStepName, SessionPolicy | undefined> {
  const template = synthesizeBackfillStack({ backfill: { destinationRoleArns: [ROLE] } });
  const policies = new Map<LambdaStepName, SessionPolicy | undefined>();
  for (const [step, fn] of stepFunctions(template)) {
    const variables = (fn.Properties?.Environment as { Variables: Record<string, string> }).Variables;
    const env = readStepEnvironment({
      RUN_BUCKET: 'runs',
      AWS_REGION: 'us-east-1',
      DESTINATION_ACTIONS: variables.DESTINATION_ACTIONS,
    });
    let passed: string | undefined;
    const provider = createEcrClientProvider({
      ...(env.destinationActions ? { sessionActions: env.destinationActions } : {}),
      credentialsForRole: (_roleArn, _region, sessionPolicy) => {
        passed = sessionPolicy;
        return { accessKeyId: 'AKIA', secretAccessKey: 'secret' };
      },
    });
    provider({ region: 'eu-west-1', registryId: '222222222222', roleArn: ROLE });
    policies.set(step, passed === undefined ? undefined : (JSON.parse(passed) as SessionPolicy));
  }
  return policies;
}

describe('destination session policies', () => {
  const policies = sessionPolicies();

  it('lets Plan read the destination registry policy, on * (no resource type), besides the reads', () => {
    const policy = policies.get('Plan');

    expect(policy?.Statement[0]?.Action).not.toContain('ecr:GetRegistryPolicy');
    expect(policy?.Statement[1]).toEqual({
      Sid: 'ThisStepRegistryReads',
      Effect: 'Allow',
      Action: ['ecr:GetRegistryPolicy'],
      Resource: '*',
    });
  });

  it.each([
    ['PlanSlice', ['ecr:DescribeImages']],
    ['CheckReplication', ['ecr:BatchGetImage']],
    ['VerifyDigests', ['ecr:BatchGetImage']],
  ] as const)(
    'limits the read-only step %s to its own ECR reads in the destination account',
    (step, reads) => {
      const policy = policies.get(step);

      expect(policy?.Statement).toEqual([
        {
          Sid: 'ThisStepOnly',
          Effect: 'Allow',
          Action: [...reads],
          Resource: 'arn:aws:ecr:*:222222222222:repository/*',
        },
      ]);
    },
  );

  it('gives the writing steps exactly their destination writes', () => {
    const writesOf = (step: LambdaStepName) =>
      (policies.get(step)?.Statement[0]?.Action ?? []).filter((action) => WRITES.includes(action));

    // PromoteTags deletes only to undo a put whose source tag its owner deleted meanwhile.
    expect(writesOf('PromoteTags')).toEqual(['ecr:PutImage', 'ecr:BatchDeleteImage']);
    expect(writesOf('CleanupTempTags')).toEqual(['ecr:BatchDeleteImage']);
    // NativeVerify writes only to undo what a backfill put after the source changed.
    expect(writesOf('NativeVerify')).toEqual(['ecr:PutImage', 'ecr:BatchDeleteImage']);
    // PushTempTags only reads through a role (whether an unselected destination its push reaches
    // holds the digest already): no write.
    expect(policies.get('PushTempTags')).toBeDefined();
    expect(writesOf('PushTempTags')).toEqual([]);
    expect(writesOf('RetagSourceTags')).toEqual([]);
  });

  it('passes no session policy without a role, and builds the resource from the role ARN', () => {
    let calls = 0;
    const provider = createEcrClientProvider({
      sessionActions: ['ecr:DescribeImages'],
      credentialsForRole: () => {
        calls++;
        return { accessKeyId: 'AKIA', secretAccessKey: 'secret' };
      },
    });
    provider({ region: 'eu-west-1' });
    expect(calls).toBe(0);
    expect(
      JSON.parse(destinationSessionPolicy('arn:aws-cn:iam::333333333333:role/R', ['ecr:ListImages'])),
    ).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ThisStepOnly',
          Effect: 'Allow',
          Action: ['ecr:ListImages'],
          Resource: 'arn:aws-cn:ecr:*:333333333333:repository/*',
        },
      ],
    });
  });
});
