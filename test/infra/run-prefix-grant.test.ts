/** The state machine reaches the run bucket's run prefix only, never the whole bucket. */
import { describe, expect, it } from 'vitest';
import { synthesizeBackfillStack } from '../../local/synth/synth.ts';
import { allStatements, asArray, flatten, resourcesOfType } from './template-helpers.ts';

describe("the state machine role's S3 access", () => {
  it('covers runs/* of the run bucket: the Distributed Map reader and writer grants are narrowed', () => {
    const template = synthesizeBackfillStack();
    const [roleId] =
      resourcesOfType(template, 'AWS::IAM::Role').find(([id]) => id.includes('StateMachineRole')) ?? [];
    expect(roleId).toBeDefined();

    const objectResources = allStatements(template)
      .filter(({ roles }) => roles.includes(`<${roleId}>`))
      .filter(({ statement }) => asArray(statement.Action).some((action) => action.endsWith('Object')))
      .flatMap(({ statement }) => asArray(statement.Resource).map(flatten));

    expect(objectResources.length).toBeGreaterThan(0);
    for (const resource of objectResources)
      expect(resource).toMatch(/^arn:<AWS::Partition>:s3:::<\w+>\/runs\/\*$/);
  });
});
