/**
 * Takes the state machine out of a synthesized CloudFormation template and resolves the tokens CDK
 * leaves in it (`Fn::Join` with `Ref AWS::Partition`, `Fn::GetAtt [Fn, Arn]`, bucket `Ref`s, …) to
 * plain values: fake but well-formed ARNs for functions and roles, and bucket names the local S3
 * serves. The result is the ASL a deployed state machine would hold, ready for the local runner.
 */
import { asText, isJsonObject, type AslDefinition, type Json } from './asl.ts';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

export interface CfnTemplate {
  Resources?: Record<string, CfnResource>;
  [section: string]: unknown;
}

export interface TokenResolverOptions {
  region: string;
  account: string;
  partition?: string;
  stackName?: string;
  /** Physical names by logical id, overriding the defaults (e.g. a bucket's local name). */
  physicalNames?: Record<string, string>;
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** A bucket name S3 accepts, derived from a logical id (CDK's are mixed-case with a hash). */
export function localBucketName(logicalId: string): string {
  const name = logicalId
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63);
  return name.length >= 3 ? name : `${name}-bucket`;
}

/** Resolves CloudFormation intrinsic functions against a template's resources. */
export class TokenResolver {
  private readonly partition: string;

  constructor(
    private readonly template: CfnTemplate,
    private readonly options: TokenResolverOptions,
  ) {
    this.partition = options.partition ?? 'aws';
  }

  /** The physical name `Ref` returns for a resource (its name, or its ARN for a state machine). */
  ref(logicalId: string): string {
    const pseudo = this.pseudoParameter(logicalId);
    if (pseudo !== undefined) return pseudo;
    const override = this.options.physicalNames?.[logicalId];
    if (override !== undefined) return override;
    const resource = this.resource(logicalId);
    const { region, account } = this.options;
    switch (resource.Type) {
      case 'AWS::S3::Bucket':
        return typeof resource.Properties?.BucketName === 'string'
          ? resource.Properties.BucketName
          : localBucketName(logicalId);
      case 'AWS::StepFunctions::StateMachine':
        return `arn:${this.partition}:states:${region}:${account}:stateMachine:${this.stateMachineName(logicalId)}`;
      default:
        return this.physicalName(logicalId, resource);
    }
  }

  getAtt(logicalId: string, attribute: string): string {
    const resource = this.resource(logicalId);
    const { region, account } = this.options;
    const name = this.ref(logicalId);
    const p = this.partition;
    if (attribute === 'Arn') {
      switch (resource.Type) {
        case 'AWS::Lambda::Function':
          return `arn:${p}:lambda:${region}:${account}:function:${name}`;
        case 'AWS::IAM::Role':
          return `arn:${p}:iam::${account}:role/${name}`;
        case 'AWS::S3::Bucket':
          return `arn:${p}:s3:::${name}`;
        case 'AWS::Logs::LogGroup':
          return `arn:${p}:logs:${region}:${account}:log-group:${name}:*`;
        case 'AWS::StepFunctions::StateMachine':
          return name;
        case 'AWS::SQS::Queue':
          return `arn:${p}:sqs:${region}:${account}:${name}`;
        case 'AWS::SNS::Topic':
          return name;
      }
    }
    if (attribute === 'Name' && resource.Type === 'AWS::StepFunctions::StateMachine') {
      return this.stateMachineName(logicalId);
    }
    throw new TemplateError(`Cannot resolve Fn::GetAtt ${logicalId}.${attribute} (${resource.Type}) locally`);
  }

  /** The state machine's name: its StateMachineName property, else its logical id. */
  stateMachineName(logicalId: string): string {
    const name = this.resource(logicalId).Properties?.StateMachineName;
    return typeof name === 'string' ? name : logicalId;
  }

