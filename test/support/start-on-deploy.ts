/**
 * The start-on-deploy custom resource's role in a synthesized template, and the template with its
 * states:StartExecution grant taken out (as if the construct had left it out), for the tests of the
 * deploy-time start (local/runner/deploy-time-start.ts).
 */
import type { CfnTemplate } from '../../local/synth/template-tokens.ts';

/** The logical id CDK gives the custom resource's role (infra/start-on-deploy.ts). */
export const START_ON_DEPLOY_ROLE_ID = /^BackfillStartOnDeployRole[0-9A-F]+$/;

/** The template with states:StartExecution taken out of the start-on-deploy role's policies. */
export function withoutStartGrant(template: CfnTemplate): CfnTemplate {
  const copy = structuredClone(template);
  const resources = copy.Resources ?? {};
  const roleId = Object.keys(resources).find((id) => START_ON_DEPLOY_ROLE_ID.test(id));
  let removed = 0;
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    if (!JSON.stringify(resource.Properties?.Roles).includes(`"${roleId}"`)) continue;
    const document = resource.Properties?.PolicyDocument as { Statement: { Action: string | string[] }[] };
    for (const statement of document.Statement) {
      const actions = [statement.Action].flat();
      statement.Action = actions.filter((a) => a !== 'states:StartExecution');
      removed += actions.length - statement.Action.length;
    }
    document.Statement = document.Statement.filter((s) => [s.Action].flat().length > 0);
  }
  if (removed === 0) throw new Error('The start-on-deploy role has no states:StartExecution grant');
  return copy;
}
