/**
 * A realistic session of emulator calls, recorded by a proxy, validated request by request and
 * response by response against ECR's model (ecr-model.json, built by `npm run model` from the
 * installed SDK's schemas and botocore's constraints); a deliberately wrong response must fail.
 */
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  DescribeImageReplicationStatusCommand,
  DescribeImagesCommand,
  DescribeRegistryCommand,
  DescribeRepositoriesCommand,
  ImageFailureCode,
  InitiateLayerUploadCommand,
  ListImagesCommand,
  PutImageCommand,
  PutReplicationConfigurationCommand,
  UploadLayerPartCommand,
} from '@aws-sdk/client-ecr';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildDockerImage,
  buildOciImage,
  buildOciIndex,
  ecrClientFor,
  pushImage,
} from '../../ecr-emulator/index.ts';
import { ModelValidator, loadEcrModel } from '../../ecr-emulator/model/model-validator.ts';
import { startRecordingProxy, type RecordingProxy } from '../../ecr-emulator/model/recording-proxy.ts';
import { FAST, startHarness, type Harness } from './helpers.ts';

const REGION = 'ap-south-1';
const model = loadEcrModel();
const validator = new ModelValidator(model);

let h: Harness | undefined;
let proxy: RecordingProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await h?.close();
  proxy = undefined;
  h = undefined;
});

const ignore = (promise: Promise<unknown>) => promise.catch(() => undefined);

describe('the emulator against ECR’s model', () => {
  it('answers a realistic session with no violation', async () => {
    // Prepare
    h = await startHarness(FAST);
    proxy = await startRecordingProxy(h.emulator.endpoint);
    const ecr = ecrClientFor(proxy.endpoint, REGION);
    const account = '111111111111';

    // Act: the demo-like world, then errors.
    for (const repositoryName of ['shop/api', 'shop/web', 'a__b', 'a/b---c'])
      await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    await ecr.send(
      new PutReplicationConfigurationCommand({
        replicationConfiguration: {
          rules: [
            {
              destinations: [{ region: 'ap-northeast-2', registryId: account }],
              repositoryFilters: [{ filter: 'shop/', filterType: 'PREFIX_MATCH' }],
            },
          ],
        },
      }),
    );
    const docker = buildDockerImage('conformance/docker', { layers: 2 });
    const oci = buildOciImage('conformance/oci');
    const index = buildOciIndex('conformance/index');
    await pushImage(ecr, 'shop/api', docker, { tag: 'v1' });
    await pushImage(ecr, 'shop/web', oci, { tag: 'v1' });
    await pushImage(ecr, 'shop/web', index, { tag: 'multi' });
    await ecr.send(new DescribeRegistryCommand({}));
    await ecr.send(new DescribeRepositoriesCommand({ maxResults: 2 }));
    await ecr.send(
      new BatchGetImageCommand({
        repositoryName: 'shop/web',
        imageIds: [
          { imageTag: 'v1' },
          { imageTag: 'multi' },
          { imageTag: 'gone' },
          { imageDigest: 'sha256:xyz' },
        ],
      }),
    );
    await ecr.send(
      new PutImageCommand({
        repositoryName: 'shop/api',
        imageManifest: docker.manifest,
        imageTag: 'v1-copy',
      }),
    );
    await ecr.send(new DescribeImagesCommand({ repositoryName: 'shop/api' }));
    await ecr.send(new ListImagesCommand({ repositoryName: 'shop/web' }));
    await ecr.send(
      new DescribeImageReplicationStatusCommand({ repositoryName: 'shop/api', imageId: { imageTag: 'v1' } }),
    );
    await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: 'shop/api', imageIds: [{ imageTag: 'v1-copy' }] }),
    );
    const { uploadId } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName: 'a__b' }));
    await ignore(
      ecr.send(
        new UploadLayerPartCommand({
          repositoryName: 'a__b',
          uploadId,
          partFirstByte: 5,
          partLastByte: 9,
          layerPartBlob: Buffer.alloc(5),
        }),
      ),
    );
    await ignore(
      ecr.send(
        new CompleteLayerUploadCommand({ repositoryName: 'a__b', uploadId, layerDigests: [docker.digest] }),
      ),
    );
    await ignore(ecr.send(new DescribeImagesCommand({ repositoryName: 'nope/none' })));
    await ignore(
      ecr.send(new DescribeImagesCommand({ repositoryName: 'shop/api', imageIds: [{ imageTag: 'x' }] })),
    );
    await ignore(ecr.send(new CreateRepositoryCommand({ repositoryName: 'shop/api' })));
    await ignore(ecr.send(new CreateRepositoryCommand({ repositoryName: 'Bad__Name' })));
    ecr.destroy();

    // Assess
    const calls = proxy.calls;
    const operations = new Set(calls.map((call) => call.operation));
    expect(operations.size).toBeGreaterThanOrEqual(14);
    expect(calls.some((call) => call.status !== 200)).toBe(true);
    // A request the model refuses must be refused by the emulator too; every other must be valid.
    for (const call of calls.filter((c) => validator.request(c.operation, c.request).length > 0))
      expect(call.status, JSON.stringify(call.request)).toBe(400);
    expect(
      calls.some((c) => (c.response as { __type?: string }).__type?.endsWith('InvalidParameterException')),
    ).toBe(true);
    const violations = calls.flatMap((call) => [
      ...(call.status === 200 ? validator.request(call.operation, call.request) : []),
      ...validator.response(call.operation, call.status, call.response),
    ]);
    expect(violations).toEqual([]);
  });

  it('fails a deliberately wrong response', () => {
    expect(
      validator.response('BatchGetImage', 200, {
        images: [],
        failures: [{ imageId: { imageTag: 'v1' }, failureCode: 'UnsupportedImageType' }],
      }),
    ).toEqual([expect.stringContaining('is not one of')]);
    expect(
      validator.response('UploadLayerPart', 400, {
        __type: 'InvalidLayerPartException',
        message: 'gap',
        lastValidByteReceived: -1,
      }),
    ).toEqual([expect.stringContaining('< min 0')]);
    expect(
      validator.response('DescribeRegistry', 200, { registryId: '1', replicationConfiguration: {} }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringContaining('does not match'),
        expect.stringContaining('.rules: required'),
      ]),
    );
    expect(validator.response('PutImage', 400, { __type: 'MadeUpException', message: 'x' })).toEqual([
      expect.stringContaining('not an error of the model'),
    ]);
  });

  it('agrees with the installed SDK’s enums (drift fails here)', () => {
    const failure = model.shapes.ImageFailure;
    const code = failure?.type === 'structure' ? failure.members.failureCode : undefined;
    expect(code && 'enum' in code ? [...(code.enum ?? [])].sort() : undefined).toEqual(
      Object.values(ImageFailureCode).sort(),
    );
  });
});
