/**
 * The runs still going, whose temp tags `cleanup` must leave alone: a run's temp tag holds its
 * images and carries them through replication until its own CleanupTempTags (and, for an untagged
 * image, it is the marker). Every temp tag names its run (`<prefix><hash of the run id>-<digest>`,
 * core/ecr/temp-tags.ts) and a run id is derived from its execution's name only
 * (core/run-files/run-layout.ts), so the RUNNING executions of the state machine name the temp tags
 * to spare.
 *
 * ListExecutions with a stateMachineArn lists the parent executions (the Distributed Map's child
 * executions belong to their Map Run), filtered by status; a PENDING_REDRIVE filter is refused
 * there (it needs a mapRunArn), and a redriven execution is RUNNING again anyway. ListExecutions is
 * eventually consistent ("the results are best effort"): an execution started seconds ago may be
 * missing, so one named by `--run` is also read with DescribeExecution.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html
 */
import { DescribeExecutionCommand, ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { awsErrorName } from '../../core/errors/errors.ts';
import { runIdFromExecutionName } from '../../core/run-files/run-layout.ts';

export interface RunningRun {
  runId: string;
  executionName: string;
  executionArn: string;
}

/** ListExecutions' largest page. */
const PAGE_SIZE = 1000;

/** Every RUNNING execution of the state machine, with its run id. */
export async function runningRuns(sfn: SFNClient, stateMachineArn: string): Promise<RunningRun[]> {
  const runs: RunningRun[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListExecutionsCommand({
        stateMachineArn,
        statusFilter: 'RUNNING',
        maxResults: PAGE_SIZE,
        nextToken,
      }),
    );
    for (const execution of page.executions ?? []) {
      if (!execution.name || !execution.executionArn) continue;
      runs.push({
        runId: runIdFromExecutionName(execution.name),
        executionName: execution.name,
        executionArn: execution.executionArn,
      });
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return runs;
}

/**
 * The execution `executionName` of the state machine when it is RUNNING (read directly, not from
 * the eventually consistent listing); `undefined` when it has ended or does not exist.
 */
export async function runningExecution(
  sfn: SFNClient,
  stateMachineArn: string,
  executionName: string,
): Promise<RunningRun | undefined> {
  // arn:<partition>:states:<region>:<account>:stateMachine:<name> → …:execution:<name>:<execution>
  const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
  try {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') return undefined;
    return { runId: runIdFromExecutionName(executionName), executionName, executionArn };
  } catch (error) {
    // Not a name of this state machine's executions (a run id derived from a longer name, say):
    // the listing is what finds it then.
    const name = awsErrorName(error);
    if (name === 'ExecutionDoesNotExist' || name === 'InvalidArn') return undefined;
    throw error;
  }
}
