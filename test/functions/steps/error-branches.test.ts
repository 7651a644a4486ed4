/**
 * How steps surface ECR errors (aws-sdk-client-mock, no emulator): per-item errors never stop the
 * other items; the step then throws one named error for Step Functions to act on.
 */
import { silentMetrics } from '../../../core/metrics.ts';
import { MemoryRunStore } from '../../../core/run-files/memory-run-store.ts';
import {
  BatchGetImageCommand,
  DescribeImageReplicationStatusCommand,
  DescribeRegistryCommand,
  ECRClient,
  ECRServiceException,
  LayersNotFoundException,
  PutImageCommand,
  type ImageIdentifier,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BatchState, Destination, WorkItem } from '../../../core/contracts/contracts.ts';
import type { StepDeps } from '../../../core/deps.ts';
import { ERROR_NAMES } from '../../../core/errors/error-names.ts';
import { createLogger } from '../../../functions/lambda/powertools-logger.ts';
import { createCheckReplicationHandler } from '../../../functions/check-replication/handler.ts';
import { createPromoteTagsHandler } from '../../../functions/promote-tags/handler.ts';
import { createPushTempTagsHandler } from '../../../functions/push-temp-tags/handler.ts';
import { batchInput, batchState, SOURCE_ACCOUNT } from './support/harness.ts';

const ecrMock = mockClient(ECRClient);
const DENIED: Destination = { region: 'us-west-2', registryId: '222222222222' };
const ALLOWED: Destination = { region: 'eu-west-1', registryId: '333333333333' };
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const MANIFEST = '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}';

const deps: StepDeps = {
  ecr: (target) => new ECRClient({ region: target.region }),
  // Never reached: these branches fail before any run file is read or written.
  runStore: new MemoryRunStore(),
  clock: { now: () => 1_000_000 },
  logger: createLogger({ logLevel: 'SILENT' }),
  metrics: silentMetrics,
  env: {
    runBucket: 'runs',
    sourceRegion: 'ap-south-1',
    defaultInput: {},
    putImageRatePerSecond: Number.POSITIVE_INFINITY,
  },
};

const item = (n: number, destinations: Destination[]): WorkItem => ({
  repositoryName: `app/${n}`,
  imageDigest: digest(n),
  imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  tags: ['v1'],
  destinations: destinations.map((d) => ({ ...d, tags: ['v1'], digestPresent: false })),
});

const serverError = (name: string, status: number) =>
  new ECRServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message: name,
  });

beforeEach(() => ecrMock.reset());
afterEach(() => ecrMock.reset());

describe('PromoteTags', () => {
  it('promotes in the destinations it may write to, then throws AccessDenied for the one it may not', async () => {
    // Prepare: every read in the source and ALLOWED answers "v1 → digest(1)", reads in DENIED are refused.
    const input = batchInput({ strategy: 'promote' });
    const state: BatchState = {
      ...batchState(input, [item(1, [DENIED, ALLOWED])]),
    };
    state.results = [
      {
        repositoryName: 'app/1',
        imageDigest: digest(1),
        tempTag: 'tmp',
        pushedAt: 1,
        destinations: [DENIED, ALLOWED].map((d) => ({
          ...d,
          replication: 'COMPLETE' as const,
          tags: { v1: 'PENDING' as const },
        })),
      },
    ];
    ecrMock
      .on(BatchGetImageCommand, { registryId: DENIED.registryId })
      .rejects(serverError('AccessDeniedException', 400));
    ecrMock.on(BatchGetImageCommand, { registryId: SOURCE_ACCOUNT }).resolves({
      images: [{ imageId: { imageTag: 'v1', imageDigest: digest(1) }, imageManifest: MANIFEST }],
    });
    // ALLOWED: `v1` is not there yet, the replicated manifest is (PromoteTags reads both in one call).
    ecrMock.on(BatchGetImageCommand, { registryId: ALLOWED.registryId }).resolves({
      images: [{ imageId: { imageDigest: digest(1) }, imageManifest: MANIFEST }],
      failures: [{ imageId: { imageTag: 'v1' }, failureCode: 'ImageNotFound' }],
    });
    ecrMock.on(PutImageCommand).resolves({});

    // Act
    const promoted = createPromoteTagsHandler(deps)(state);

    // Assess
    await expect(promoted).rejects.toMatchObject({ name: ERROR_NAMES.AccessDenied });
    expect(ecrMock).toHaveReceivedCommandTimes(PutImageCommand, 1);
    expect(ecrMock).toHaveReceivedCommandWith(PutImageCommand, {
      registryId: ALLOWED.registryId,
      imageTag: 'v1',
      imageManifest: MANIFEST,
      imageDigest: digest(1),
    });
  });
});

describe('CheckReplication', () => {
  it('checks every item, then throws Transient when ECR answered one of them with a 5xx', async () => {
    // Prepare
    const input = batchInput({ strategy: 'promote' });
    const state = batchState(input, [item(1, [ALLOWED]), item(2, [ALLOWED])]);
    state.results = [1, 2].map((n) => ({
      repositoryName: `app/${n}`,
      imageDigest: digest(n),
      tempTag: 'tmp',
      pushedAt: 1_000_000,
      destinations: [{ ...ALLOWED, replication: 'PENDING' as const, tags: { v1: 'PENDING' as const } }],
    }));
    ecrMock
      .on(DescribeImageReplicationStatusCommand, { repositoryName: 'app/1' })
      .rejects(serverError('ServerException', 500));
    ecrMock.on(DescribeImageReplicationStatusCommand, { repositoryName: 'app/2' }).resolves({
      replicationStatuses: [{ ...ALLOWED, status: 'IN_PROGRESS' }],
    });

    // Act
    const checked = createCheckReplicationHandler(deps)(state);

    // Assess
    await expect(checked).rejects.toMatchObject({ name: ERROR_NAMES.Transient });
    expect(ecrMock).toHaveReceivedCommandWith(DescribeImageReplicationStatusCommand, {
      repositoryName: 'app/2',
    });
  });
});

describe('PushTempTags', () => {
  it('pushes the other items, then lets an unexpected ECR error through unchanged', async () => {
    // Prepare
    const input = batchInput({ strategy: 'promote' });
    const state = batchState(input, [item(1, [ALLOWED]), item(2, [ALLOWED])]);
    // Each manifest exists (asked for by digest); no temp tag does yet (asked for by tag).
    ecrMock.on(BatchGetImageCommand).callsFake((request: { imageIds: ImageIdentifier[] }) => ({
      images: request.imageIds.flatMap(({ imageDigest }) =>
        imageDigest ? [{ imageId: { imageDigest }, imageManifest: MANIFEST }] : [],
      ),
      failures: request.imageIds
        .filter((imageId) => !imageId.imageDigest)
        .map((imageId) => ({ imageId, failureCode: 'ImageNotFound' })),
    }));
    ecrMock.on(DescribeRegistryCommand).resolves({ replicationConfiguration: { rules: [] } });
    ecrMock
      .on(PutImageCommand, { repositoryName: 'app/1' })
      .rejects(new LayersNotFoundException({ message: 'layers missing', $metadata: {} }));
    ecrMock.on(PutImageCommand, { repositoryName: 'app/2' }).resolves({});

    // Act
    const pushed = createPushTempTagsHandler(deps)(state);

    // Assess
    await expect(pushed).rejects.toBeInstanceOf(LayersNotFoundException);
    expect(ecrMock).toHaveReceivedCommandWith(PutImageCommand, { repositoryName: 'app/2' });
  });
});
