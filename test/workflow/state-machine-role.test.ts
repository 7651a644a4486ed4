/**
 * The local runner acts as the state machine's role: what Step Functions itself does for an
 * execution (invoke each Task's function, start, follow and redrive the Distributed Maps' children,
 * read the ItemReader's object, write the ResultWriter's files) is decided with the role's policies
 * from the synthesized template (local/runner/state-machine-role.ts; the S3 calls by the local S3,
 * local/s3/iam.ts). A grant the template leaves out fails the run where AWS would, naming the role
 * and the action; with the template's grants everything is allowed.
 * https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StepDeps } from '../../core/index.ts';
import { createStepHandlers } from '../../functions/index.ts';
import { buildDemoRegistry } from '../../local/demo-registry.ts';
import type { ChildOutcome } from '../../local/runner/progress.ts';
import type { RunBackfillOptions } from '../../local/runner/run-backfill.ts';
import type { CfnTemplate } from '../../local/synth/template-tokens.ts';
import { writesIn } from '../support/ecr-writes.ts';
import { withoutRoleGrant } from '../support/template-grants.ts';
import { backfillTemplate, runOnDemoWorld, startWorld, type World } from './helpers.ts';

/** The state machine's role session, as AWS names it in a denial. */
const ROLE_SESSION = /arn:aws:sts::111111111111:assumed-role\/[^ /]*StateMachineRole[^ /]*\/[^ ]+/;

/**
 * The template with `action` taken out of the state machine role's statements (those whose
 * resources mention `onResource`, when given), as if the construct had left that grant out.
 */
function withoutMachineGrant(template: CfnTemplate, action: string, onResource?: string): CfnTemplate {
  return withoutRoleGrant(template, {
    role: /^BackfillStateMachineRole[0-9A-F]+$/,
    action,
    ...(onResource === undefined ? {} : { onResource }),
  });
}

/** PushTempTags fails once (an error no retrier takes), so BackfillImages fails and a redrive redrives that child. */
function failingOnce(deps: StepDeps) {
  const handlers = createStepHandlers(deps);
  let failed = false;
  return {
    ...handlers,
    PushTempTags: async (event: unknown, context?: unknown) => {
      if (!failed) {
        failed = true;
        throw Object.assign(new Error('injected once, before any call'), { name: 'InjectedFault' });
      }
      return handlers.PushTempTags(event, context as never);
    },
  };
}

