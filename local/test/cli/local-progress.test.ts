/**
 * `local`'s progress: the execution's final status is shown once, after the last read of the
 * batches' records, so a finished run never reads "SUCCEEDED: 85% (promoting)" before "100% (done)".
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { ProgressSnapshot, ProgressView } from 'ecr-backfill/cli';
import { LocalProgress } from '../../cli/commands/local.ts';

function recordingView(): ProgressView & { updates: ProgressSnapshot[] } {
  const updates: ProgressSnapshot[] = [];
  return {
    updates,
    update: (snapshot) => updates.push(snapshot),
    note: () => undefined,
    finish: () => undefined,
  };
}

/** An S3 whose reads fail: the progress records are a display aid, and a failed read shows nothing. */
const unreadableS3 = { send: () => Promise.reject(new Error('no records')) } as unknown as S3Client;

const snapshot = (phase: string) => ({
  phase,
  outcomes: {},
  redrives: 0,
  runBucket: 'run-bucket',
  executionName: 'run',
});

describe('local progress', () => {
  it('shows a running phase at once, and the final status only at finalPoll', async () => {
    const view = recordingView();
    const progress = new LocalProgress(
      unreadableS3,
      { bucket: 'run-bucket', runPrefix: 'runs/r/' },
      view,
      { now: () => 0 },
      false,
    );

    progress.onSnapshot(snapshot('Plan'));
    progress.onSnapshot(snapshot('SUCCEEDED'));
    expect(view.updates.map((update) => update.phase)).toEqual(['Plan']);

    await progress.finalPoll();
    expect(view.updates.map((update) => update.phase)).toEqual(['Plan', 'SUCCEEDED']);
  });
});