  /** Resolves every intrinsic function in a value. */
  resolve(value: unknown): Json {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (!isJsonObject(value)) return value as Json;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [key] = keys as [string];
      const arg = value[key];
      switch (key) {
        case 'Ref':
          return this.ref(asText(arg));
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = Array.isArray(arg) ? arg.map(asText) : asText(arg).split('.');
          return this.getAtt(String(logicalId), String(attribute));
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, unknown[]];
          return (this.resolve(parts) as Json[]).map(asText).join(separator);
        }
        case 'Fn::Sub':
          return this.sub(arg);
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          const items = this.resolve(list) as Json[];
          return items[Number(this.resolve(index))] ?? null;
        }
        case 'Fn::Split': {
          const [separator, source] = arg as [string, unknown];
          return asText(this.resolve(source)).split(separator);
        }
      }
      if (key.startsWith('Fn::')) throw new TemplateError(`Unsupported intrinsic function ${key}`);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v)]));
  }

  private sub(arg: unknown): string {
    const [text, variables] = Array.isArray(arg)
      ? (arg as [string, Record<string, unknown>])
      : [String(arg), {}];
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_match, expression: string) => {
      if (expression in variables) return asText(this.resolve(variables[expression]));
      const [logicalId, attribute] = expression.split('.');
      return attribute ? this.getAtt(String(logicalId), attribute) : this.ref(String(logicalId));
    });
  }

  private pseudoParameter(name: string): string | undefined {
    switch (name) {
      case 'AWS::Partition':
        return this.partition;
      case 'AWS::Region':
        return this.options.region;
      case 'AWS::AccountId':
        return this.options.account;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.options.stackName ?? 'LocalStack';
      case 'AWS::StackId':
        return `arn:${this.partition}:cloudformation:${this.options.region}:${this.options.account}:stack/${this.options.stackName ?? 'LocalStack'}/local`;
      default:
        return undefined;
    }
  }

  private physicalName(logicalId: string, resource: CfnResource): string {
    for (const property of ['FunctionName', 'RoleName', 'LogGroupName', 'QueueName', 'TopicName', 'Name']) {
      const value = resource.Properties?.[property];
      if (typeof value === 'string') return value;
    }
    return logicalId;
  }

  private resource(logicalId: string): CfnResource {
    const resource = this.template.Resources?.[logicalId];
    if (!resource) throw new TemplateError(`The template has no resource '${logicalId}'`);
    return resource;
  }
}

export interface TemplateStateMachine {
  logicalId: string;
  name: string;
  arn: string;
  definition: AslDefinition;
}

/**
 * The template's state machine (the one named by `logicalId`, or the only one), with its
 * definition resolved to plain ASL (`DefinitionSubstitutions` applied).
 */
export function stateMachineFromTemplate(
  template: CfnTemplate,
  resolver: TokenResolver,
  logicalId?: string,
): TemplateStateMachine {
  const candidates = Object.entries(template.Resources ?? {}).filter(
    ([id, r]) =>
      r.Type === 'AWS::StepFunctions::StateMachine' && (logicalId === undefined || id === logicalId),
  );
  if (candidates.length !== 1) {
    throw new TemplateError(
      logicalId
        ? `The template has no state machine '${logicalId}'`
        : `Expected exactly one state machine in the template, found ${candidates.length}`,
    );
  }
  const [id, resource] = candidates[0] as [string, CfnResource];
  const properties = resource.Properties ?? {};
  let text: string;
  if (properties.DefinitionString !== undefined) {
    text = asText(resolver.resolve(properties.DefinitionString));
  } else if (isJsonObject(properties.Definition)) {
    text = JSON.stringify(resolver.resolve(properties.Definition));
  } else {
    throw new TemplateError(
      `State machine '${id}' has no inline definition (DefinitionS3Location is not supported)`,
    );
  }
  const substitutions = isJsonObject(properties.DefinitionSubstitutions)
    ? (resolver.resolve(properties.DefinitionSubstitutions) as Record<string, Json>)
    : {};
  text = text.replace(/\$\{([^}]+)\}/g, (match, key: string) =>
    key in substitutions ? asText(substitutions[key]) : match,
  );
  return {
    logicalId: id,
    name: resolver.stateMachineName(id),
    arn: resolver.ref(id),
    definition: JSON.parse(text) as AslDefinition,
  };
}

export interface TemplateFunction {
  logicalId: string;
  arn: string;
  environment: Record<string, string>;
}

/** Every Lambda function of the template with its resolved ARN and environment variables. */
export function functionsFromTemplate(template: CfnTemplate, resolver: TokenResolver): TemplateFunction[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, resource]) => {
      const environment = resource.Properties?.Environment;
      const variables = isJsonObject(environment) ? environment.Variables : undefined;
      const resolved = isJsonObject(variables) ? (resolver.resolve(variables) as Record<string, Json>) : {};
      return {
        logicalId,
        arn: resolver.getAtt(logicalId, 'Arn'),
        environment: Object.fromEntries(Object.entries(resolved).map(([k, v]) => [k, asText(v)])),
      };
    });
}

/** Logical ids of the template's resources of one type, in template order. */
export function resourcesOfType(template: CfnTemplate, type: string): string[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.Type === type)
    .map(([logicalId]) => logicalId);
}

/** Logical ids of the template's S3 buckets, with the names they resolve to. */
export function bucketsFromTemplate(template: CfnTemplate, resolver: TokenResolver): Record<string, string> {
  return Object.fromEntries(
    Object.entries(template.Resources ?? {})
      .filter(([, resource]) => resource.Type === 'AWS::S3::Bucket')
      .map(([logicalId]) => [logicalId, resolver.ref(logicalId)]),
  );
}