describe('the local runner acts as the state machine role', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  const run = (w: World, options: Partial<RunBackfillOptions>) =>
    runOnDemoWorld(w, { input: { method: 'repush' }, ...options });

  it('with the template grants, every call of the role is allowed, a Map Run redrive included', async () => {
    // Prepare
    world = await startWorld(buildDemoRegistry());

    // Act
    const result = await run(world, {
      template: backfillTemplate(),
      stepHandlers: failingOnce,
      maxRedrives: 1,
    });

    // Assess
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect(result.redrives).toBe(1);
    const decisions = result.stateMachineRoleDecisions;
    expect(decisions.filter((d) => !d.allowed)).toEqual([]);
    const actions = new Set(decisions.map((d) => d.action));
    for (const action of [
      'lambda:InvokeFunction',
      'states:StartExecution',
      'states:DescribeExecution',
      'states:RedriveExecution',
    ])
      expect(actions).toContain(action);
    // The role's S3 calls: the ItemReader's reads and the ResultWriter's writes, allowed by the local S3.
    const s3 = world.s3.iam.decisions.entries().filter((d) => ROLE_SESSION.test(d.principal));
    expect(s3.filter((d) => !d.allowed)).toEqual([]);
    expect(new Set(s3.map((d) => d.action))).toEqual(new Set(['s3:GetObject', 's3:PutObject']));
  });

  it("without lambda:InvokeFunction on Summarize's function, Summarize fails with Lambda.AWSLambdaException naming the role", async () => {
    // Prepare
    world = await startWorld(buildDemoRegistry());
    const template = withoutMachineGrant(backfillTemplate(), 'lambda:InvokeFunction', 'FunctionsSummarize');

    // Act
    const result = await run(world, { template });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Lambda.AWSLambdaException');
    expect(result.execution.failedState?.name).toBe('Summarize');
    expect(result.cause).toMatch(ROLE_SESSION);
    expect(result.cause).toMatch(
      /is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:[^ ]+Summarize[^ ]* because no identity-based policy allows the lambda:InvokeFunction action/,
    );
    expect(result.cause).toContain('Error Code: AccessDeniedException');
    expect(result.invocations.Summarize ?? 0).toBe(0);
    // Everything before Summarize ran: the backfill itself was allowed.
    expect(result.invocations.PromoteTags ?? 0).toBeGreaterThan(0);
  });

  it('without states:StartExecution, the first Distributed Map fails with States.Runtime before any child runs', async () => {
    // Prepare
    world = await startWorld(buildDemoRegistry());
    const template = withoutMachineGrant(backfillTemplate(), 'states:StartExecution');

    // Act
    const result = await run(world, { template });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('States.Runtime');
    expect(result.execution.failedState?.name).toBe('PlanSlices');
    expect(result.cause).toMatch(ROLE_SESSION);
    expect(result.cause).toMatch(
      /is not authorized to perform: states:StartExecution on resource: arn:aws:states:/,
    );
    expect(result.invocations.PlanSlice ?? 0).toBe(0);
    expect(writesIn(world.emulator.callLog.entries())).toEqual([]);
  });

  it("without s3:GetObject, the ItemReader fails (States.ItemReaderFailed) with S3's AccessDenied for the role", async () => {
    // Prepare
    world = await startWorld(buildDemoRegistry());
    const template = withoutMachineGrant(backfillTemplate(), 's3:GetObject');

    // Act
    const result = await run(world, { template });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('States.ItemReaderFailed');
    expect(result.execution.failedState?.name).toBe('PlanSlices');
    expect(result.cause).toContain('AccessDenied');
    expect(result.cause).toMatch(ROLE_SESSION);
    expect(result.cause).toMatch(
      /is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::[^ ]+\/runs\//,
    );
    expect(result.invocations.PlanSlice ?? 0).toBe(0);
  });

  it("without s3:PutObject, the ResultWriter fails (States.ResultWriterFailed) with S3's AccessDenied for the role", async () => {
    // Prepare
    world = await startWorld(buildDemoRegistry());
    const template = withoutMachineGrant(backfillTemplate(), 's3:PutObject');

    // Act
    const result = await run(world, { template });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('States.ResultWriterFailed');
    expect(result.cause).toMatch(ROLE_SESSION);
    expect(result.cause).toMatch(
      /is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::[^ ]+\/runs\//,
    );
  });

  it('without states:RedriveExecution, redriving the failed Map Run fails with States.Runtime naming the role', async () => {
    // Prepare
    world = await startWorld(buildDemoRegistry());
    const template = withoutMachineGrant(backfillTemplate(), 'states:RedriveExecution');
    const failedChildren: ChildOutcome[] = [];

    // Act
    const result = await run(world, {
      template,
      stepHandlers: failingOnce,
      maxRedrives: 1,
      onProgress: (_snapshot, event) => {
        if (event.type === 'map-run-progress' && event.child.status === 'FAILED')
          failedChildren.push(event.child);
      },
    });

    // Assess
    expect(result.redrives).toBe(1);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('States.Runtime');
    expect(result.execution.failedState?.name).toBe('BackfillImages');
    expect(result.cause).toMatch(ROLE_SESSION);
    expect(result.cause).toMatch(
      /is not authorized to perform: states:RedriveExecution on resource: arn:aws:states:[^ ]+:execution:[^ ]+\/BackfillImages:/,
    );
    // The child failed once (the injected fault), and the refused redrive ran it no more.
    expect(failedChildren.map((c) => c.error)).toEqual(['InjectedFault']);
  });
});
