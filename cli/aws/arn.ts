/** Step Functions ARNs: parsing what the commands are given, and the console links they print. */
import { CliError } from '../kit/errors.ts';
import { EXIT_CODES } from '../kit/exit-codes.ts';

export interface ExecutionArnParts {
  partition: string;
  region: string;
  account: string;
  stateMachineName: string;
  executionName: string;
}

// arn:<partition>:states:<region>:<account>:execution:<stateMachineName>:<executionName>
// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-state-machine-executions.html
const EXECUTION_ARN = /^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):execution:([^:]+):([^:]+)$/;

export function parseExecutionArn(arn: string): ExecutionArnParts {
  const match = EXECUTION_ARN.exec(arn.trim());
  if (!match) {
    throw new CliError(`"${arn}" is not a Step Functions execution ARN.`, {
      exitCode: EXIT_CODES.usage,
      hints: [
        'Expected arn:aws:states:<region>:<account>:execution:<state-machine>:<execution-name>,',
        'as printed by `ecr-backfill start` or shown in the Step Functions console.',
      ],
    });
  }
  const [, partition, region, account, stateMachineName, executionName] = match as unknown as string[];
  return {
    partition: partition ?? 'aws',
    region: region ?? '',
    account: account ?? '',
    stateMachineName: stateMachineName ?? '',
    executionName: executionName ?? '',
  };
}

function consoleHost(partition: string, region: string): string | undefined {
  if (partition === 'aws') return `https://${region}.console.aws.amazon.com`;
  if (partition === 'aws-cn') return 'https://console.amazonaws.cn';
  if (partition === 'aws-us-gov') return 'https://console.amazonaws-us-gov.com';
  return undefined;
}

/** The execution's page in the Step Functions console (undefined for partitions we do not know). */
export function executionConsoleUrl(executionArn: string): string | undefined {
  const { partition, region } = parseExecutionArn(executionArn);
  const host = consoleHost(partition, region);
  if (!host) return undefined;
  return `${host}/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
}

/** The Region an ARN lives in, so commands talk to the right endpoint whatever the profile says. */
export function regionOfArn(arn: string): string | undefined {
  return arn.split(':')[3] || undefined;
}

export interface MapRunArnParts {
  label: string;
  id: string;
}

/**
 * `arn:aws:states:<region>:<account>:mapRun:<stateMachineName>/<label>:<id>`; the label is the
 * Distributed Map's `Label` (or its state name), which tells `BackfillImages` from `PlanSlices`.
 */
export function parseMapRunArn(arn: string): MapRunArnParts {
  const resource = arn.split(':mapRun:')[1] ?? '';
  const lastColon = resource.lastIndexOf(':');
  const path = lastColon >= 0 ? resource.slice(0, lastColon) : resource;
  const id = lastColon >= 0 ? resource.slice(lastColon + 1) : '';
  const label = path.slice(path.indexOf('/') + 1);
  return { label, id };
}
