/**
 * NativeStartBackfill, NativeCheckBackfill and NativeStopBackfill against the ECR emulator (real SDK
 * over HTTP) and s3rver: every branch a backfill can take, one step invocation at a time, as the
 * state machine's retries would make them.
 */
import { S3RunStore } from '../../../core/run-files/s3-run-store.ts';
import { describe, expect, it } from 'vitest';
import { EcrError } from '../../../local/ecr-emulator/index.ts';
import { buildDockerImage } from '../../../local/ecr-emulator/images.ts';
import { readJsonLines } from '../../../core/run-files/run-store.ts';
import type { NativeBackfillState } from '../../../core/contracts/contracts.ts';
import { nativeStartBackfill } from '../../../functions/native-engine/native-start-backfill/native-start-backfill.ts';
import { nativeCheckBackfill } from '../../../functions/native-engine/native-check-backfill/native-check-backfill.ts';
import { stopStalledBackfill } from '../../../functions/native-engine/native-stop-backfill/native-stop-backfill.ts';
import { createNativeStopBackfillHandler } from '../../../functions/native-engine/native-stop-backfill/handler.ts';
import { createNativeStartBackfillHandler } from '../../../functions/native-engine/native-start-backfill/handler.ts';
import { nativeBackfillViews } from '../../../core/native/native-progress.ts';
import {
  BUCKET,
  type NativeStepsWorld,
  nativeStepsWorldPerTest,
  OTHER_ACCOUNT,
  OURS,
  SEOUL,
  SOURCE_REGION,
  THEIRS,
  TOKYO,
} from './support/native-steps-world.ts';

const freshWorld = nativeStepsWorldPerTest();

const errorOf = (promise: Promise<unknown>) =>
  promise.then(() => undefined).catch((e: unknown) => e as Error);

describe('NativeStartBackfill', () => {
  it('starts one backfill for the destination and records it; a retry watches the same one', async () => {
    // Prepare
    const world = await freshWorld();

    // Act
    const first = await nativeStartBackfill(world.event('start'), world.stepDeps);
    const again = await nativeStartBackfill(world.event('start'), world.stepDeps);

    // Assess
    expect(first.backfill).toMatchObject({ adopted: false, status: 'PREPARING' });
    expect(again.backfill?.id).toBe(first.backfill?.id);
    expect(world.calls('StartReplicationBackfill')).toBe(1);
    expect(await world.record('start')).toMatchObject({ backfillId: first.backfill?.id, adopted: false });
  });

  it('adopts a backfill already running for the destination instead of starting another', async () => {
    // Prepare
    const world = await freshWorld();
    const running = await world.startOutside(OURS);

    // Act
    const state = await nativeStartBackfill(world.event('adopt'), world.stepDeps);

    // Assess
    expect(state.backfill).toMatchObject({ id: running, adopted: true });
    expect(world.calls('StartReplicationBackfill')).toBe(1);
  });

  it('finds the backfill it started before dying, without adopting it or starting a second one', async () => {
    // Prepare: the first attempt reaches ECR, then the invocation dies before recording the id.
    const world = await freshWorld();
    world.emulator.faults.add({
      operation: 'StartReplicationBackfill',
      error: 'NetworkError',
      when: 'after',
      times: 1,
    });
    const died = await errorOf(nativeStartBackfill(world.event('crash'), world.stepDeps));

    // Act
    const state = await nativeStartBackfill(world.event('crash'), world.stepDeps);

    // Assess
    expect(died).toBeDefined();
    expect(state.backfill).toMatchObject({ adopted: false, status: 'PREPARING' });
    expect((await world.backfillIds()).map((b) => b.id)).toEqual([state.backfill?.id]);
  });

  it('takes a later backfill for the destination as adopted when its own start was refused (nothing started)', async () => {
    // Prepare: the start is throttled (a 4xx: nothing started); then someone else starts one.
    const world = await freshWorld();
    world.emulator.faults.add({
      operation: 'StartReplicationBackfill',
      error: 'ThrottlingException',
      times: 1,
    });
    const throttled = await errorOf(nativeStartBackfill(world.event('refused'), world.stepDeps));
    const theirs = await world.startOutside(OURS);

    // Act
    const state = await nativeStartBackfill(world.event('refused'), world.stepDeps);

    // Assess
    expect(throttled?.name).toBe('Throttled');
    expect(state.backfill).toMatchObject({ id: theirs, adopted: true });
  });

  it('queues (BackfillQueued) behind a backfill for another destination in the same Region, without calling Start', async () => {
    // Prepare
    const world = await freshWorld();
    const ahead = await world.startOutside(THEIRS);

    // Act
    const error = await errorOf(nativeStartBackfill(world.event('queue'), world.stepDeps));

    // Assess
    expect(error?.name).toBe('BackfillQueued');
    expect(error?.message).toContain(`waits behind ${ahead} (PREPARING, ${OTHER_ACCOUNT}/${SEOUL})`);
    expect(world.calls('StartReplicationBackfill')).toBe(1);
    expect(await world.record('queue')).toMatchObject({ queuedSince: world.clock.now() });
  });

  it('starts once the backfill ahead has ended', async () => {
    // Prepare
    const world = await freshWorld();
    await world.startOutside(THEIRS);
    await errorOf(nativeStartBackfill(world.event('turn'), world.stepDeps));
    world.emulator.replication.flush();

    // Act
    const state = await nativeStartBackfill(world.event('turn'), world.stepDeps);

    // Assess
    expect(state.backfill).toMatchObject({ adopted: false });
    expect(world.calls('StartReplicationBackfill', 'ok')).toBe(2);
  });

  it('keeps queueing while the backfill ahead moves, and gives up once it has not moved for replicationTimeoutMinutes', async () => {
    // Prepare: the backfill ahead hangs on one replication forever.
    const world = await freshWorld({ replicationLatencyMs: 0 });
    world.emulator.replication.fail({ mode: 'hang', destinationAccount: OTHER_ACCOUNT, times: 1 });
    await world.startOutside(THEIRS);
    await world.emulator.whenReplicationIdle();
    const event = world.event('give-up');
    await errorOf(nativeStartBackfill(event, world.stepDeps));
    world.clock.advanceMinutes(29);
    const stillQueued = await errorOf(nativeStartBackfill(event, world.stepDeps));
    world.clock.advanceMinutes(1);

    // Act
    const state = await nativeStartBackfill(event, world.stepDeps);

    // Assess
    expect(stillQueued?.name).toBe('BackfillQueued');
    expect(state.backfill).toBeUndefined();
    expect(state.note).toMatch(/queued 30 min behind .* made no progress for 30 min: no native backfill/);
    expect(world.calls('StartReplicationBackfill')).toBe(1);
  });

  it('queues when ECR refuses the start it raced for', async () => {
    // Prepare
    const world = await freshWorld();
    world.emulator.faults.add({
      operation: 'StartReplicationBackfill',
      error: new EcrError('ReplicationBackfillInProgressException', 'someone was faster'),
      times: 1,
    });

    // Act
    const error = await errorOf(nativeStartBackfill(world.event('race'), world.stepDeps));
    const record = await world.record('race');

    // Assess
    expect(error?.name).toBe('BackfillQueued');
    expect(record?.startRequestedAt).toBeUndefined();
    expect(record?.backfillId).toBeUndefined();
  });

  it('rejects an event the state machine would never send, naming the problem (InvalidInput)', async () => {
    // Prepare
    const world = await freshWorld();
    const handler = createNativeStartBackfillHandler(world.stepDeps);

    // Act
    const error = await errorOf(handler({ runId: 'x' }));

    // Assess
    expect(error?.name).toBe('InvalidInput');
    expect(error?.message).toContain('NativeStartBackfill event destination');
  });
});

