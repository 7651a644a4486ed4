/**
 * IAM enforced in the local world, end to end: every step calls ECR as its function's role from the
 * synthesized template, and the emulator evaluates each call as AWS does (local/iam/). A grant the
 * construct leaves out is the AccessDeniedException AWS would answer, in the step that needs it; a
 * destination in another account that the deployment cannot reach is refused by Plan up front.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_NAMES } from '../../core/errors/error-names.ts';
import { buildDemoRegistry } from '../../local/demo-registry.ts';
import type { ChildOutcome } from '../../local/runner/progress.ts';
import { synthesizeBackfillStack } from '../../local/synth/synth.ts';
import { writesIn } from '../support/ecr-writes.ts';
import { withoutRoleGrant } from '../support/template-grants.ts';
import { backfillTemplate, runOnDemoWorld, startWorld, type World } from './helpers.ts';

const OTHER_ACCOUNT = '222222222222';

describe('IAM enforced in the local world', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  const run = runOnDemoWorld;

  it("without PlanSlice's ecr:DescribeImages grant, PlanSlice fails with AccessDeniedException naming its role and the action", async () => {
    // Prepare
    world = await startWorld(buildDemoRegistry());
    const template = withoutRoleGrant(backfillTemplate(), {
      role: /^BackfillFunctionsPlanSliceRole[0-9A-F]+$/,
      action: 'ecr:DescribeImages',
    });
    const failedChildren: ChildOutcome[] = [];

    // Act
    const result = await run(world, {
      template,
      input: { method: 'repush' },
      onProgress: (_snapshot, event) => {
        if (event.type === 'map-run-progress' && event.child.status === 'FAILED')
          failedChildren.push(event.child);
      },
    });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.cause).toContain(`${ERROR_NAMES.AccessDenied} at PlanSlice`);
    const child = failedChildren[0];
    expect(child?.failedState).toBe('PlanSlice');
    expect(child?.error).toBe(ERROR_NAMES.AccessDenied);
    expect(child?.cause).toMatch(
      /User: arn:aws:sts::111111111111:assumed-role\/[^ ]*PlanSliceRole[^ ]* is not authorized to perform: ecr:DescribeImages on resource: arn:aws:ecr:ap-south-1:111111111111:repository\/[^ ]+ because no identity-based policy allows the ecr:DescribeImages action/,
    );
    // ECR answered AccessDeniedException, and only to PlanSlice's DescribeImages.
    const denied = world.emulator.callLog.entries().filter((c) => c.outcome === 'AccessDeniedException');
    expect(denied.length).toBeGreaterThan(0);
    expect(new Set(denied.map((c) => c.operation))).toEqual(new Set(['DescribeImages']));
    expect(writesIn(world.emulator.callLog.entries())).toEqual([]);
  });

  it('the same run with the grant the construct gives succeeds, every call allowed', async () => {
    // Prepare
    world = await startWorld(buildDemoRegistry());

    // Act
    const result = await run(world, { template: backfillTemplate(), input: { method: 'repush' } });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(world.emulator.callLog.entries().filter((c) => c.outcome === 'AccessDeniedException')).toEqual([]);
  });

  it('a destination in another account that the deployment does not reach is refused by Plan, nothing written', async () => {
    // Prepare: a deployment without directAccounts, and Ireland's destination without a roleArn.
    world = await startWorld(buildDemoRegistry());
    const template = synthesizeBackfillStack();

    // Act
    const result = await run(world, { template, input: {} });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe(ERROR_NAMES.DestinationAccountNotGranted);
    expect(result.cause).toContain(`is in account ${OTHER_ACCOUNT}`);
    expect(result.cause).toContain('roleArn');
    expect(result.cause).toContain(`-c directAccounts=${OTHER_ACCOUNT}`);
    expect(result.cause).toContain('Nothing was written');
    expect(writesIn(world.emulator.callLog.entries())).toEqual([]);
    expect(world.emulator.callLog.entries().some((c) => c.account === OTHER_ACCOUNT)).toBe(false);
    const listed = await world.s3.client.send(new ListObjectsV2Command({ Bucket: result.runBucket }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });
});
