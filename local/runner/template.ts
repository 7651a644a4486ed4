/**
 * Takes the state machine out of a synthesized CloudFormation template and resolves the tokens CDK
 * leaves in it (`Fn::Join` with `Ref AWS::Partition`, `Fn::GetAtt [Fn, Arn]`, bucket `Ref`s, …) to
 * plain values: fake but well-formed ARNs for functions and roles, and bucket names the local S3
 * serves. The result is the ASL a deployed state machine would hold, ready for the local runner.
 * The `TokenResolver` itself lives in infra (one implementation, shared with the ASL snapshot) and
 * is re-exported here for the runner's callers.
 */
import { asText, forEachState, isJsonObject, taskFunctionArn, type AslDefinition, type Json } from './asl.ts';
import {
  TemplateError,
  type CfnResource,
  type CfnTemplate,
  type TokenResolver,
} from '../synth/template-tokens.ts';

export {
  localBucketName,
  TemplateError,
  TokenResolver,
  type CfnResource,
  type CfnTemplate,
  type TokenResolverOptions,
} from '../synth/template-tokens.ts';

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
  /** The configured `Timeout`, in seconds (Lambda's default, 3, when the template sets none). */
  timeoutSeconds: number;
  /** `ReservedConcurrentExecutions`, when the template sets it. */
  reservedConcurrency?: number;
}

/** "The default timeout is 3 seconds": https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html */
export const LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3;

/** Every Lambda function of the template with its resolved ARN and environment variables. */
export function functionsFromTemplate(template: CfnTemplate, resolver: TokenResolver): TemplateFunction[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, resource]) => {
      const environment = resource.Properties?.Environment;
      const variables = isJsonObject(environment) ? environment.Variables : undefined;
      const resolved = isJsonObject(variables) ? (resolver.resolve(variables) as Record<string, Json>) : {};
      const timeout = resource.Properties?.Timeout;
      const reserved = resource.Properties?.ReservedConcurrentExecutions;
      return {
        ...(typeof reserved === 'number' ? { reservedConcurrency: reserved } : {}),
        logicalId,
        arn: resolver.getAtt(logicalId, 'Arn'),
        environment: Object.fromEntries(Object.entries(resolved).map(([k, v]) => [k, asText(v)])),
        timeoutSeconds: typeof timeout === 'number' ? timeout : LAMBDA_DEFAULT_TIMEOUT_SECONDS,
      };
    });
}

/**
 * The configured timeout (ms) of the function each Lambda Task state invokes, by state name, for the
 * runner to kill an invocation at it as Lambda does.
 */
export function lambdaTimeoutsByState(
  definition: AslDefinition,
  functions: readonly TemplateFunction[],
): Record<string, number> {
  const byArn = new Map(functions.map((fn) => [fn.arn, fn.timeoutSeconds * 1000]));
  const timeouts: Record<string, number> = {};
  forEachState(definition, (name, state) => {
    const arn = taskFunctionArn(state);
    // A qualified ARN (`…:function:name:$LATEST` or an alias) runs the same function's configuration.
    const unqualified = arn?.split(':').slice(0, 7).join(':');
    const timeoutMs = unqualified !== undefined ? byArn.get(unqualified) : undefined;
    if (timeoutMs !== undefined) timeouts[name] = timeoutMs;
  });
  return timeouts;
}

/**
 * The reserved concurrency of the function each Lambda Task state invokes, by state name, for the
 * runner to throttle invokes beyond it as Lambda does (states invoking one function share it).
 */
export function lambdaReservedConcurrencyByState(
  definition: AslDefinition,
  functions: readonly TemplateFunction[],
): Record<string, { functionName: string; limit: number }> {
  const byArn = new Map(functions.map((fn) => [fn.arn, fn]));
  const reserved: Record<string, { functionName: string; limit: number }> = {};
  forEachState(definition, (name, state) => {
    const unqualified = taskFunctionArn(state)?.split(':').slice(0, 7).join(':');
    const fn = unqualified !== undefined ? byArn.get(unqualified) : undefined;
    if (fn?.reservedConcurrency !== undefined)
      reserved[name] = { functionName: fn.logicalId, limit: fn.reservedConcurrency };
  });
  return reserved;
}

/** The function each Lambda Task state invokes, by state name. */
export function functionsByState(
  definition: AslDefinition,
  functions: readonly TemplateFunction[],
): Record<string, TemplateFunction> {
  const byArn = new Map(functions.map((fn) => [fn.arn, fn]));
  const result: Record<string, TemplateFunction> = {};
  forEachState(definition, (name, state) => {
    const unqualified = taskFunctionArn(state)?.split(':').slice(0, 7).join(':');
    const fn = unqualified !== undefined ? byArn.get(unqualified) : undefined;
    if (fn) result[name] = fn;
  });
  return result;
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
