import { afterEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  RedriveExecutionCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { fakeTime, runCli } from './cli-harness.ts';
import { EXECUTION_ARN, scriptExecution } from './sfn-script.ts';

const STATE_MACHINE_ARN = 'arn:aws:states:ap-south-1:111122223333:stateMachine:EcrBackfillStateMachine';
const DAY = 86_400_000;

let sfn: AwsClientStub<SFNClient> | undefined;
afterEach(() => {
  sfn?.restore();
  sfn = undefined;
});

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
}

function refusing(errorName: string, execution: Record<string, unknown> = {}): AwsClientStub<SFNClient> {
  const stub = mockClient(SFNClient);
  stub.on(RedriveExecutionCommand).rejects(awsError(errorName, `${errorName}: refused by AWS`));
  stub.on(DescribeExecutionCommand).resolves({
    executionArn: EXECUTION_ARN,
    stateMachineArn: STATE_MACHINE_ARN,
    status: 'FAILED',
    startDate: new Date(),
    input: '{"destinations":["ap-northeast-2"],"tags":["v*"]}',
    ...execution,
  });
  return stub;
}

describe('ecr-backfill redrive', () => {
  it('redrives and says that only failed batches run again', async () => {
    sfn = mockClient(SFNClient);
    sfn.on(RedriveExecutionCommand).resolves({ redriveDate: new Date() });

    const run = await runCli(['redrive', EXECUTION_ARN]);

    expect(run.exitCode).toBe(0);
    expect(sfn).toHaveReceivedCommandWith(RedriveExecutionCommand, { executionArn: EXECUTION_ARN });
    expect(run.stdout).toContain('Only the failed, timed-out or aborted batches run again.');
    expect(run.stdout).toContain(`ecr-backfill watch ${EXECUTION_ARN}`);
  });

  it('with --watch, ignores the previous attempt’s FAILED status and follows the redrive to its end', async () => {
    // Prepare: the first read still shows the old failure (no redriveDate yet).
    const redrivenAt = new Date(Date.UTC(2026, 4, 2));
    sfn = scriptExecution([
      { status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold' },
      {
        status: 'RUNNING',
        stateName: 'BackfillImages',
        backfill: { running: 5, succeeded: 95 },
        redriveDate: redrivenAt,
      },
      { status: 'SUCCEEDED', backfill: { succeeded: 100 }, redriveDate: redrivenAt },
    ]);
    sfn.on(RedriveExecutionCommand).resolves({ redriveDate: redrivenAt });

    // Act
    const run = await runCli(['redrive', EXECUTION_ARN, '--watch']);

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('Backfilling: 95/100 BackfillImages items');
    expect(run.stdout).toContain('Execution SUCCEEDED');
  });

  it('explains that a succeeded execution has nothing to redrive', async () => {
    sfn = refusing('ExecutionNotRedrivable', { status: 'SUCCEEDED' });

    const run = await runCli(['redrive', EXECUTION_ARN]);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('This execution succeeded: there is nothing to redrive.');
    expect(run.stderr).toContain(`ecr-backfill report ${EXECUTION_ARN}`);
  });

  it('explains the 14-day limit and suggests a new start with the same input', async () => {
    // Prepare
    const time = fakeTime();
    sfn = refusing('ExecutionNotRedrivable', { stopDate: new Date(time.now - 20 * DAY) });

    // Act
    const run = await runCli(['redrive', EXECUTION_ARN], { time });

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('This execution cannot be redriven.');
    expect(run.stderr).toContain(
      'Why: it ended 20d 00h ago, and Step Functions only redrives within 14 days',
    );
    expect(run.stderr).toContain(
      `ecr-backfill start --state-machine-arn ${STATE_MACHINE_ARN} --input '{"destinations":["ap-northeast-2"],"tags":["v*"]}' --watch`,
    );
    expect(run.stderr).toContain('its plan skips everything already done');
  });

  it("passes on AWS's reason when the definition changed", async () => {
    sfn = refusing('ExecutionNotRedrivable', {
      stopDate: new Date(),
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'State machine definition has been updated since the execution started',
    });

    const run = await runCli(['redrive', EXECUTION_ARN]);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(
      'Why: State machine definition has been updated since the execution started',
    );
    expect(run.stderr).toContain('ecr-backfill start --state-machine-arn');
  });

  it('says a running execution must end first', async () => {
    sfn = refusing('ExecutionNotRedrivable', { status: 'RUNNING' });

    const run = await runCli(['redrive', EXECUTION_ARN]);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('This execution is still running');
    expect(run.stderr).toContain(`ecr-backfill watch ${EXECUTION_ARN}`);
  });

  it.each([
    ['ExecutionLimitExceeded', 'the account has reached its limit of open executions'],
    ['ExecutionDoesNotExist', 'No such execution: nothing to redrive.'],
    ['AccessDeniedException', 'needs states:RedriveExecution'],
    ['ExpiredTokenException', 'your AWS credentials have expired'],
  ])('maps %s to an actionable message with a non-zero exit code', async (errorName, message) => {
    sfn = refusing(errorName);

    const run = await runCli(['redrive', EXECUTION_ARN]);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(message);
  });

  it('refuses a malformed ARN without calling AWS', async () => {
    sfn = refusing('ExecutionNotRedrivable');

    const run = await runCli(['redrive', 'arn:aws:states:ap-south-1:111122223333:stateMachine:X']);

    expect(run.exitCode).toBe(2);
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it.each([
    [
      'ReplicationNotConfigured',
      'The registry 111122223333 in ap-south-1 has no replication rules',
      'Configure replication',
    ],
    ['InvalidInput', 'Invalid input: batchSize: must be ≤ 100 (got 500)', 'Fix the input'],
  ])(
    'refuses to redrive %s, says why and what to fix, and sends no RedriveExecution',
    async (error, message, remedy) => {
      // Prepare
      sfn = refusing('ShouldNotBeCalled', {
        error,
        cause: JSON.stringify({
          errorType: error,
          errorMessage: message,
          trace: [`${error}: ${message}`, '    at plan (plan.js:1:1)'],
        }),
      });

      // Act
      const run = await runCli(['redrive', EXECUTION_ARN]);

      // Assess
      expect(run.exitCode).toBe(1);
      expect(sfn).not.toHaveReceivedCommand(RedriveExecutionCommand);
      expect(run.stderr).toContain('Not redriving: a redrive cannot fix this failure.');
      expect(run.stderr).toContain(`Error: ${error}`);
      expect(run.stderr).toContain(`What to do: ${remedy}`);
      expect(run.stderr).toContain('ecr-backfill start');
      expect(run.stderr).not.toContain('errorType');
      expect(run.stderr).not.toContain('    at ');
    },
  );

  it('refuses AccessDenied in Plan (the configuration read) but redrives AccessDenied in a later step', async () => {
    // Prepare
    const denied = (state: string) => {
      const stub = refusing('ShouldNotBeCalled', {
        error: 'AccessDenied',
        cause: '{"errorMessage":"denied"}',
      });
      stub.on(RedriveExecutionCommand).resolves({ redriveDate: new Date() });
      stub.on(GetExecutionHistoryCommand).resolves({
        events: [
          { id: 3, type: 'ExecutionFailed', timestamp: new Date() },
          {
            id: 2,
            type: 'TaskStateEntered',
            timestamp: new Date(),
            stateEnteredEventDetails: { name: state },
          },
        ],
      });
      return stub;
    };

    // Act
    sfn = denied('Plan');
    const inPlan = await runCli(['redrive', EXECUTION_ARN]);
    const redrivesInPlan = sfn.commandCalls(RedriveExecutionCommand).length;
    sfn.restore();
    sfn = denied('Summarize');
    const later = await runCli(['redrive', EXECUTION_ARN]);

    // Assess
    expect(inPlan.exitCode).toBe(1);
    expect(redrivesInPlan).toBe(0);
    expect(inPlan.stderr).toContain('Error: AccessDenied in Plan');
    expect(later.exitCode).toBe(0);
    expect(sfn).toHaveReceivedCommand(RedriveExecutionCommand);
  });
});
