/**
 * The local S3 answers create-only writes (`If-None-Match: *`) as Amazon S3 does (412 when the key
 * exists, 409 ConditionalRequestConflict while another one of the key is in progress:
 * local/s3/conditional-writes.ts), so the run claim's race path runs here: of writers creating the
 * same key at once, exactly one wins, whatever the 409s in between (retried by S3RunStore.create).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getText, S3RunStore } from 'ecr-backfill/core';
import { startLocalS3, type LocalS3 } from '../../s3/index.ts';

const BUCKET = 'run-bucket';

describe('local S3: conditional writes', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: [BUCKET] });
  });
  afterAll(async () => {
    await s3.close();
  });

  const createOnly = (key: string, body: string) =>
    s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, IfNoneMatch: '*' }));

  it('answers 412 PreconditionFailed to a create-only PutObject of an existing key, and keeps the object', async () => {
    // Prepare
    await createOnly('runs/a/execution.json', 'first');

    // Act
    const second = await createOnly('runs/a/execution.json', 'second').then(
      () => undefined,
      (error: unknown) => error as { name: string; $metadata: { httpStatusCode?: number } },
    );

    // Assess
    expect(second?.name).toBe('PreconditionFailed');
    expect(second?.$metadata.httpStatusCode).toBe(412);
    const store = new S3RunStore(s3.client);
    expect(await getText(store, BUCKET, 'runs/a/execution.json')).toBe('first');
  });

  it('lets exactly one of many concurrent creators of a key win, the others told it exists', async () => {
    // Prepare
    const store = new S3RunStore(s3.client);
    const writers = Array.from({ length: 8 }, (_, i) => `writer-${i}`);

    // Act
    const created = await Promise.all(
      writers.map((w) => store.create(BUCKET, 'runs/b/execution.json', Buffer.from(w), 'text/plain')),
    );

    // Assess
    expect(created.filter(Boolean)).toHaveLength(1);
    const winner = writers[created.indexOf(true)];
    expect(await getText(store, BUCKET, 'runs/b/execution.json')).toBe(winner);
  });

  it('answers 409 ConditionalRequestConflict to a create-only PutObject while another of the key is in progress', async () => {
    // Act: raw SDK calls (no retry on 409 in S3RunStore here), started together.
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        createOnly('runs/c/execution.json', `raw-${i}`).then(
          () => 'created',
          (error: unknown) => (error as { name: string }).name,
        ),
      ),
    );

    // Assess: one created; every other one refused, as in progress (409) or existing (412).
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
    expect(
      outcomes
        .filter((o) => o !== 'created')
        .every((o) => o === 'ConditionalRequestConflict' || o === 'PreconditionFailed'),
    ).toBe(true);
    expect(outcomes).toContain('ConditionalRequestConflict');
  });
});
