/**
 * The state machine definition (ASL) out of a synthesized template, with its CloudFormation tokens
 * resolved to plain values, for reviewers (the ASL snapshot) and for offline execution.
 *
 * CDK renders `DefinitionString` as `Fn::Join` over literal pieces, `Ref AWS::Partition`/`AWS::Region`/
 * `AWS::AccountId`, `Ref <Bucket>` and `Fn::GetAtt [<Function>, Arn]`.
 */

export type CfnTemplate = {
  Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Outputs?: Record<string, unknown>;
} & Record<string, unknown>;

export interface TokenValues {
  readonly partition?: string;
  readonly region?: string;
  readonly accountId?: string;
  readonly urlSuffix?: string;
  /** The value of `Ref <logicalId>` for a resource. @default the logical id */
  readonly ref?: (logicalId: string, type: string) => string;
  /** The value of `Fn::GetAtt [<logicalId>, Arn]`. @default a fake ARN naming the logical id */
  readonly arn?: (logicalId: string, type: string) => string;
}

const DEFAULTS = {
  partition: 'aws',
  region: 'us-east-1',
  accountId: '123456789012',
  urlSuffix: 'amazonaws.com',
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
  if (
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    value === null
  ) {
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => resolveValue(item, template, values));
  if (typeof value !== 'object' || value === undefined) throw new Error(`Cannot resolve a ${typeof value}`);
  const entries = Object.entries(value as Record<string, unknown>);
  const [key, argument] = entries[0] ?? [];
  if (entries.length === 1 && key === 'Fn::Join') {
    const [separator, parts] = argument as [string, unknown[]];
    return parts.map((part) => String(resolveValue(part, template, values))).join(separator);
  }
  if (entries.length === 1 && key === 'Ref') return resolveRef(argument as string, template, values);
  if (entries.length === 1 && key === 'Fn::GetAtt') {
    const [logicalId, attribute] = argument as [string, string];
    if (attribute !== 'Arn') throw new Error(`Unsupported Fn::GetAtt attribute ${logicalId}.${attribute}`);
    const type = resourceType(template, logicalId);
    return values.arn ? values.arn(logicalId, type) : fakeArn(logicalId, type, values);
  }
  if (entries.length === 1 && key?.startsWith('Fn::')) throw new Error(`Unsupported intrinsic ${key}`);
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveValue(v, template, values)]));
}

function resolveRef(name: string, template: CfnTemplate, values: TokenValues): string {
  switch (name) {
    case 'AWS::Partition':
      return values.partition ?? DEFAULTS.partition;
    case 'AWS::Region':
      return values.region ?? DEFAULTS.region;
    case 'AWS::AccountId':
      return values.accountId ?? DEFAULTS.accountId;
    case 'AWS::URLSuffix':
      return values.urlSuffix ?? DEFAULTS.urlSuffix;
    default: {
      const type = resourceType(template, name);
      return values.ref ? values.ref(name, type) : name;
    }
  }
}

function resourceType(template: CfnTemplate, logicalId: string): string {
  const resource = template.Resources?.[logicalId];
  if (!resource) throw new Error(`The definition references ${logicalId}, which is not in the template`);
  return resource.Type;
}

function fakeArn(logicalId: string, type: string, values: TokenValues): string {
  const partition = values.partition ?? DEFAULTS.partition;
  const region = values.region ?? DEFAULTS.region;
  const account = values.accountId ?? DEFAULTS.accountId;
  switch (type) {
    case 'AWS::Lambda::Function':
      return `arn:${partition}:lambda:${region}:${account}:function:${logicalId}`;
    case 'AWS::S3::Bucket':
      return `arn:${partition}:s3:::${logicalId}`;
    default:
      throw new Error(`No fake ARN for ${logicalId} (${type})`);
  }
}
