/**
 * Finds the backfill state machine of a deployed stack without the CloudFormation client (not a
 * dependency of this project): CloudFormation tags every taggable resource it creates with
 * `aws:cloudformation:stack-name`, and Step Functions returns those tags from ListTagsForResource.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html
 *
 * Names are checked first (state machines whose name mentions the stack or the backfill), so an
 * account with many state machines costs a few tag reads, not one per machine.
 */
import {
  ListStateMachinesCommand,
  ListTagsForResourceCommand,
  type SFNClient,
  type StateMachineListItem,
} from '@aws-sdk/client-sfn';
import { DEFAULT_STACK_NAME } from '../../core/deployment.ts';
import { CliError, explainAwsError } from '../kit/errors.ts';
import { EXIT_CODES } from '../kit/exit-codes.ts';

/** Environment variables that save typing the target on every command. */
export const STATE_MACHINE_ARN_ENV = 'ECR_BACKFILL_STATE_MACHINE_ARN';
export const STACK_NAME_ENV = 'ECR_BACKFILL_STACK_NAME';

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+$/;

export type StateMachineTarget = { arn: string } | { stackName: string };

/** The state machine a command names, checked before any call: an ARN as given, or a stack to look up. */
export function stateMachineTargetOf(options: {
  stateMachineArn?: string;
  stackName?: string;
}): StateMachineTarget {
  const arn = options.stateMachineArn ?? (options.stackName ? undefined : process.env[STATE_MACHINE_ARN_ENV]);
  if (arn) {
    if (!STATE_MACHINE_ARN.test(arn)) {
      throw new CliError(`"${arn}" is not a state machine ARN.`, {
        exitCode: EXIT_CODES.usage,
        hints: ['Expected arn:aws:states:<region>:<account>:stateMachine:<name> (a `cdk deploy` output).'],
      });
    }
    return { arn };
  }
  return { stackName: options.stackName ?? process.env[STACK_NAME_ENV] ?? DEFAULT_STACK_NAME };
}

const STACK_NAME_TAG = 'aws:cloudformation:stack-name';
const LOGICAL_ID_TAG = 'aws:cloudformation:logical-id';

async function listAllStateMachines(sfn: SFNClient): Promise<StateMachineListItem[]> {
  const machines: StateMachineListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListStateMachinesCommand({ nextToken, maxResults: 1000 }));
    machines.push(...(page.stateMachines ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return machines;
}

function likelihood(machine: StateMachineListItem, stackName: string): number {
  const name = (machine.name ?? '').toLowerCase();
  if (name.startsWith(stackName.toLowerCase())) return 0;
  if (name.includes('backfill')) return 1;
  return 2;
}

/** The ARN of the STANDARD state machine that CloudFormation stack `stackName` created. */
export async function stateMachineArnFromStack(sfn: SFNClient, stackName: string): Promise<string> {
  let machines: StateMachineListItem[];
  try {
    machines = await listAllStateMachines(sfn);
  } catch (error) {
    throw explainAwsError(error, `Finding the state machine of stack ${stackName}`, {
      permission: 'states:ListStateMachines',
    });
  }
  const candidates = machines
    .filter((machine) => machine.stateMachineArn && machine.type !== 'EXPRESS')
    .sort((a, b) => likelihood(a, stackName) - likelihood(b, stackName));
  const found: { arn: string; logicalId: string }[] = [];
  for (const machine of candidates) {
    // A stack normally holds one state machine: once one is found, only machines named after the
    // stack are still read (to notice a stack with several).
    if (found.length > 0 && likelihood(machine, stackName) > 0) break;
    const arn = machine.stateMachineArn ?? '';
    let tags;
    try {
      tags = await sfn.send(new ListTagsForResourceCommand({ resourceArn: arn }));
    } catch (error) {
      throw explainAwsError(error, `Reading the tags of ${arn}`, {
        permission: 'states:ListTagsForResource',
      });
    }
    const tagValue = (key: string) => tags.tags?.find((tag) => tag.key === key)?.value;
    if (tagValue(STACK_NAME_TAG) === stackName) {
      found.push({ arn, logicalId: tagValue(LOGICAL_ID_TAG) ?? '' });
    }
  }
  if (found.length === 0) {
    throw new CliError(`No state machine of stack "${stackName}" was found in this Region.`, {
      hints: [
        'Check the stack name and the Region (--region) it was deployed to,',
        'or pass the ARN printed by `cdk deploy` with --state-machine-arn.',
      ],
    });
  }
  if (found.length > 1) {
    const preferred = found.filter((entry) => /backfill/i.test(entry.logicalId));
    if (preferred.length === 1 && preferred[0]) return preferred[0].arn;
    throw new CliError(`Stack "${stackName}" holds several state machines.`, {
      hints: ['Choose one with --state-machine-arn:', ...found.map((entry) => `  ${entry.arn}`)],
    });
  }
  return found[0]?.arn ?? '';
}
