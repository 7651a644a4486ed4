/**
 * A synthesized template with one grant taken out of one role's policies, as if the construct had
 * left it out: how the IAM tests show that the local world refuses what AWS would refuse.
 */
import type { CfnTemplate } from '../../local/synth/template-tokens.ts';

export interface GrantToRemove {
  /** The role's logical id (CDK appends a hash: match it with a pattern). */
  role: RegExp;
  action: string;
  /** Only from the statements whose resources mention this (default: every statement). */
  onResource?: string;
}

/** The template without `action` in the role's policies; throws when the role had no such grant. */
export function withoutRoleGrant(template: CfnTemplate, grant: GrantToRemove): CfnTemplate {
  const copy = structuredClone(template);
  const resources = copy.Resources ?? {};
  const roleId = Object.keys(resources).find((id) => grant.role.test(id));
  if (roleId === undefined) throw new Error(`The template has no role matching ${String(grant.role)}`);
  let removed = 0;
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    if (!JSON.stringify(resource.Properties?.Roles).includes(`"${roleId}"`)) continue;
    const document = resource.Properties?.PolicyDocument as {
      Statement: { Action: string | string[]; Resource?: unknown }[];
    };
    for (const statement of document.Statement) {
      if (grant.onResource !== undefined && !JSON.stringify(statement.Resource).includes(grant.onResource))
        continue;
      const actions = [statement.Action].flat();
      statement.Action = actions.filter((a) => a !== grant.action);
      removed += actions.length - statement.Action.length;
    }
    document.Statement = document.Statement.filter((s) => [s.Action].flat().length > 0);
  }
  if (removed === 0) throw new Error(`The role ${roleId} has no ${grant.action} grant to remove`);
  return copy;
}
