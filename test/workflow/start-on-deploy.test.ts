/**
 * The start-on-deploy custom resource, acted locally as CloudFormation would act it when the stack
 * is created (local/runner/deploy-time-start.ts): its execution, with the name and input of the
 * template, started only if the custom resource's role may call states:StartExecution on the state
 * machine (the role's policies from the template, the local IAM evaluator), and that role granted
 * nothing more than that call (least privilege for this principal: its only Step Functions grant is
 * the one call it makes, and the run used it). `ecr-backfill local -c startOnDeploy=…` runs it.
 * https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Stack } from 'aws-cdk-lib';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { afterEach, describe, expect, it } from 'vitest';
import { deployExecutionName } from '../../infra/start-on-deploy.ts';
import { buildDemoRegistry, DEMO_SOURCE_ACCOUNT, DEMO_SOURCE_REGION } from '../../local/demo-registry.ts';
import { principalsFromTemplate } from '../../local/iam/template-principals.ts';
import { LOCAL_DEPLOYMENT } from '../../local/runner/defaults.ts';
import { DeployTimeStartFailed } from '../../local/runner/deploy-time-start.ts';
import { bucketsFromTemplate, TokenResolver, type CfnTemplate } from '../../local/runner/template.ts';
import { createBackfillApp } from '../../local/synth/synth.ts';
import { runCli } from '../cli/cli-harness.ts';
import { writesIn } from '../support/ecr-writes.ts';
import { START_ON_DEPLOY_ROLE_ID as ROLE_ID, withoutStartGrant } from '../support/start-on-deploy.ts';
import { runOnDemoWorld, startWorld, type World } from './helpers.ts';

const INPUT = { method: 'repush' } as const;

/** The stack with startOnDeploy, its template, and the name deployExecutionName gives its execution. */
function deployment(): { template: CfnTemplate; expectedName: string } {
  const { app, stack } = createBackfillApp({
    backfill: { ...LOCAL_DEPLOYMENT, startOnDeploy: { input: INPUT } },
  });
  const template = app.synth().getStackArtifact(stack.artifactId).template as CfnTemplate;
  const definition = (stack.backfill.stateMachine.node.defaultChild as sfn.CfnStateMachine).definitionString;
  const expectedName = deployExecutionName(Stack.of(stack).resolve(definition), INPUT, { defaultInput: {} });
  return { template, expectedName };
}

/** The start-on-deploy role's statements (every policy attached to it), tokens resolved. */
function roleStatements(template: CfnTemplate): { actions: string[]; resources: string[] }[] {
  const resolver = new TokenResolver(template, { region: DEMO_SOURCE_REGION, account: DEMO_SOURCE_ACCOUNT });
  const principals = principalsFromTemplate(template, resolver, DEMO_SOURCE_ACCOUNT);
  const role = [...principals.values()].find((p) => ROLE_ID.test(p.roleLogicalId));
  if (!role) throw new Error('The template has no start-on-deploy role');
  return role.identityPolicies.flatMap(({ policy }) =>
    (policy.Statement as { Action: string | string[]; Resource: string | string[] }[]).map((s) => ({
      actions: [s.Action].flat(),
      resources: [s.Resource].flat(),
    })),
  );
}

describe('the start-on-deploy custom resource, acted locally as its role', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('runs the deploy-time execution to SUCCEEDED under the name deployExecutionName gives it, its role granted only that start', async () => {
    // Prepare
    world = await startWorld(buildDemoRegistry());
    const { template, expectedName } = deployment();

    // Act
    const result = await runOnDemoWorld(world, {
      template,
      deployTimeStart: true,
    });

    // Assess
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect(result.executionName).toBe(expectedName);
    expect(result.execution.input).toEqual(INPUT);
    expect(result.report?.summary.counts.BACKFILLED ?? 0).toBeGreaterThan(0);
    const machineArn = result.execution.stateMachineArn;
    expect(result.deployTimeStart?.roleArn).toMatch(/:role\/[^/]*StartOnDeployRole/);
    expect(result.deployTimeStart?.decisions).toEqual([
      expect.objectContaining({
        action: 'states:StartExecution',
        resource: machineArn,
        allowed: true,
        count: 1,
      }),
    ]);
    // Least privilege for this principal: beyond its own log group's writes (CloudWatch Logs is not
    // decided locally), its one grant is StartExecution on this state machine, which the start used.
    const grants = roleStatements(template).filter((s) => !s.actions.every((a) => a.startsWith('logs:')));
    expect(grants).toEqual([{ actions: ['states:StartExecution'], resources: [machineArn] }]);
  });

  it("without the role's states:StartExecution grant, fails as the custom resource would (AccessDeniedException naming the role, the action and the state machine), nothing started", async () => {
    // Prepare
    world = await startWorld(buildDemoRegistry());
    const template = withoutStartGrant(deployment().template);

    // Act
    const failure = await runOnDemoWorld(world, {
      template,
      deployTimeStart: true,
    }).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(DeployTimeStartFailed);
    const failed = failure as DeployTimeStartFailed;
    expect(failed.errorCode).toBe('AccessDeniedException');
    expect(failed.message).toMatch(
      /CREATE_FAILED: Received response status \[FAILED\] from custom resource\. Message returned: User: arn:aws:sts::111111111111:assumed-role\/[^/ ]*StartOnDeployRole[^/ ]*\/[^ ]+ is not authorized to perform: states:StartExecution on resource: arn:aws:states:[^ ]+:stateMachine:[^ ]+ because no identity-based policy allows the states:StartExecution action/,
    );
    expect(failed.decisions.map((d) => [d.action, d.allowed])).toEqual([['states:StartExecution', false]]);
    // Nothing started: no ECR call at all, no run file.
    expect(world.emulator.callLog.entries().filter((c) => c.operation !== 'AssumeRole')).toEqual([]);
    expect(writesIn(world.emulator.callLog.entries())).toEqual([]);
    const buckets = bucketsOf(template);
    expect(buckets.length).toBeGreaterThan(0);
    for (const bucket of buckets) {
      const listed = await world.s3.client.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect(listed.Contents ?? []).toEqual([]);
    }
  });
});

/** The template's buckets by their local names, as the runner creates them. */
function bucketsOf(template: CfnTemplate): string[] {
  const resolver = new TokenResolver(template, { region: DEMO_SOURCE_REGION, account: DEMO_SOURCE_ACCOUNT });
  return Object.values(bucketsFromTemplate(template, resolver));
}

describe('ecr-backfill local with startOnDeploy', () => {
  it('runs the execution the deployment starts, under its deploy-time name', async () => {
    // Act
    const run = await runCli(['local', '--json', '-c', `startOnDeploy=${JSON.stringify(INPUT)}`], {
      time: {
        now: Date.now(),
        clock: { now: () => Date.now() },
        sleeps: [],
        sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
      },
    });

    // Assess
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const result = JSON.parse(run.stdout) as { status: string; executionName: string };
    expect(result.status).toBe('SUCCEEDED');
    expect(result.executionName).toMatch(/^deploy-[0-9a-f]{40}$/);
  });

  it('refuses --input with startOnDeploy, which gives the execution its input, without running', async () => {
    // Act
    const run = await runCli(['local', '-c', 'startOnDeploy=true', '--input', '{}']);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(
      '--input (or a selection flag) and startOnDeploy both give the execution its input',
    );
  });
});
