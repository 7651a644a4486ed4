/**
 * The read-to-write bound as the write goes out (core/ecr/read-window.ts): a paced step keeps up to
 * MAX_WRITES_IN_FLIGHT puts outstanding (writes-in-flight.ts), so a put beyond them waits for a
 * slot. The read guarding it must be younger than MAX_READ_TO_WRITE_MS when it leaves, not when it
 * started waiting. Every put here takes 1.5 s, so the 9th of a window leaves after the 1st is
 * answered, more than the bound after the window's read: the step must read again first.
 *
 * Measured on the emulator's call log, which times each call's arrival: the age of a put is its
 * arrival less the arrival of the last source read before it. The step measures from just before
 * that read is sent, so what the log shows is never more than what the step checked, up to the
 * two calls' local transit (SLACK_MS).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDockerImage } from '../../../local/ecr-emulator/index.ts';
import type { CallLogEntry } from '../../../local/ecr-emulator/call-log.ts';
import { MAX_READ_TO_WRITE_MS } from '../../../core/ecr/read-window.ts';
import { MAX_WRITES_IN_FLIGHT } from '../../../core/ecr/writes-in-flight.ts';
import {
  batchInput,
  batchState,
  DEST_SAME,
  seedSource,
  SOURCE_REGION,
  startHarness,
  tagsOf,
  workItem,
  type Harness,
} from './support/harness.ts';
import { childHandlers, runPipeline } from './support/pipeline.ts';

const PUT_MS = 1500;
const SLACK_MS = 20;
/** More puts than slots: the pipeline is full, and the rest wait for slots. */
const PUTS = MAX_WRITES_IN_FLIGHT + 4;

/** Per put in `region`, how long after the last source read of its repository it arrived. */
function putAges(h: Harness, repository: string, region: string): number[] {
  const calls = h.emulator.callLog
    .entries()
    .filter((e: CallLogEntry) => e.params.repositoryName === repository);
  const reads = calls.filter((e) => e.operation === 'BatchGetImage' && e.region === SOURCE_REGION);
  return calls
    .filter((e) => e.operation === 'PutImage' && e.region === region)
    .map((put) => {
      const before = reads.filter((read) => read.time <= put.time);
      return put.time - before[before.length - 1]!.time;
    });
}

/**
 * The most puts in `region` outstanding at once: each is in flight from its arrival until it was
 * answered (arrival + duration, the 1.5 s delay included). Equal to MAX_WRITES_IN_FLIGHT proves the
 * pipeline was full, so the puts after the 8th waited for a slot (the case the bound is about).
 */
function maxPutsInFlight(h: Harness, repository: string, region: string): number {
  const puts = h.emulator.callLog
    .entries({ operation: 'PutImage', region })
    .filter((e) => e.params.repositoryName === repository);
  const edges = puts.flatMap((put) => [
    { at: put.time, step: 1 },
    { at: put.time + put.durationMs, step: -1 },
  ]);
  // An answer and an arrival at the same millisecond: the answer first (the slot was freed).
  edges.sort((a, b) => a.at - b.at || a.step - b.step);
  let now = 0;
  let most = 0;
  for (const edge of edges) {
    now += edge.step;
    most = Math.max(most, now);
  }
  return most;
}

describe('the read-to-write bound holds as each write leaves a full pipeline', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it('PromoteTags: no put leaves more than the bound after its read', async () => {
    // Prepare: one image with more tags than write slots; every destination put takes 1.5 s.
    const repository = 'window/promote';
    const image = buildDockerImage('read-to-write-promote');
    const tags = Array.from({ length: PUTS }, (_, i) => `t${i}`);
    seedSource(h, repository, image, tags);
    h.emulator.faults.add({
      operation: 'PutImage',
      region: DEST_SAME.region,
      delayMs: PUT_MS,
      times: Infinity,
    });
    const item = workItem({ repository, image, tags, destinations: [{ destination: DEST_SAME }] });

    // Act
    const run = await runPipeline(h, batchState(batchInput({ strategy: 'promote' }), [item]));

    // Assess: every tag arrived, and each of the puts left within the bound of a read.
    expect(run.error).toBeUndefined();
    for (const tag of tags) expect(tagsOf(h, DEST_SAME, repository).get(tag)).toBe(image.digest);
    // The pipeline was full: 8 puts out at once, the 9th and later waiting for a slot.
    expect(maxPutsInFlight(h, repository, DEST_SAME.region)).toBe(MAX_WRITES_IN_FLIGHT);
    const ages = putAges(h, repository, DEST_SAME.region);
    expect(ages).toHaveLength(PUTS);
    for (const [i, age] of ages.entries())
      expect(age, `put ${i + 1}: ${ages.join(', ')} ms`).toBeLessThanOrEqual(MAX_READ_TO_WRITE_MS + SLACK_MS);
  });

  it('PushTempTags: no push leaves more than the bound after its read', async () => {
    // Prepare: more images than write slots in one repository; every source put takes 1.5 s.
    const repository = 'window/push';
    const items = Array.from({ length: PUTS }, (_, i) => {
      const image = buildDockerImage(`read-to-write-push-${i}`);
      seedSource(h, repository, image, [`v${i}`]);
      return workItem({ repository, image, tags: [`v${i}`], destinations: [{ destination: DEST_SAME }] });
    });
    h.emulator.faults.add({ operation: 'PutImage', region: SOURCE_REGION, delayMs: PUT_MS, times: Infinity });

    // Act
    await childHandlers(h).PushTempTags(batchState(batchInput({ strategy: 'promote' }), items));

    // Assess
    const temp = [
      ...tagsOf(h, { region: SOURCE_REGION, registryId: DEST_SAME.registryId }, repository).keys(),
    ];
    expect(temp.filter((tag) => tag.startsWith('ecr-backfill-'))).toHaveLength(PUTS);
    expect(maxPutsInFlight(h, repository, SOURCE_REGION)).toBe(MAX_WRITES_IN_FLIGHT);
    const ages = putAges(h, repository, SOURCE_REGION);
    expect(ages).toHaveLength(PUTS);
    for (const [i, age] of ages.entries())
      expect(age, `push ${i + 1}: ${ages.join(', ')} ms`).toBeLessThanOrEqual(
        MAX_READ_TO_WRITE_MS + SLACK_MS,
      );
  });
});
