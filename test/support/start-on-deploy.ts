/**
 * The start-on-deploy custom resource's role in a synthesized template, and the template with its
 * states:StartExecution grant taken out (as if the construct had left it out), for the tests of the
 * deploy-time start (local/runner/deploy-time-start.ts).
 */
import type { CfnTemplate } from '../../local/synth/template-tokens.ts';
import { withoutRoleGrant } from './template-grants.ts';

/** The logical id CDK gives the custom resource's role (infra/start-on-deploy.ts). */
export const START_ON_DEPLOY_ROLE_ID = /^BackfillStartOnDeployRole[0-9A-F]+$/;

/** The template with states:StartExecution taken out of the start-on-deploy role's policies. */
export function withoutStartGrant(template: CfnTemplate): CfnTemplate {
  return withoutRoleGrant(template, { role: START_ON_DEPLOY_ROLE_ID, action: 'states:StartExecution' });
}
