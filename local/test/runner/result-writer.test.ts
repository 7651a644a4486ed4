import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeResults, type ChildResult, type Manifest } from '../../runner/distributed-map/result-writer.ts';
import { startLocalS3, type LocalS3 } from '../../s3/index.ts';

const BUCKET = 'results';

const child = (name: string, status: ChildResult['status'] | 'TIMED_OUT'): ChildResult => ({
  executionArn: `arn:aws:states:us-east-1:123456789012:execution:sm/BackfillImages:${name}`,
  stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:sm/BackfillImages',
  name,
  input: { Items: [name] },
  ...(status === 'SUCCEEDED' ? { output: { ok: true } } : {}),
  ...(status === 'SUCCEEDED' || status === 'PENDING' ? {} : { error: 'States.Aborted', cause: 'stopped' }),
  status: status as ChildResult['status'],
  redriveCount: 0,
});

describe('ResultWriter files', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: [BUCKET] });
  });
  afterAll(async () => {
    await s3.close();
  });

  const readJson = async <T>(key: string): Promise<T> => {
    const object = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return JSON.parse(await (object.Body?.transformToString() ?? '')) as T;
  };

  it('puts failed, aborted and timed-out children in FAILED files and only unstarted ones in PENDING', async () => {
    // Prepare: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
    const children = [
      child('ok', 'SUCCEEDED'),
      child('failed', 'FAILED'),
      child('aborted', 'ABORTED'),
      child('timed-out', 'TIMED_OUT'),
      child('never-started', 'PENDING'),
    ];

    // Act
    const details = await writeResults(
      s3.client,
      { bucket: BUCKET, prefix: 'runs/r1', mapRunId: 'm1', mapRunArn: 'arn:map', maxFileBytes: 1 << 20 },
      children,
    );

    // Assess
    const manifest = await readJson<Manifest>(details.Key);
    const names = async (files: { Key: string }[]) =>
      (
        await Promise.all(
          files.map((f) => readJson<{ Name: string; Status: string; Error?: string }[]>(f.Key)),
        )
      ).flat();
    const failed = await names(manifest.ResultFiles.FAILED);
    expect(failed.map((r) => [r.Name, r.Status])).toEqual([
      ['failed', 'FAILED'],
      ['aborted', 'ABORTED'],
      ['timed-out', 'TIMED_OUT'],
    ]);
    // The error of an aborted or timed-out child is kept, as for a failed one.
    expect(failed.every((r) => r.Error === 'States.Aborted')).toBe(true);
    expect((await names(manifest.ResultFiles.PENDING)).map((r) => r.Name)).toEqual(['never-started']);
    expect((await names(manifest.ResultFiles.SUCCEEDED)).map((r) => r.Name)).toEqual(['ok']);
  });
});