describe('NativeCheckBackfill', () => {
  const started = async (w: NativeStepsWorld, runId: string): Promise<NativeBackfillState> =>
    nativeStartBackfill(w.event(runId), w.stepDeps);

  it('throws BackfillPending, with the progress, while the backfill is preparing', async () => {
    // Prepare
    const world = await freshWorld();
    const state = await started(world, 'pending');

    // Act
    const error = await errorOf(nativeCheckBackfill(state, world.stepDeps));

    // Assess
    expect(error?.name).toBe('BackfillPending');
    expect(error?.message).toContain('is PREPARING: 0 completed, 0 failed of 0');
  });

  it('pages every per-image result of an ended backfill into the run bucket (more than one page of 1000)', async () => {
    // Prepare: 2 images × 501 tags = 1002 replications.
    const world = await freshWorld({ images: 0 });
    for (let i = 0; i < 2; i++) {
      world.emulator.seedImage(
        { region: SOURCE_REGION, repository: 'shop/many' },
        buildDockerImage(`native-steps/many-${i}`, { layers: 1 }),
        { tags: Array.from({ length: 501 }, (_, t) => `i${i}-t${t}`) },
      );
    }
    const state = await started(world, 'results');
    world.emulator.replication.flush();

    // Act
    const ended = await nativeCheckBackfill(state, world.stepDeps);
    const lines: unknown[] = [];
    for await (const line of readJsonLines(new S3RunStore(world.s3), BUCKET, ended.results?.key ?? ''))
      lines.push(line);

    // Assess
    expect(ended.backfill).toMatchObject({ status: 'COMPLETE', progress: { total: 1002, completed: 1002 } });
    expect(ended.results).toEqual({
      key: `runs/results/native/results/${OURS.registryId}-${SEOUL}.jsonl`,
      count: 1002,
      failed: 0,
    });
    expect(lines).toHaveLength(1002);
    expect(ended.stalled).toBe(false);
    expect(world.calls('DescribeReplicationBackfillResults')).toBeGreaterThanOrEqual(3);
  });

  it('reports a backfill that made no progress for replicationTimeoutMinutes as stalled', async () => {
    // Prepare: PREPARING forever (the emulator's latency is a minute, nobody flushes).
    const world = await freshWorld();
    const state = await started(world, 'stalled');
    await errorOf(nativeCheckBackfill(state, world.stepDeps));
    world.clock.advanceMinutes(30);

    // Act
    const checked = await nativeCheckBackfill(state, world.stepDeps);

    // Assess
    expect(checked.stalled).toBe(true);
    expect(checked.note).toBe('no progress for 30 min (PREPARING, 0/0 processed)');
  });

  it('passes a destination without a backfill straight through', async () => {
    // Prepare
    const world = await freshWorld();

    // Act
    const checked = await nativeCheckBackfill({ ...world.event('none'), note: 'gave up' }, world.stepDeps);

    // Assess
    expect(checked).toEqual({ ...world.event('none'), note: 'gave up', stalled: false });
    expect(world.calls('DescribeReplicationBackfillResults')).toBe(0);
  });
});

