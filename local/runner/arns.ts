/** ARNs in the shapes Step Functions gives executions, Map Runs and their child executions. */
export interface ArnContext {
  partition: string;
  region: string;
  account: string;
}

export function stateMachineArn(ctx: ArnContext, name: string): string {
  return `arn:${ctx.partition}:states:${ctx.region}:${ctx.account}:stateMachine:${name}`;
}

export function executionArn(ctx: ArnContext, stateMachineName: string, executionName: string): string {
  return `arn:${ctx.partition}:states:${ctx.region}:${ctx.account}:execution:${stateMachineName}:${executionName}`;
}

/** `arn:…:mapRun:<stateMachine>/<label>:<id>` (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html). */
export function mapRunArn(ctx: ArnContext, stateMachineName: string, label: string, id: string): string {
  return `arn:${ctx.partition}:states:${ctx.region}:${ctx.account}:mapRun:${stateMachineName}/${label}:${id}`;
}

export function roleArn(ctx: ArnContext, name: string): string {
  return `arn:${ctx.partition}:iam::${ctx.account}:role/${name}`;
}
