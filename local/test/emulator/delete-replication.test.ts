/**
 * Replication of deletes (https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-delete.html):
 * PutReplicationConfiguration accepts `deleteReplication` per rule, DescribeRegistry returns it, and
 * a rule that enables it replays tag removals and image deletions in its destinations.
 * The SDK models the member since 3.1178; a malformed value goes over raw awsJson1_1, which the SDK's
 * types would not let through.
 */
import {
  BatchDeleteImageCommand,
  PutReplicationConfigurationCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeRegistryWithDeleteReplication } from 'ecr-backfill/core';
import { buildDockerImage } from '../../ecr-emulator/index.ts';
import { TARGET_PREFIX } from '../../ecr-emulator/server.ts';
import { startHarness, type Harness } from './helpers.ts';

const SOURCE = 'ap-south-1';
const REPLAYING = 'ap-northeast-2';
const PLAIN = 'eu-west-1';
const ACCOUNT = '111111111111';

/** One awsJson1_1 call without the SDK, for a body its types refuse. */
async function rawCall(endpoint: string, operation: string, body: unknown, region = SOURCE) {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `${TARGET_PREFIX}${operation}`,
      authorization: `AWS4-HMAC-SHA256 Credential=AKIA${ACCOUNT}/20260101/${region}/ecr/aws4_request, SignedHeaders=host, Signature=x`,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('replication of deletes', () => {
  let h: Harness;
  let source: ECRClient;

  beforeEach(async () => {
    h = await startHarness({ replicationLatencyMs: 5 });
    source = h.client(SOURCE);
    await source.send(
      new PutReplicationConfigurationCommand({
        replicationConfiguration: {
          rules: [
            {
              destinations: [{ region: REPLAYING, registryId: ACCOUNT }],
              deleteReplication: { enabled: true },
            },
            { destinations: [{ region: PLAIN, registryId: ACCOUNT }] },
          ],
        },
      }),
    );
  });
  afterEach(() => h.close());

  /** An image in the source and both destinations with the same tags, as if replicated earlier. */
  const seedEverywhere = (tags: string[]) => {
    const image = buildDockerImage(`delete/${tags.join('-')}`);
    for (const region of [SOURCE, REPLAYING, PLAIN])
      h.emulator.seedImage({ region, repository: 'app' }, image, { tags });
    return image;
  };
  const tagsIn = (region: string, digest: string) =>
    h.emulator.world.getImage(ACCOUNT, region, 'app', digest)?.tags ?? null;

  it('returns deleteReplication from DescribeRegistry and validates it', async () => {
    // Act
    const registry = await describeRegistryWithDeleteReplication(source);
    const invalid = await rawCall(h.emulator.endpoint, 'PutReplicationConfiguration', {
      replicationConfiguration: {
        rules: [
          { destinations: [{ region: PLAIN, registryId: ACCOUNT }], deleteReplication: { enabled: 'yes' } },
        ],
      },
    });

    // Assess
    expect(registry.registryId).toBe(ACCOUNT);
    expect(registry.rules.map((r) => r.deleteReplication?.enabled)).toEqual([true, undefined]);
    expect(registry.rules[0]?.destinations).toEqual([{ region: REPLAYING, registryId: ACCOUNT }]);
    expect(invalid.status).toBe(400);
    expect(invalid.body.__type).toBe('InvalidParameterException');
    expect(String(invalid.body.message)).toMatch(/deleteReplication\.enabled/);
  });

  it('removes only that tag in the rule destinations when the source image keeps other tags', async () => {
    // Prepare
    const image = seedEverywhere(['v1', 'latest']);

    // Act
    await source.send(
      new BatchDeleteImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'latest' }] }),
    );
    await h.emulator.whenReplicationIdle();

    // Assess
    expect(tagsIn(SOURCE, image.digest)).toEqual(['v1']);
    expect(tagsIn(REPLAYING, image.digest)).toEqual(['v1']);
    // A rule without deleteReplication replays nothing.
    expect(tagsIn(PLAIN, image.digest)).toEqual(['v1', 'latest']);
  });

  it('deletes the image with all its tags in the destination when the last source tag goes', async () => {
    // Prepare: the destination holds one more tag on the digest than the source.
    const image = seedEverywhere(['only']);
    h.emulator.seedImage({ region: REPLAYING, repository: 'app' }, image, { tags: ['extra'] });

    // Act
    await source.send(
      new BatchDeleteImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'only' }] }),
    );
    await h.emulator.whenReplicationIdle();

    // Assess
    expect(tagsIn(SOURCE, image.digest)).toBeNull();
    expect(tagsIn(REPLAYING, image.digest)).toBeNull();
    expect(tagsIn(PLAIN, image.digest)).toEqual(['only']);
  });

  it('deletes the image in the destination when the source deletes it by digest', async () => {
    // Prepare
    const image = seedEverywhere(['a', 'b']);

    // Act
    await source.send(
      new BatchDeleteImageCommand({ repositoryName: 'app', imageIds: [{ imageDigest: image.digest }] }),
    );
    await h.emulator.whenReplicationIdle();

    // Assess
    expect(tagsIn(REPLAYING, image.digest)).toBeNull();
    expect(tagsIn(PLAIN, image.digest)).toEqual(['a', 'b']);
  });

  it('replays a tag removal even where the destination tag points elsewhere (the harsh reading)', async () => {
    // Prepare
    const image = seedEverywhere(['v1', 'shared']);
    const other = buildDockerImage('delete/other');
    h.emulator.seedImage({ region: REPLAYING, repository: 'app' }, other, { tags: ['shared', 'keep'] });

    // Act
    await source.send(
      new BatchDeleteImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'shared' }] }),
    );
    await h.emulator.whenReplicationIdle();

    // Assess
    expect(tagsIn(REPLAYING, other.digest)).toEqual(['keep']);
    expect(tagsIn(REPLAYING, image.digest)).toEqual(['v1']);
  });
});
