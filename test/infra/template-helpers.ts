/**
 * Reading IAM out of a synthesized template: which statements each step's function may use.
 */
import type { CfnTemplate } from '../../local/synth/definition-from-template.ts';
import { LAMBDA_STEPS, type LambdaStepName } from '../../core/steps.ts';

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
  Sid?: string;
}

type Resource = { Type: string; Properties?: Record<string, unknown> };

export const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

export function resourcesOfType(template: CfnTemplate, type: string): Array<[string, Resource]> {
  return Object.entries(template.Resources ?? {}).filter(([, resource]) => resource.Type === type);
}

/** Joins `Fn::Join`s and renders `Ref`/`Fn::GetAtt` as `<Id>`/`<Id.Attr>`, for readable assertions. */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if (node['Fn::Join']) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(separator);
  }
  if (typeof node.Ref === 'string') return `<${node.Ref}>`;
  if (node['Fn::GetAtt']) return `<${(node['Fn::GetAtt'] as string[]).join('.')}>`;
  return JSON.stringify(value);
}

/** Every statement of every IAM policy (standalone and inline), with the roles it is attached to. */
export function allStatements(template: CfnTemplate): Array<{ roles: string[]; statement: Statement }> {
  const found: Array<{ roles: string[]; statement: Statement }> = [];
  for (const [, policy] of resourcesOfType(template, 'AWS::IAM::Policy')) {
    const roles = ((policy.Properties?.Roles as unknown[]) ?? []).map(flatten);
    const document = policy.Properties?.PolicyDocument as { Statement: Statement[] };
    for (const statement of document.Statement) found.push({ roles, statement });
  }
  for (const [id, role] of resourcesOfType(template, 'AWS::IAM::Role')) {
    const inline = (role.Properties?.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>) ?? [];
    for (const policy of inline) {
      for (const statement of policy.PolicyDocument.Statement) found.push({ roles: [`<${id}>`], statement });
    }
  }
  return found;
}

/** The function resource of each step (found by its description, which names the step). */
export function stepFunctions(template: CfnTemplate): Map<LambdaStepName, Resource> {
  const byStep = new Map<LambdaStepName, Resource>();
  for (const [, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
    const description = typeof fn.Properties?.Description === 'string' ? fn.Properties.Description : '';
    const step = (Object.keys(LAMBDA_STEPS) as LambdaStepName[]).find((name) =>
      description.startsWith(`ecr-backfill ${name}:`),
    );
    if (step) byStep.set(step, fn);
  }
  return byStep;
}

/** The statements attached to the execution role of a step's function. */
export function stepStatements(template: CfnTemplate, step: LambdaStepName): Statement[] {
  const fn = stepFunctions(template).get(step);
  if (!fn) throw new Error(`No function for ${step}`);
  const roleId = (fn.Properties?.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
  return allStatements(template)
    .filter(({ roles }) => roles.includes(`<${roleId}>`))
    .map(({ statement }) => statement);
}

/** Resources (flattened) that a list of statements grants `action` on. */
export function resourcesFor(statements: Statement[], action: string): string[] {
  return statements
    .filter((statement) => statement.Effect === 'Allow' && asArray(statement.Action).includes(action))
    .flatMap((statement) => asArray(statement.Resource).map(flatten));
}
