/**
 * The runner's side of IAM in the local world: every Lambda step calls ECR as its function's role,
 * with credentials that identify that role's session to the emulator, which evaluates the call
 * against the role's policies from the synthesized template (local/iam/). The runner registers the
 * template's roles with the emulator before the execution starts, as deploying the stack creates them.
 */
import type { CfnTemplate, TokenResolver } from '../synth/template-tokens.ts';
import {
  principalsFromTemplate,
  roleOfFunction,
  type TemplatePrincipal,
} from '../iam/template-principals.ts';
import type { TemplateFunction } from './template.ts';

/** Where the emulator takes registrations (local/ecr-emulator/iam/principals.ts). */
const REGISTRATION_PATH = '/_local/iam/principals';

export interface FunctionPrincipals {
  /** The principal each function (by logical id) runs as. */
  byFunction: Map<string, TemplatePrincipal>;
  all: TemplatePrincipal[];
}

export function functionPrincipals(
  template: CfnTemplate,
  resolver: TokenResolver,
  account: string,
  functions: readonly TemplateFunction[],
): FunctionPrincipals {
  const principals = principalsFromTemplate(template, resolver, account);
  const byFunction = new Map<string, TemplatePrincipal>();
  for (const fn of functions) {
    const role = roleOfFunction(template, fn.logicalId);
    const principal = role ? principals.get(role) : undefined;
    if (!principal) throw new Error(`The function ${fn.logicalId} has no role of the template to run as`);
    byFunction.set(fn.logicalId, principal);
  }
  return { byFunction, all: [...principals.values()] };
}

/** Registers the principals with the ECR emulator at `endpoint`; an endpoint that refuses fails the run. */
export async function registerPrincipals(
  endpoint: string,
  principals: readonly TemplatePrincipal[],
): Promise<void> {
  const body = JSON.stringify({
    principals: principals.map(({ accessKeyId, arn, account, roleArn, identityPolicies }) => ({
      accessKeyId,
      arn,
      account,
      roleArn,
      identityPolicies,
    })),
  });
  const url = new URL(REGISTRATION_PATH, endpoint);
  const response = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  if (!response.ok) {
    throw new Error(
      `The ECR endpoint ${endpoint} did not take the template's IAM principals (HTTP ${response.status}: ${await response.text()}); the local runner needs the ECR emulator`,
    );
  }
}
