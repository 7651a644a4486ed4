/**
 * The deploy-time start (infra/start-on-deploy.ts), acted as CloudFormation and CDK's
 * AwsCustomResource would act it when the stack is created: the template's custom resource holds its
 * Create call (an SDK call, as JSON with the state machine's ARN as a token), the resource's
 * ServiceToken names CDK's provider function, and that function makes the call as its execution role
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html). So:
 *
 * - the call is read from the template (service, action, the deterministic execution name and input,
 *   the error codes it ignores), never rebuilt from the construct's props;
 * - Step Functions decides `states:StartExecution` on the state machine's ARN for the role's session
 *   with the role's identity policies from the template (the evaluator the state machine's role uses,
 *   state-machine-role.ts), https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html;
 * - a denial is the SDK's `AccessDeniedException`: the handler does not ignore it (its
 *   `ignoreErrorCodesMatching` is matched against the error's name), answers FAILED with the error's
 *   message as the reason, and CloudFormation reports the resource CREATE_FAILED with "Received
 *   response status [FAILED] from custom resource. Message returned: <reason>"
 *   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html);
 * - `ExecutionAlreadyExists` (a redeploy of an unchanged definition and input, which names the same
 *   execution) is ignored, as the resource's `ignoreErrorCodesMatching` says
 *   (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
 */
import { z } from 'zod';
import type { TemplatePrincipal } from '../iam/template-principals.ts';
import { roleOfFunction } from '../iam/template-principals.ts';
import type { Json } from './asl.ts';
import { TemplateError, type CfnTemplate, type TokenResolver } from './template.ts';
import { ServiceRole, type RoleDecisionEntry } from './state-machine-role.ts';

/** The action Step Functions authorizes for StartExecution. */
export const START_EXECUTION_ACTION = 'states:StartExecution';