describe('NativeStopBackfill', () => {
  it('stops a stalled backfill this run started', async () => {
    // Prepare
    const world = await freshWorld();
    const state = await nativeStartBackfill(world.event('stop'), world.stepDeps);

    // Act
    const stopped = await stopStalledBackfill(
      { ...state, stalled: true, note: 'no progress' },
      world.stepDeps,
    );

    // Assess
    expect(world.calls('StopReplicationBackfill', 'ok')).toBe(1);
    expect(stopped.backfill?.status).toBe('STOPPING');
    expect(stopped.note).toBe('no progress; StopReplicationBackfill requested (STOPPING)');
    expect(await world.record('stop')).toMatchObject({ stopReason: 'no progress' });
  });

  it('never stops an adopted backfill (this run did not start it)', async () => {
    // Prepare
    const world = await freshWorld();
    await world.startOutside(OURS);
    const state = await nativeStartBackfill(world.event('adopted'), world.stepDeps);

    // Act
    const left = await stopStalledBackfill({ ...state, stalled: true, note: 'no progress' }, world.stepDeps);

    // Assess
    expect(world.calls('StopReplicationBackfill')).toBe(0);
    expect(left.note).toBe('no progress; adopted backfill left running (this run did not start it)');
  });

  it('on an execution that was stopped, stops the backfills the run started and leaves the adopted ones', async () => {
    // Prepare: this run started one backfill (Seoul) and adopted another (Tokyo).
    const world = await freshWorld();
    const executionName = 'stopped-by-user';
    const adopted = await world.startOutside(TOKYO);
    await nativeStartBackfill(world.event(executionName, TOKYO), world.stepDeps);
    const ours = await nativeStartBackfill(world.event(executionName, OURS), world.stepDeps);
    const handler = createNativeStopBackfillHandler(world.stepDeps);
    const event = (status: string) => ({
      version: '0',
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      detail: {
        executionArn: `arn:aws:states:${SOURCE_REGION}:111111111111:execution:sm:${executionName}`,
        stateMachineArn: `arn:aws:states:${SOURCE_REGION}:111111111111:stateMachine:sm`,
        name: executionName,
        status,
      },
    });

    // Act
    const ignored = await handler(event('SUCCEEDED'));
    const report = await handler(event('ABORTED'));
    const again = await handler(event('ABORTED'));

    // Assess
    expect(ignored).toEqual({ runId: executionName, executionStatus: 'SUCCEEDED', stopped: [], left: [] });
    expect(report).toEqual({
      runId: executionName,
      executionStatus: 'ABORTED',
      stopped: [ours.backfill?.id],
      left: [{ backfillId: adopted, why: 'adopted: this run did not start it' }],
    });
    expect(again).toMatchObject({ stopped: [] });
    expect(world.calls('StopReplicationBackfill', 'ok')).toBe(1);
    const statuses = Object.fromEntries((await world.backfillIds()).map((b) => [b.id, b.status]));
    expect(statuses).toEqual({ [ours.backfill?.id ?? '']: 'STOPPING', [adopted]: 'PREPARING' });
  });
});

describe('nativeBackfillViews (for watch and report)', () => {
  it('shows each destination of a run: started with ECR’s live counts, queued, adopted', async () => {
    // Prepare: Tokyo adopted, Seoul (ours) started and run to the end, Seoul (theirs) queued behind it.
    const world = await freshWorld();
    await world.startOutside(TOKYO);
    await nativeStartBackfill(world.event('views', TOKYO), world.stepDeps);
    const ours = await nativeStartBackfill(world.event('views', OURS), world.stepDeps);
    await errorOf(nativeStartBackfill(world.event('views', THEIRS), world.stepDeps));
    world.emulator.replication.flush();

    // Act
    const views = await nativeBackfillViews(world.stepDeps, BUCKET, 'runs/views');

    // Assess
    expect(views).toEqual([
      expect.objectContaining({
        destination: `${TOKYO.registryId}/${TOKYO.region}`,
        adopted: true,
        status: 'COMPLETE',
      }),
      {
        destination: `${OURS.registryId}/${SEOUL}`,
        backfillId: ours.backfill?.id,
        adopted: false,
        status: 'COMPLETE',
        progress: { total: 3, completed: 3, failed: 0, failureCodes: [] },
      },
      {
        destination: `${OTHER_ACCOUNT}/${SEOUL}`,
        adopted: false,
        status: 'QUEUED',
        queuedSince: world.clock.now(),
      },
    ]);
  });
});
