/**
 * Resolves the CloudFormation tokens CDK leaves in a synthesized template (`Fn::Join` over literal
 * pieces, `Ref` to pseudo parameters and resources, `Fn::GetAtt [<Resource>, Arn]`, and where allowed
 * `Fn::Sub`, `Fn::Select`, `Fn::Split`) to plain values, as CloudFormation would at deploy time:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
 *
 * The one implementation behind both readers of a template: the ASL reviewers see
 * (`definition-from-template.ts`) and the ASL the local runner executes (`local/runner/template.ts`).
 * They differ only in the names they give resources and in the intrinsics they accept.
 */

export type TemplateValue =
  null | boolean | number | string | TemplateValue[] | { [key: string]: TemplateValue };

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

export interface CfnTemplate {
  Resources?: Record<string, CfnResource>;
  Outputs?: Record<string, unknown>;
  [section: string]: unknown;
}

export type Intrinsic = 'Ref' | 'Fn::GetAtt' | 'Fn::Join' | 'Fn::Sub' | 'Fn::Select' | 'Fn::Split';

export interface TokenResolverOptions {
  region: string;
  account: string;
  /** @default 'aws' */
  partition?: string;
  /** @default 'amazonaws.com' */
  urlSuffix?: string;
  /** @default 'LocalStack' */
  stackName?: string;
  /** Physical names by logical id, overriding every other naming (e.g. a bucket's local name). */
  physicalNames?: Record<string, string>;
  /**
   * The value of `Ref <logicalId>` for a resource.
   * @default its name property, a bucket name S3 accepts, or a state machine's ARN
   */
  ref?: (logicalId: string, type: string) => string;
  /**
   * The value of `Fn::GetAtt [<logicalId>, Arn]`.
   * @default the ARN of the resource's type around the name `Ref` gives it
   */
  arn?: (logicalId: string, type: string) => string;
  /** The intrinsic functions resolved; any other is refused, never guessed. @default all of them */
  intrinsics?: readonly Intrinsic[];
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

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A resolved value as a piece of text: strings as they are, anything else as JSON would print it. */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${value}`;
  return JSON.stringify(value) ?? '';
}

/** Resolves CloudFormation intrinsic functions against a template's resources. */
export class TokenResolver {
  private readonly partition: string;
  private readonly intrinsics: ReadonlySet<string> | undefined;

  constructor(
    private readonly template: CfnTemplate,
    private readonly options: TokenResolverOptions,
  ) {
    this.partition = options.partition ?? 'aws';
    this.intrinsics = options.intrinsics ? new Set(options.intrinsics) : undefined;
  }

  /** The value `Ref` returns: a pseudo parameter, or a resource's physical name (a state machine's ARN). */
  ref(logicalId: string): string {
    const pseudo = this.pseudoParameter(logicalId);
    if (pseudo !== undefined) return pseudo;
    const override = this.options.physicalNames?.[logicalId];
    if (override !== undefined) return override;
    const resource = this.resource(logicalId);
    if (this.options.ref) return this.options.ref(logicalId, resource.Type);
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
    if (attribute === 'Arn') {
      if (this.options.arn) return this.options.arn(logicalId, resource.Type);
      const arn = this.arnOf(logicalId, resource.Type);
      if (arn !== undefined) return arn;
    }
    if (attribute === 'Name' && resource.Type === 'AWS::StepFunctions::StateMachine') {
      return this.stateMachineName(logicalId);
    }
    throw new TemplateError(`Cannot resolve Fn::GetAtt ${logicalId}.${attribute} (${resource.Type}) offline`);
  }

  /** The state machine's name: its StateMachineName property, else its logical id. */
  stateMachineName(logicalId: string): string {
    const name = this.resource(logicalId).Properties?.StateMachineName;
    return typeof name === 'string' ? name : logicalId;
  }

  /** Resolves every intrinsic function in a value. */
  resolve(value: unknown): TemplateValue {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (!isObject(value)) return value as TemplateValue;
    const keys = Object.keys(value);
    const [key] = keys;
    if (keys.length === 1 && key !== undefined && (key === 'Ref' || key.startsWith('Fn::'))) {
      const allowed = this.intrinsics?.has(key) ?? true;
      const resolved = allowed ? this.intrinsic(key, value[key]) : undefined;
      if (resolved === undefined) throw new TemplateError(`Unsupported intrinsic ${key}`);
      return resolved;
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v)]));
  }

  /** One intrinsic function's value, or undefined for a function this resolver does not know. */
  private intrinsic(key: string, arg: unknown): TemplateValue | undefined {
    switch (key) {
      case 'Ref':
        return this.ref(text(arg));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? arg.map(text) : text(arg).split('.');
        return this.getAtt(String(logicalId), String(attribute));
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]];
        return (this.resolve(parts) as TemplateValue[]).map(text).join(separator);
      }
      case 'Fn::Sub':
        return this.sub(arg);
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const items = this.resolve(list) as TemplateValue[];
        return items[Number(this.resolve(index))] ?? null;
      }
      case 'Fn::Split': {
        const [separator, source] = arg as [string, unknown];
        return text(this.resolve(source)).split(separator);
      }
      default:
        return undefined;
    }
  }

  private sub(arg: unknown): string {
    const [template, variables] = Array.isArray(arg)
      ? (arg as [string, Record<string, unknown>])
      : [String(arg), {}];
    return template.replace(/\$\{([^}!][^}]*)\}/g, (_match, expression: string) => {
      if (expression in variables) return text(this.resolve(variables[expression]));
      const [logicalId, attribute] = expression.split('.');
      return attribute ? this.getAtt(String(logicalId), attribute) : this.ref(String(logicalId));
    });
  }

  /** The ARN of a resource of a type this resolver knows, around the name `Ref` gives it. */
  private arnOf(logicalId: string, type: string): string | undefined {
    const { region, account } = this.options;
    const name = this.ref(logicalId);
    const p = this.partition;
    switch (type) {
      case 'AWS::Lambda::Function':
        return `arn:${p}:lambda:${region}:${account}:function:${name}`;
      case 'AWS::IAM::Role':
        return `arn:${p}:iam::${account}:role/${name}`;
      case 'AWS::S3::Bucket':
        return `arn:${p}:s3:::${name}`;
      case 'AWS::Logs::LogGroup':
        return `arn:${p}:logs:${region}:${account}:log-group:${name}:*`;
      case 'AWS::SQS::Queue':
        return `arn:${p}:sqs:${region}:${account}:${name}`;
      // Ref already returns the ARN of these.
      case 'AWS::StepFunctions::StateMachine':
      case 'AWS::SNS::Topic':
        return name;
      default:
        return undefined;
    }
  }

  private pseudoParameter(name: string): string | undefined {
    const { region, account } = this.options;
    const stackName = this.options.stackName ?? 'LocalStack';
    switch (name) {
      case 'AWS::Partition':
        return this.partition;
      case 'AWS::Region':
        return region;
      case 'AWS::AccountId':
        return account;
      case 'AWS::URLSuffix':
        return this.options.urlSuffix ?? 'amazonaws.com';
      case 'AWS::StackName':
        return stackName;
      case 'AWS::StackId':
        return `arn:${this.partition}:cloudformation:${region}:${account}:stack/${stackName}/local`;
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
    if (!resource) {
      throw new TemplateError(`Cannot resolve a reference to ${logicalId}, which is not in the template`);
    }
    return resource;
  }
}
