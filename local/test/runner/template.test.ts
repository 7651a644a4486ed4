import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStateMachine } from '../../runner/local-state-machine.ts';
import {
  bucketsFromTemplate,
  functionsFromTemplate,
  resourcesOfType,
  stateMachineFromTemplate,
  TokenResolver,
  type CfnTemplate,
} from '../../runner/template.ts';
import { startLocalS3, type LocalS3 } from '../../s3/index.ts';
import { putJsonLines } from './helpers.ts';

/** A small stack with the constructs the backfill uses: LambdaInvoke, Wait, DistributedMap + S3. */
function synthesize(): CfnTemplate {
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { '@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2': true },
  });
  const stack = new Stack(app, 'Tiny');
  const bucket = new s3.Bucket(stack, 'RunBucket');
  const code = lambda.Code.fromInline('exports.handler = async () => null');
  const step = (id: string) =>
    new lambda.Function(stack, `${id}Function`, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code,
      environment: { RUN_BUCKET: bucket.bucketName },
    });
  const plan = new tasks.LambdaInvoke(stack, 'Plan', {
    lambdaFunction: step('Plan'),
    payloadResponseOnly: true,
  });
  const map = new sfn.DistributedMap(stack, 'Items', {
    itemReader: new sfn.S3JsonLItemReader({ bucket, key: sfn.JsonPath.stringAt('$.itemsKey') }),
    itemBatcher: new sfn.ItemBatcher({ maxItemsPerBatch: 2, batchInput: { 'runId.$': '$.runId' } }),
    maxConcurrency: 2,
    label: 'Items',
    mapExecutionType: sfn.StateMachineType.STANDARD,
    resultWriterV2: new sfn.ResultWriterV2({
      bucket,
      prefix: sfn.JsonPath.format('runs/{}/results', sfn.JsonPath.stringAt('$.runId')),
    }),
    resultPath: '$.results',
  });
  map.itemProcessor(
    new sfn.Wait(stack, 'Pause', { time: sfn.WaitTime.duration(Duration.seconds(30)) }).next(
      new tasks.LambdaInvoke(stack, 'Work', { lambdaFunction: step('Work'), payloadResponseOnly: true }),
    ),
  );
  new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(plan.next(map)),
  });
  return app.synth().getStackByName('Tiny').template as CfnTemplate;
}

describe('a CDK-synthesized definition', () => {
  let local: LocalS3;
  let template: CfnTemplate;

  beforeAll(async () => {
    template = synthesize();
    local = await startLocalS3({ buckets: ['runbucket-local'] });
  });
  afterAll(async () => {
    await local.close();
  });

  it('resolves the template tokens to plain ASL, fake ARNs and the local bucket', () => {
    // Prepare
    const [bucketId = ''] = resourcesOfType(template, 'AWS::S3::Bucket');
    const resolver = new TokenResolver(template, {
      region: 'eu-west-1',
      account: '111122223333',
      physicalNames: { [bucketId]: 'runbucket-local' },
    });

    // Act
    const machine = stateMachineFromTemplate(template, resolver);
    const functions = functionsFromTemplate(template, resolver);

    // Assess
    const text = JSON.stringify(machine.definition);
    expect(text).not.toMatch(/Fn::|"Ref"/);
    expect(machine.definition.States.Plan?.Resource).toMatch(
      /^arn:aws:lambda:eu-west-1:111122223333:function:PlanFunction[0-9A-F]+$/,
    );
    expect(text).toContain('"Bucket":"runbucket-local"');
    expect(functions.map((f) => f.environment.RUN_BUCKET)).toEqual(['runbucket-local', 'runbucket-local']);
  });

  it('runs with handlers bound by state name, through the Distributed Map shim', async () => {
    // Prepare
    const [bucketId = ''] = resourcesOfType(template, 'AWS::S3::Bucket');
    const resolver = new TokenResolver(template, {
      region: 'us-east-1',
      account: '111122223333',
      physicalNames: { [bucketId]: 'runbucket-local' },
    });
    expect(bucketsFromTemplate(template, resolver)).toEqual({ [bucketId]: 'runbucket-local' });
    const { definition, name } = stateMachineFromTemplate(template, resolver);
    await putJsonLines(local.client, 'runbucket-local', 'runs/r1/items.jsonl', [
      { n: 1 },
      { n: 2 },
      { n: 3 },
    ]);
    const batches: unknown[] = [];
    const machine = new LocalStateMachine({
      definition,
      name,
      s3: local.client,
      timeScale: 0.001,
      lambdaHandlers: {
        Plan: () => Promise.resolve({ runId: 'r1', itemsKey: 'runs/r1/items.jsonl' }),
        Work: (event) => {
          batches.push(event);
          return Promise.resolve({ done: true });
        },
      },
    });

    // Act
    const execution = await machine.start({});

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(batches).toHaveLength(2);
    expect(batches).toContainEqual({ BatchInput: { runId: 'r1' }, Items: [{ n: 3 }] });
    const results = (execution.output as { results: { ResultWriterDetails: { Key: string } } }).results;
    expect(results.ResultWriterDetails.Key).toMatch(/^runs\/r1\/results\/[0-9a-f-]{36}\/manifest\.json$/);
    // Pause (Wait) + Work per child, Plan + Items in the parent.
    expect(machine.metrics.transitions).toBe(2 + 2 * 2);
  });
});
