/**
 * The state machine definition (ASL) out of a synthesized template, with its CloudFormation tokens
 * resolved to plain values, for reviewers (the ASL snapshot) and for offline execution.
 *
 * CDK renders `DefinitionString` as `Fn::Join` over literal pieces, `Ref AWS::Partition`/`AWS::Region`/
 * `AWS::AccountId`, `Ref <Bucket>` and `Fn::GetAtt [<Function>, Arn]`: only those are resolved here
 * (by the shared `TokenResolver`); anything else is an error, not a silent guess.
 */
import { TokenResolver, type CfnTemplate } from './template-tokens.ts';

export type { CfnTemplate } from './template-tokens.ts';

export interface TokenValues {
  readonly partition?: string;
  readonly region?: string;
  readonly accountId?: string;
  readonly urlSuffix?: string;
  /** The value of `Ref <logicalId>` for a resource. @default the logical id */
  readonly ref?: (logicalId: string, type: string) => string;
  /** The value of `Fn::GetAtt [<logicalId>, Arn]`. @default a fake ARN around the resource's `Ref` value */
  readonly arn?: (logicalId: string, type: string) => string;
}

const DEFAULTS = {
  region: 'us-east-1',
  accountId: '123456789012',
};

/** The logical id of the template's only state machine. */
export function stateMachineLogicalId(template: CfnTemplate): string {
  const ids = Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.Type === 'AWS::StepFunctions::StateMachine')
    .map(([id]) => id);
  if (ids.length !== 1)
    throw new Error(`Expected exactly one state machine in the template, found ${ids.length}`);
  return ids[0] as string;
}

/** The resolved ASL of the template's state machine. */
export function definitionFromTemplate(
  template: CfnTemplate,
  values: TokenValues = {},
): Record<string, unknown> {
  const resource = template.Resources?.[stateMachineLogicalId(template)];
  const definition = resolveValue(resource?.Properties?.DefinitionString, template, values);
  if (typeof definition !== 'string') throw new Error('DefinitionString did not resolve to a string');
  return JSON.parse(definition) as Record<string, unknown>;
}

/** Resolves the intrinsics CDK puts in a DefinitionString; anything else is an error, not a silent guess. */
export function resolveValue(value: unknown, template: CfnTemplate, values: TokenValues): unknown {
  return new TokenResolver(template, {
    region: values.region ?? DEFAULTS.region,
    account: values.accountId ?? DEFAULTS.accountId,
    ...(values.partition !== undefined && { partition: values.partition }),
    ...(values.urlSuffix !== undefined && { urlSuffix: values.urlSuffix }),
    ref: values.ref ?? ((logicalId) => logicalId),
    ...(values.arn && { arn: values.arn }),
    intrinsics: ['Fn::Join', 'Ref', 'Fn::GetAtt'],
  }).resolve(value);
}
