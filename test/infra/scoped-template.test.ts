/**
 * The construct with every scoping option: Regions, prefixes, destination roles, deploy-time start,
 * managed replication. One synthesis for the assertions, a few small ones for name determinism.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_STEPS, type LambdaStepName } from '../../core/steps.ts';
import {
  EcrReplicationBackfill,
  RESULT_WRITER_V2_FLAG,
  type EcrReplicationBackfillProps,
} from '../../infra/backfill-construct.ts';
import type { BackfillStack } from '../../infra/backfill-stack.ts';
import type { CfnTemplate } from '../../local/synth/definition-from-template.ts';
import { STEP_PROFILES } from '../../infra/step-profiles.ts';
import { createBackfillApp, synthesizeBackfillStack } from '../../local/synth/synth.ts';
import {
  allStatements,
  asArray,
  resourcesFor,
  resourcesOfType,
  stepFunctions,
  stepStatements,
} from './template-helpers.ts';

const STEPS = Object.keys(LAMBDA_STEPS) as LambdaStepName[];
const ROLES = [
  'arn:aws:iam::111111111111:role/backfill-writer',
  'arn:aws:iam::222222222222:role/backfill-writer',
];
const PROPS: EcrReplicationBackfillProps = {
  sourceRegion: 'us-east-1',
  destinationRegions: ['eu-west-1', 'ap-southeast-2'],
  repositoryPrefixes: ['team-a/', 'shared/'],
  destinationRoleArns: ROLES,
  defaultInput: { batchSize: 10 },
  putImageRatePerSecond: 20,
  concurrentPushers: 4,
  startOnDeploy: { input: { dryRun: true } },
  replication: {
    rules: [
      {
        destinations: [{ region: 'eu-west-1' }, { region: 'ap-southeast-2', registryId: '333333333333' }],
        repositoryPrefixes: ['team-a/'],
        replicateDeletes: true,
      },
    ],
  },
};

let stack: BackfillStack;
let json: CfnTemplate;
let template: Template;

beforeAll(() => {
  const created = createBackfillApp({ backfill: PROPS });
  stack = created.stack;
  json = created.app.synth().getStackArtifact(stack.artifactId).template as CfnTemplate;
  template = Template.fromJSON(json);
});

const repositories = (region: string, names: string[]) =>
  names.map((name) => `arn:<AWS::Partition>:ecr:${region}:<AWS::AccountId>:repository/${name}`);

/** The execution name the deploy-time custom resource passes to StartExecution. */
function deployExecutionName(templateJson: CfnTemplate): string {
  const [[, resource] = []] = resourcesOfType(templateJson, 'Custom::StartBackfillExecution');
  const match = /"name\\?":\\?"(deploy-[0-9a-f]+)\\?"/.exec(JSON.stringify(resource?.Properties?.Create));
  if (!match?.[1]) throw new Error('No execution name in the custom resource');
  return match[1];
}

describe('ECR permissions with Regions and prefixes', () => {
  it('scopes writes to the prefixes, in the source Region for source writes and the destinations for destination writes', () => {
    expect(resourcesFor(stepStatements(json, 'PushTempTags'), 'ecr:PutImage').sort()).toEqual(
      repositories('us-east-1', ['team-a/*', 'shared/*']).sort(),
    );
    expect(resourcesFor(stepStatements(json, 'PromoteTags'), 'ecr:PutImage').sort()).toEqual(
      [
        ...repositories('eu-west-1', ['team-a/*', 'shared/*']),
        ...repositories('ap-southeast-2', ['team-a/*', 'shared/*']),
      ].sort(),
    );
    expect(resourcesFor(stepStatements(json, 'CleanupTempTags'), 'ecr:BatchDeleteImage')).toHaveLength(6);
  });

  it('reads every repository, in the source Region for its source reads and the destination Regions for the rest', () => {
    for (const step of STEPS) {
      const { sourceReads, destinationReads } = STEP_PROFILES[step];
      for (const action of new Set([...sourceReads, ...destinationReads])) {
        expect(resourcesFor(stepStatements(json, step), action).sort(), `${step} ${action}`).toEqual(
          [
            ...(sourceReads.includes(action) ? repositories('us-east-1', ['*']) : []),
            ...(destinationReads.includes(action)
              ? [...repositories('eu-west-1', ['*']), ...repositories('ap-southeast-2', ['*'])]
              : []),
          ].sort(),
        );
      }
    }
  });

  it('lets only the steps that call selected destinations assume exactly the destination roles', () => {
    for (const step of STEPS) {
      expect(resourcesFor(stepStatements(json, step), 'sts:AssumeRole').sort(), step).toEqual(
        STEP_PROFILES[step].assumesDestinationRoles ? [...ROLES].sort() : [],
      );
    }
  });

  it('still grants no wildcard action', () => {
    const actions = allStatements(json).flatMap(({ statement }) => asArray(statement.Action));
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });
});

describe('function settings from props', () => {
  it('passes the source Region, the default input, each invocation share of the PutImage quota and the whole rate', () => {
    for (const [step, fn] of stepFunctions(json)) {
      expect(fn.Properties?.Environment, step).toMatchObject({
        Variables: {
          SOURCE_REGION: 'us-east-1',
          DEFAULT_INPUT: '{"batchSize":10}',
          PUT_IMAGE_RATE: '5',
          PUT_IMAGE_QUOTA: '20',
        },
      });
    }
  });
});

