import { afterEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import {
  ListStateMachinesCommand,
  ListTagsForResourceCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { runCli } from './cli-harness.ts';
import { EXECUTION_ARN, scriptExecution } from './sfn-script.ts';

const STATE_MACHINE_ARN = 'arn:aws:states:ap-south-1:111122223333:stateMachine:EcrBackfillStateMachine';

let sfn: AwsClientStub<SFNClient> | undefined;
afterEach(() => {
  sfn?.restore();
  sfn = undefined;
});

function mockStart(): AwsClientStub<SFNClient> {
  const stub = mockClient(SFNClient);
  stub.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: new Date() });
  return stub;
}

function startedWith(stub: AwsClientStub<SFNClient>): {
  name?: string;
  input: Record<string, unknown>;
  arn?: string;
} {
  const call = stub.commandCalls(StartExecutionCommand)[0];
  const args = call?.args[0].input;
  return {
    name: args?.name,
    input: JSON.parse(args?.input ?? 'null') as Record<string, unknown>,
    arn: args?.stateMachineArn,
  };
}

describe('ecr-backfill start', () => {
  it('refuses invalid input before any Step Functions call and names every problem', async () => {
    // Prepare
    sfn = mockStart();

    // Act
    const run = await runCli([
      'start',
      '--state-machine-arn',
      STATE_MACHINE_ARN,
      '--batch-size',
      '500',
      '--strategy',
      'sideways',
      '--tag',
      'v1 beta',
    ]);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('The execution input is invalid; nothing was sent to AWS.');
    expect(run.stderr).toContain('- batchSize: must be ≤ 100 (got 500)');
    expect(run.stderr).toMatch(/- strategy: must be one of "promote", "retag-source" \(got "sideways"\)/);
    expect(run.stderr).toMatch(/- tags\[0\]: must use letters, digits/);
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('refuses invalid --input JSON without calling AWS', async () => {
    sfn = mockStart();

    const run = await runCli([
      'start',
      '--state-machine-arn',
      STATE_MACHINE_ARN,
      '--input',
      '{"dryRun": tru}',
    ]);

    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('--input is not valid JSON');
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('starts with the flags as input, a time-and-hash name, and prints the ARN and console URL', async () => {
    // Prepare
    sfn = mockStart();

    // Act
    const run = await runCli([
      'start',
      '--state-machine-arn',
      STATE_MACHINE_ARN,
      '--destination',
      'ap-northeast-2',
      '--destination',
      '444455556666:eu-west-1:arn:aws:iam::444455556666:role/EcrBackfillWriter',
      '--repository',
      'team/',
      '--tag',
      'v*',
      '--latest',
      '3',
      '--dry-run',
    ]);

    // Assess
    expect(run.exitCode).toBe(0);
    const started = startedWith(sfn);
    expect(started.arn).toBe(STATE_MACHINE_ARN);
    expect(started.name).toMatch(/^backfill-20260501-120000-[0-9a-f]{8}$/);
    expect(started.input).toEqual({
      destinations: [
        'ap-northeast-2',
        {
          region: 'eu-west-1',
          registryId: '444455556666',
          roleArn: 'arn:aws:iam::444455556666:role/EcrBackfillWriter',
        },
      ],
      repositories: ['team/'],
      tags: ['v*'],
      latestPerRepository: 3,
      dryRun: true,
    });
    expect(run.stdout).toContain(`Execution: ${EXECUTION_ARN}`);
    expect(run.stdout).toContain(
      `Console:   https://ap-south-1.console.aws.amazon.com/states/home?region=ap-south-1#/v2/executions/details/${encodeURIComponent(EXECUTION_ARN)}`,
    );
    expect(run.stdout).toContain(`ecr-backfill watch ${EXECUTION_ARN}`);
  });

  it('names executions by input: same input in any flag order → same hash, other input → other hash', async () => {
    sfn = mockStart();
    const base = ['start', '--state-machine-arn', STATE_MACHINE_ARN];

    await runCli([...base, '--batch-size', '10', '--dry-run']);
    await runCli([...base, '--dry-run', '--batch-size', '10']);
    await runCli([...base, '--dry-run', '--batch-size', '11']);

    const names = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name ?? '');
    expect(names[0]).toBe(names[1]);
    expect(names[2]).not.toBe(names[0]);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });

  it('merges --input @file with flags, flags winning', async () => {
    sfn = mockStart();
    const files: Record<string, string> = { 'input.json': '{"batchSize": 5, "tags": ["latest"]}' };

    const run = await runCli(
      ['start', '--state-machine-arn', STATE_MACHINE_ARN, '--input', '@input.json', '--batch-size', '7'],
      {
        context: { readTextFile: (path) => Promise.resolve(files[path] ?? '') },
      },
    );

    expect(run.exitCode).toBe(0);
    expect(startedWith(sfn).input).toEqual({ batchSize: 7, tags: ['latest'] });
  });

  it('rejects a custom name Step Functions would refuse, before any call', async () => {
    sfn = mockStart();

    const run = await runCli(['start', '--state-machine-arn', STATE_MACHINE_ARN, '--name', 'my run!']);

    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('--name may contain only letters, digits, "-" and "_".');
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('looks for the default stack EcrBackfill when neither an ARN nor a stack is given', async () => {
    sfn = mockStart();
    sfn.on(ListStateMachinesCommand).resolves({ stateMachines: [] });

    const run = await runCli(['start', '--region', 'ap-south-1']);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('No state machine of stack "EcrBackfill" was found in this Region.');
    expect(run.stderr).toContain('--state-machine-arn');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it("resolves the state machine from the stack's CloudFormation tags", async () => {
    // Prepare
    sfn = mockStart();
    const other = 'arn:aws:states:ap-south-1:111122223333:stateMachine:OrdersWorkflow';
    const ours = 'arn:aws:states:ap-south-1:111122223333:stateMachine:BackfillStateMachineE1C2A3B4-AbCdEf';
    sfn.on(ListStateMachinesCommand).resolves({
      stateMachines: [
        { stateMachineArn: other, name: 'OrdersWorkflow', type: 'STANDARD', creationDate: new Date() },
        {
          stateMachineArn: ours,
          name: 'BackfillStateMachineE1C2A3B4-AbCdEf',
          type: 'STANDARD',
          creationDate: new Date(),
        },
      ],
    });
    sfn
      .on(ListTagsForResourceCommand, { resourceArn: ours })
      .resolves({ tags: [{ key: 'aws:cloudformation:stack-name', value: 'EcrBackfill' }] })
      .on(ListTagsForResourceCommand, { resourceArn: other })
      .resolves({ tags: [{ key: 'aws:cloudformation:stack-name', value: 'Orders' }] });

    // Act
    const run = await runCli(['start', '--stack-name', 'EcrBackfill', '--region', 'ap-south-1']);

    // Assess
    expect(run.exitCode).toBe(0);
    expect(startedWith(sfn).arn).toBe(ours);
    // The machine whose name mentions the backfill is read first; nothing else is needed.
    expect(sfn).toHaveReceivedCommandTimes(ListTagsForResourceCommand, 1);
  });

  it('explains a stack without a state machine, and starts nothing', async () => {
    sfn = mockStart();
    sfn.on(ListStateMachinesCommand).resolves({ stateMachines: [] });

    const run = await runCli(['start', '--stack-name', 'Nope', '--region', 'ap-south-1']);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('No state machine of stack "Nope" was found in this Region.');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it.each([
    ['ExecutionAlreadyExists', 'An execution named "again" already exists'],
    ['ExecutionLimitExceeded', 'limit of open executions'],
    ['AccessDeniedException', 'Starting the execution: access denied.'],
    ['StateMachineDoesNotExist', 'Starting the execution: no such state machine.'],
  ])('maps %s to an actionable message and exit code 1', async (errorName, message) => {
    sfn = mockClient(SFNClient);
    sfn
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error(`${errorName} from AWS`), { name: errorName }));

    const run = await runCli(['start', '--state-machine-arn', STATE_MACHINE_ARN, '--name', 'again']);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(message);
  });

  it('names the missing permission when access is denied', async () => {
    sfn = mockClient(SFNClient);
    sfn
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));

    const run = await runCli(['start', '--state-machine-arn', STATE_MACHINE_ARN]);

    expect(run.stderr).toContain('needs states:StartExecution');
  });

  it('--watch follows the started execution and exits with its status', async () => {
    sfn = scriptExecution([
      { status: 'RUNNING', stateName: 'BackfillImages', backfill: { pending: 2 } },
      { status: 'FAILED', error: 'AccessDenied', cause: '{"errorMessage":"PutImage denied in eu-west-1"}' },
    ]);
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: new Date() });

    const run = await runCli(['start', '--state-machine-arn', STATE_MACHINE_ARN, '--watch']);

    expect(run.exitCode).toBe(3);
    expect(run.stdout).toContain('Backfilling: 0/2 BackfillImages items');
    expect(run.stdout).toContain('Cause: PutImage denied in eu-west-1');
    expect(run.stdout).toContain('What to do: Fix IAM (cross-account role, registry policy), then redrive');
    expect(run.stdout).toContain(`ecr-backfill redrive ${EXECUTION_ARN}\` re-runs only the failed batches`);
  });

  it('prints JSON with --json', async () => {
    sfn = mockStart();

    const run = await runCli(['start', '--state-machine-arn', STATE_MACHINE_ARN, '--json']);

    const parsed = JSON.parse(run.stdout) as { executionArn: string; name: string; input: unknown };
    expect(parsed.executionArn).toBe(EXECUTION_ARN);
    expect(parsed.name).toMatch(/^backfill-/);
    expect(parsed.input).toEqual({});
  });
});
