/**
 * The deploy-time start read from a synthesized template (the custom resource's Create call and the
 * role its provider function runs as), and acted as the custom resource's handler acts it: an error
 * its ignoreErrorCodesMatching names is ignored, any other fails the resource.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { principalsFromTemplate } from '../../iam/template-principals.ts';
import { LOCAL_DEPLOYMENT } from '../../runner/defaults.ts';
import {
  actDeployTimeStart,
  deployTimeStartFromTemplate,
  DeployTimeStartFailed,
} from '../../runner/deploy-time-start.ts';
import { LocalStateMachine } from '../../runner/local-state-machine.ts';
import { stateMachineFromTemplate, TokenResolver, type CfnTemplate } from '../../runner/template.ts';
import { synthesizeBackfillStack } from '../../synth/synth.ts';

const ACCOUNT = '111111111111';
const INPUT = { method: 'repush', dryRun: true } as const;

function startOf(template: CfnTemplate) {
  const resolver = new TokenResolver(template, { region: 'us-east-1', account: ACCOUNT });
  const principals = [...principalsFromTemplate(template, resolver, ACCOUNT).values()];
  return {
    start: deployTimeStartFromTemplate(template, resolver, principals),
    machineArn: stateMachineFromTemplate(template, resolver).arn,
  };
}

describe('the deploy-time start of a template', () => {
  const template = synthesizeBackfillStack({
    backfill: { ...LOCAL_DEPLOYMENT, startOnDeploy: { input: INPUT } },
  });

  it('is read from the custom resource: the state machine, the name, the input, the ignored error and the role', () => {
    // Act
    const { start, machineArn } = startOf(template);

    // Assess
    expect(start?.resourceType).toBe('Custom::StartBackfillExecution');
    expect(start?.stateMachineArn).toBe(machineArn);
    expect(start?.executionName).toMatch(/^deploy-[0-9a-f]{40}$/);
    expect(start?.input).toEqual(INPUT);
    expect(start?.ignoreErrorCodesMatching).toBe('ExecutionAlreadyExists');
    expect(start?.role.roleLogicalId).toMatch(/^BackfillStartOnDeployRole[0-9A-F]+$/);
    expect(start?.role.arn).toMatch(/^arn:aws:sts::111111111111:assumed-role\/[^/]*StartOnDeployRole/);
  });

  it('is absent from a template synthesized without startOnDeploy', () => {
    expect(startOf(synthesizeBackfillStack({ backfill: LOCAL_DEPLOYMENT })).start).toBeUndefined();
  });

  it('ignores ExecutionAlreadyExists when the execution exists (a redeploy), and starts nothing twice', async () => {
    // Prepare: a state machine already holding an execution of the deploy-time name.
    const { start } = startOf(template);
    if (!start) throw new Error('no deploy-time start');
    const s3 = new S3Client({ region: 'us-east-1' });
    const machine = new LocalStateMachine({
      definition: { StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } },
      s3,
    });
    const starts: string[] = [];
    const startExecution = (input: Parameters<typeof machine.start>[0], name: string) => {
      starts.push(name);
      return machine.start(input, { name });
    };

    // Act
    const first = await actDeployTimeStart(start, startExecution);
    const second = await actDeployTimeStart(start, startExecution);
    s3.destroy();

    // Assess
    expect(first.started?.status).toBe('SUCCEEDED');
    expect(first.started?.output).toEqual(INPUT);
    expect(second.started).toBeUndefined();
    expect(second.ignored).toBe('ExecutionAlreadyExists');
    expect(starts).toEqual([start.executionName, start.executionName]);
    // Both calls were the role's, and allowed.
    expect(second.decisions).toEqual([
      expect.objectContaining({
        action: 'states:StartExecution',
        resource: start.stateMachineArn,
        allowed: true,
      }),
    ]);
  });

  it('fails the resource, as CloudFormation reports it, on an error it does not ignore', async () => {
    // Prepare
    const { start } = startOf(template);
    if (!start) throw new Error('no deploy-time start');
    const throttled = () =>
      Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    // Act
    const failure = await actDeployTimeStart(start, throttled).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(DeployTimeStartFailed);
    const failed = failure as DeployTimeStartFailed;
    expect(failed.errorCode).toBe('ThrottlingException');
    expect(failed.message).toBe(
      `${start.logicalId} (Custom::StartBackfillExecution) CREATE_FAILED: Received response status [FAILED] from custom resource. Message returned: Rate exceeded`,
    );
  });
});
