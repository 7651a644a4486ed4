/**
 * The one synthesis with CDK's built-in CloudFormation validation on (a WASM validator: several
 * seconds and ~400 MB), with every option so every resource type is checked.
 */
import { describe, expect, it } from 'vitest';
import { synthesizeBackfillStack } from '../../local/synth/synth.ts';
import { resourcesOfType } from './template-helpers.ts';

describe('CloudFormation validation', () => {
  it('accepts the synthesized template with every option set', () => {
    const template = synthesizeBackfillStack({
      cloudFormationValidation: true,
      backfill: {
        destinationRegions: ['eu-west-1'],
        repositoryPrefixes: ['team-a/'],
        destinationRoleArns: ['arn:aws:iam::111111111111:role/backfill-writer'],
        startOnDeploy: { input: {} },
        replication: { rules: [{ destinations: [{ region: 'eu-west-1' }], replicateDeletes: true }] },
      },
    });

    expect(resourcesOfType(template, 'AWS::StepFunctions::StateMachine')).toHaveLength(1);
    expect(resourcesOfType(template, 'Custom::StartBackfillExecution')).toHaveLength(1);
    expect(resourcesOfType(template, 'AWS::ECR::ReplicationConfiguration')).toHaveLength(1);
  });
});