describe('managed replication (opt-in)', () => {
  it('renders the rules, defaulting a destination registry to this account, with DeleteReplication where asked', () => {
    template.hasResourceProperties('AWS::ECR::ReplicationConfiguration', {
      ReplicationConfiguration: {
        Rules: [
          {
            Destinations: [
              { Region: 'eu-west-1', RegistryId: { Ref: 'AWS::AccountId' } },
              { Region: 'ap-southeast-2', RegistryId: '333333333333' },
            ],
            RepositoryFilters: [{ Filter: 'team-a/', FilterType: 'PREFIX_MATCH' }],
            DeleteReplication: { Enabled: true },
          },
        ],
      },
    });
  });
});

describe('start on deploy', () => {
  it('calls StartExecution once per definition and input, ignoring ExecutionAlreadyExists, without installing an SDK', () => {
    const [[, resource] = []] = resourcesOfType(json, 'Custom::StartBackfillExecution');
    const create = JSON.stringify(resource?.Properties?.Create);

    expect(create).toContain('StartExecution');
    expect(create).toContain('ExecutionAlreadyExists');
    expect(create).toContain(String.raw`\"input\":\"{\\\"dryRun\\\":true}\"`);
    expect(resource?.Properties?.Update).toEqual(resource?.Properties?.Create);
    expect(resource?.Properties?.InstallLatestAwsSdk).toBe(false);
    expect(deployExecutionName(json)).toMatch(/^deploy-[0-9a-f]{40}$/);
  });

  it('runs on a role that may only start this state machine and write its own logs', () => {
    const [[, resource] = []] = resourcesOfType(json, 'Custom::StartBackfillExecution');
    const providerId = (resource?.Properties?.ServiceToken as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    const provider = json.Resources?.[providerId ?? ''];
    const roleId = (provider?.Properties?.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    const statements = allStatements(json)
      .filter(({ roles }) => roles.includes(`<${roleId}>`))
      .map(({ statement }) => statement);
    const stateMachineId = resourcesOfType(json, 'AWS::StepFunctions::StateMachine')[0]?.[0];

    expect(statements.flatMap((statement) => asArray(statement.Action)).sort()).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'states:StartExecution',
    ]);
    expect(resourcesFor(statements, 'states:StartExecution')).toEqual([`<${stateMachineId}>`]);
    expect(json.Resources?.[roleId ?? '']?.Properties?.ManagedPolicyArns).toBeUndefined();
  });

  it('names the execution after the definition and the input: same again, different when either changes', () => {
    const same = synthesizeBackfillStack({ backfill: PROPS });
    const otherInput = synthesizeBackfillStack({
      backfill: { ...PROPS, startOnDeploy: { input: { dryRun: false } } },
    });
    const otherDefinition = synthesizeBackfillStack({ backfill: { ...PROPS, planSliceConcurrency: 3 } });

    expect(deployExecutionName(same)).toBe(deployExecutionName(json));
    expect(deployExecutionName(otherInput)).not.toBe(deployExecutionName(json));
    expect(deployExecutionName(otherDefinition)).not.toBe(deployExecutionName(json));
  });
});

describe('cdk-nag AWS Solutions checks with every option', () => {
  it('report no unacknowledged finding', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
  });

  it('report none either for a stack with an explicit account and Region (literal ARNs)', () => {
    const explicit = createBackfillApp({
      backfill: PROPS,
      env: { account: '123456789012', region: 'us-east-1' },
    });
    explicit.app.synth();

    const report = new AwsSolutionsChecks().validateScope(explicit.stack);

    expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
  });
});

describe('the construct in any app', () => {
  it('renders the ResultWriters even when the app did not set the ResultWriterV2 flag', () => {
    const app = new App({
      builtinCloudFormationValidation: false,
      context: { 'aws:cdk:bundling-stacks': [] },
    });
    const other = new Stack(app, 'Other');
    new EcrReplicationBackfill(other, 'Backfill');

    const definition = JSON.stringify(
      Template.fromStack(other).findResources('AWS::StepFunctions::StateMachine'),
    );

    expect(app.node.tryGetContext(RESULT_WRITER_V2_FLAG)).toBeUndefined();
    expect(definition.match(/ResultWriter/g)).toHaveLength(2);
  });

  it.each([
    [
      // Valid tag patterns, 20 of 200 characters: within the schema, beyond the environment's room.
      { defaultInput: { tags: Array.from({ length: 20 }, (_, i) => `${'x'.repeat(200)}${i}`) } },
      /defaultInput and the run policy must serialize to at most/,
    ],
    [{ concurrentPushers: 0 }, /concurrentPushers must be positive/],
    [{ destinationRoleArns: ['backfill-writer'] }, /destinationRoleArns must be role ARNs/],
    [{ replication: { rules: [] } }, /at least one rule/],
    [
      {
        replication: {
          rules: Array.from({ length: 11 }, () => ({ destinations: [{ region: 'eu-west-1' }] })),
        },
      },
      /at most 10 rules/,
    ],
  ] satisfies Array<[EcrReplicationBackfillProps, RegExp]>)(
    'rejects invalid props at synth: %#',
    (props, message) => {
      const stackOf = () => new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Invalid');

      expect(() => new EcrReplicationBackfill(stackOf(), 'Backfill', props)).toThrow(message);
    },
  );
});