/** The Create call of an AwsCustomResource, as CDK writes it into the template (JSON). */
const SdkCallSchema = z.object({
  service: z.string(),
  action: z.string(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  ignoreErrorCodesMatching: z.string().optional(),
});

const StartExecutionParametersSchema = z.object({
  stateMachineArn: z.string().min(1),
  name: z.string().min(1),
  input: z.string().optional(),
});

/** AwsCustomResource names a service by its SDK v3 package or its v2 class name. */
const STEP_FUNCTIONS_SERVICES = new Set(['@aws-sdk/client-sfn', 'client-sfn', 'sfn', 'stepfunctions']);

export interface DeployTimeStart {
  /** The custom resource's logical id and type, as CloudFormation names them in a failure. */
  readonly logicalId: string;
  readonly resourceType: string;
  readonly stateMachineArn: string;
  readonly executionName: string;
  readonly input: Json;
  /** The error names the resource ignores (a regular expression), if any. */
  readonly ignoreErrorCodesMatching?: string;
  /** The role the provider function runs as: the principal that calls StartExecution. */
  readonly role: TemplatePrincipal;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The template's deploy-time start: the custom resource whose Create call is Step Functions'
 * StartExecution, with the role of the function its ServiceToken names. Undefined when the template
 * has none (a stack synthesized without startOnDeploy); more than one is refused.
 */
export function deployTimeStartFromTemplate(
  template: CfnTemplate,
  resolver: TokenResolver,
  principals: readonly TemplatePrincipal[],
): DeployTimeStart | undefined {
  const starts: DeployTimeStart[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    const create = resource.Properties?.Create;
    if (!resource.Type.startsWith('Custom::') || create === undefined) continue;
    const text = resolver.resolve(create);
    let parsed: unknown;
    try {
      parsed = typeof text === 'string' ? JSON.parse(text) : text;
    } catch {
      throw new TemplateError(`The custom resource ${logicalId}'s Create call is not JSON`);
    }
    const call = SdkCallSchema.safeParse(parsed);
    if (!call.success) continue;
    const service = call.data.service.toLowerCase();
    const action = call.data.action.charAt(0).toUpperCase() + call.data.action.slice(1);
    if (!STEP_FUNCTIONS_SERVICES.has(service) || action !== 'StartExecution') continue;
    const parameters = StartExecutionParametersSchema.safeParse(call.data.parameters);
    if (!parameters.success) {
      throw new TemplateError(
        `The custom resource ${logicalId} calls StartExecution without a stateMachineArn and a name: ${parameters.error.message}`,
      );
    }
    starts.push({
      logicalId,
      resourceType: resource.Type,
      stateMachineArn: parameters.data.stateMachineArn,
      executionName: parameters.data.name,
      input: JSON.parse(parameters.data.input ?? '{}') as Json,
      ...(call.data.ignoreErrorCodesMatching !== undefined
        ? { ignoreErrorCodesMatching: call.data.ignoreErrorCodesMatching }
        : {}),
      role: providerRole(template, logicalId, resource.Properties?.ServiceToken, principals),
    });
  }
  if (starts.length > 1) {
    throw new TemplateError(
      `The template has ${starts.length} custom resources that start an execution (${starts.map((s) => s.logicalId).join(', ')}); expected at most one`,
    );
  }
  return starts[0];
}

/** The principal the custom resource's provider function runs as. */
function providerRole(
  template: CfnTemplate,
  logicalId: string,
  serviceToken: unknown,
  principals: readonly TemplatePrincipal[],
): TemplatePrincipal {
  const getAtt = isObject(serviceToken) ? serviceToken['Fn::GetAtt'] : undefined;
  const functionId = Array.isArray(getAtt) && typeof getAtt[0] === 'string' ? getAtt[0] : undefined;
  const roleId = functionId ? roleOfFunction(template, functionId) : undefined;
  const principal = principals.find((p) => p.roleLogicalId === roleId);
  if (!principal) {
    throw new TemplateError(
      `The custom resource ${logicalId}'s ServiceToken names no function of the template with a role of the template`,
    );
  }
  return principal;
}

/** The custom resource failed: CloudFormation's CREATE_FAILED, with the reason the handler returned. */
export class DeployTimeStartFailed extends Error {
  constructor(
    readonly start: DeployTimeStart,
    /** The SDK error's name (e.g. `AccessDeniedException`). */
    readonly errorCode: string,
    /** The handler's reason: the SDK error's message. */
    readonly reason: string,
    /** The decisions made on the role's call (the denial among them). */
    readonly decisions: RoleDecisionEntry[],
  ) {
    super(
      `${start.logicalId} (${start.resourceType}) CREATE_FAILED: Received response status [FAILED] from custom resource. Message returned: ${reason}`,
    );
    this.name = 'DeployTimeStartFailed';
  }
}

export interface DeployTimeStartOutcome<T> {
  /** The started execution's result, or undefined when the start was an ignored error. */
  readonly started?: T;
  /** The error name the resource ignored (e.g. `ExecutionAlreadyExists`). */
  readonly ignored?: string;
  /** The decisions made on the role's call. */
  readonly decisions: RoleDecisionEntry[];
}

/**
 * Acts the custom resource's Create: decides StartExecution as its role, then starts the named
 * execution with its input through `startExecution` (which rejects with an error named
 * `ExecutionAlreadyExists` for a name in use). Throws DeployTimeStartFailed for a denial or any
 * error the resource does not ignore.
 */
export async function actDeployTimeStart<T>(
  start: DeployTimeStart,
  startExecution: (input: Json, name: string) => Promise<T>,
): Promise<DeployTimeStartOutcome<T>> {
  const role = new ServiceRole(start.role);
  const denial = await role.authorize(START_EXECUTION_ACTION, start.stateMachineArn);
  const fail = (code: string, message: string): never => {
    throw new DeployTimeStartFailed(start, code, message, role.decisions());
  };
  // Step Functions' answer to a caller the role does not allow (the SDK error's name).
  if (denial !== undefined) fail('AccessDeniedException', denial);
  try {
    return { started: await startExecution(start.input, start.executionName), decisions: role.decisions() };
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    const ignore = start.ignoreErrorCodesMatching;
    if (ignore !== undefined && new RegExp(ignore).test(name)) {
      return { ignored: name, decisions: role.decisions() };
    }
    return fail(name, error instanceof Error ? error.message : String(error));
  }
}
