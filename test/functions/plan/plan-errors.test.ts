/**
 * Plan's error branches and limits with a mocked ECR client (aws-sdk-client-mock) and the real
 * local S3: SDK errors become the named step errors, and a failed listing leaves nothing behind.
 */
import { silentMetrics } from '../../../core/metrics.ts';
import { S3RunStore } from '../../../core/run-files/s3-run-store.ts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DescribeRegistryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ECRServiceException,
} from '@aws-sdk/client-ecr';
import { startLocalS3, type LocalS3 } from '../../../local/s3/index.ts';
import type { StepDeps } from '../../../core/deps.ts';
import { systemClock } from '../../../core/deps.ts';
import { createLogger } from '../../../functions/lambda/powertools-logger.ts';
import { PlanSliceItemSchema } from '../../../core/contracts/contracts.ts';
import { listObjects, readJsonLines } from '../../../core/run-files/run-store.ts';
import { MAX_SLICE_NAME_BYTES, plan } from '../../../functions/plan/plan.ts';
import { createPlanHandler } from '../../../functions/plan/handler.ts';

const BUCKET = 'runs';
const ACCOUNT = '111111111111';
const RULES = { rules: [{ destinations: [{ region: 'ap-northeast-2', registryId: ACCOUNT }] }] };

let s3: LocalS3;
const client = new ECRClient({ region: 'ap-south-1' });
const ecr = mockClient(client);

beforeAll(async () => {
  s3 = await startLocalS3({ buckets: [BUCKET] });
});
afterAll(async () => {
  client.destroy();
  await s3.close();
});
beforeEach(() => {
  ecr.reset();
});

const deps = (): StepDeps => ({
  ecr: () => client,
  runStore: new S3RunStore(s3.client),
  clock: systemClock,
  logger: createLogger({ logLevel: 'SILENT' }),
  metrics: silentMetrics,
  env: { runBucket: BUCKET, sourceRegion: 'ap-south-1', defaultInput: {}, putImageRatePerSecond: 10 },
});

function serviceError(name: string, status: number): ECRServiceException {
  return new ECRServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

async function keys(prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const object of listObjects(new S3RunStore(s3.client), BUCKET, prefix)) found.push(object.key);
  return found;
}

describe('Plan error mapping', () => {
  it.each([
    ['ThrottlingException', 400, 'Throttled'],
    ['AccessDeniedException', 400, 'AccessDenied'],
    ['ServerException', 500, 'Transient'],
  ])('turns %s from DescribeRegistry into %s', async (awsName, status, stepName) => {
    ecr.on(DescribeRegistryCommand).rejects(serviceError(awsName, status));

    const error = await plan({ input: {}, executionName: `err-${stepName}` }, deps()).catch(
      (e: unknown) => e,
    );

    expect((error as Error).name).toBe(stepName);
    expect((error as Error).message).toContain('ECR DescribeRegistry in ap-south-1');
    expect(await keys(`runs/err-${stepName}/`)).toEqual([]);
  });

  it('writes nothing but the run claim when the repository listing fails on a later page', async () => {
    ecr.on(DescribeRegistryCommand).resolves({ registryId: ACCOUNT, replicationConfiguration: RULES });
    ecr
      .on(DescribeRepositoriesCommand)
      .resolvesOnce({
        repositories: Array.from({ length: 1000 }, (_, i) => ({ repositoryName: `repo-${i}` })),
        nextToken: 'page-2',
      })
      .rejects(serviceError('ThrottlingException', 400));

    const error = await plan({ input: { planSliceSize: 10 }, executionName: 'listing-fails' }, deps()).catch(
      (e: unknown) => e,
    );

    expect((error as Error).name).toBe('Throttled');
    expect(await keys('runs/listing-fails/')).toEqual(['runs/listing-fails/execution.json']);
    expect(ecr).toHaveReceivedCommandWith(DescribeRepositoriesCommand, {
      nextToken: 'page-2',
      maxResults: 1000,
    });
  });

  it('rejects a malformed event as InvalidInput', async () => {
    const error = await createPlanHandler(deps())({ input: {} }).catch((e: unknown) => e);

    expect((error as Error).name).toBe('InvalidInput');
    expect((error as Error).message).toContain('Plan event executionName');
    expect(ecr).not.toHaveReceivedAnyCommand();
  });
});

describe('Plan slicing limits', () => {
  it('cuts slices by bytes of names as well as by count, so a slice always fits in a state', async () => {
    const longNames = Array.from(
      { length: 1000 },
      (_, i) => `${'n'.repeat(240)}-${String(i).padStart(4, '0')}`,
    );
    ecr.on(DescribeRegistryCommand).resolves({ registryId: ACCOUNT, replicationConfiguration: RULES });
    ecr
      .on(DescribeRepositoriesCommand)
      .resolves({ repositories: longNames.map((repositoryName) => ({ repositoryName })) });

    const context = await plan({ input: { planSliceSize: 1000 }, executionName: 'long-names' }, deps());

    const slices = [];
    for await (const slice of readJsonLines(
      new S3RunStore(s3.client),
      BUCKET,
      context.slices.key,
      PlanSliceItemSchema,
    ))
      slices.push(slice);
    expect(slices.length).toBeGreaterThan(1);
    expect(context.slices.count).toBe(slices.length);
    expect(slices.flatMap((s) => s.repositories)).toEqual(longNames);
    for (const slice of slices) {
      expect(Buffer.byteLength(JSON.stringify(slice))).toBeLessThan(MAX_SLICE_NAME_BYTES + 1024);
    }
  });
});
