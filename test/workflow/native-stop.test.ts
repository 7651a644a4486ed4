/**
 * Stopping a native run: Step Functions runs no state once an execution is stopped, so the
 * EventBridge rule on its ABORTED status change (infra/native-engine.ts) is what stops the ECR
 * backfill it started. Here the local runner stops the execution, sends the event to the template's
 * rule and invokes NativeStopBackfill, against the emulator's backfill.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runBackfillLocally } from '../../local/runner/run-backfill.ts';
import { backfillTemplate, startWorld, type World } from './helpers.ts';
import {
  ACCOUNT,
  callsOf,
  nativeRegistry,
  SEOUL_SAME_ACCOUNT,
  SOURCE_REGION,
} from '../functions/native/support/native-workflow.ts';

describe('a native run stopped while its backfill is in progress', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('ends ABORTED and its status change event stops the backfill the run started', async () => {
    // Prepare: preparing takes 100 ms, then one replication per 100 ms for 40 tags: the backfill
    // is IN_PROGRESS for four seconds (a margin for a loaded machine).
    world = await startWorld(
      nativeRegistry({ destinations: [SEOUL_SAME_ACCOUNT], repositories: 4, imagesPerRepository: 5 }),
      { replicationLatencyMs: 100, backfillBatchSize: 1 },
    );

    // Act: stop after ten polls of the backfill (a few tens of ms apart): a few replications in.
    const result = await runBackfillLocally({
      ecrEndpoint: world.emulator.endpoint,
      s3: world.s3,
      sourceRegion: SOURCE_REGION,
      account: ACCOUNT,
      template: backfillTemplate(),
      input: { method: 'native' },
      stopAfter: { taskInvoked: 'NativeCheckBackfill', times: 10 },
    });
    await world.emulator.whenReplicationIdle();

    // Assess
    expect(result.status).toBe('ABORTED');
    expect(result.execution.stopDate).toBeDefined();
    const nativeMap = result.execution.mapRuns.find((run) => run.stateName === 'NativeBackfills');
    expect(nativeMap?.status).toBe('ABORTED');
    expect(nativeMap?.children.map((child) => child.status)).toEqual(['ABORTED']);
    const backfills = world.emulator.backfills.all();
    expect(backfills).toHaveLength(1);
    const [backfill] = backfills;
    expect(backfill?.status).toBe('STOPPED');
    // Stopped part-way through: in progress when the stop came.
    expect(backfill?.completed).toBeGreaterThan(0);
    expect(backfill?.completed).toBeLessThan(backfill?.items.length ?? 0);
    expect(callsOf(world, 'StopReplicationBackfill')).toEqual({ ok: 1 });
    const stop = world.emulator.callLog.entries({ operation: 'StopReplicationBackfill' })[0];
    expect(JSON.stringify(stop)).toContain(backfill?.id);
    expect(result.eventDeliveries).toHaveLength(1);
    expect(result.eventDeliveries[0]).toMatchObject({
      status: 'ABORTED',
      outcome: 'succeeded',
      result: { executionStatus: 'ABORTED', stopped: [backfill?.id] },
    });
  });

  it('sends nothing to the stop rule when the run succeeds', async () => {
    // Prepare
    world = await startWorld(
      nativeRegistry({ destinations: [SEOUL_SAME_ACCOUNT], repositories: 1, imagesPerRepository: 1 }),
      { replicationLatencyMs: 20 },
    );

    // Act
    const result = await runBackfillLocally({
      ecrEndpoint: world.emulator.endpoint,
      s3: world.s3,
      sourceRegion: SOURCE_REGION,
      account: ACCOUNT,
      template: backfillTemplate(),
      input: { method: 'native' },
    });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.eventDeliveries).toEqual([]);
    expect(callsOf(world, 'StopReplicationBackfill')).toEqual({});
  });
});
