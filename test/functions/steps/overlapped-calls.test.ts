/**
 * The batch steps overlap their round trips where ECR allows it, and keep the order of what they
 * decide: PushTempTags sends each temp-tag push when its PutImage token is due without waiting for
 * the previous answer, and reserves the tokens of the whole batch together, across repositories;
 * CheckReplication keeps a few status reads in flight. Measured in the emulator's call log (each
 * call's arrival and duration), with a per-call latency so that calls can overlap at all.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildDockerImage } from '../../../local/ecr-emulator/index.ts';
import type { CallLogEntry } from '../../../local/ecr-emulator/call-log.ts';
import { TokenBucket } from '../../../core/ecr/rate-limit.ts';
import { MAX_WRITES_IN_FLIGHT } from '../../../core/ecr/writes-in-flight.ts';
import { STATUS_READS_IN_FLIGHT } from '../../../functions/check-replication/check-replication.ts';
import { GROUP_READS_IN_FLIGHT } from '../../../functions/verify-digests/verify-digests.ts';
import {
  batchInput,
  batchState,
  DEST_OTHER,
  DEST_SAME,
  harnessPerTest,
  seedSource,
  SOURCE,
  SOURCE_REGION,
  tagsOf,
  workItem,
} from './support/harness.ts';
import { tempTagsIn, registryTags } from './support/invariants.ts';
import { runPipeline, type ChildStep } from './support/pipeline.ts';
import type { WorkItem } from '../../../core/contracts/contracts.ts';

const freshHarness = harnessPerTest();
const LATENCY = { apiLatencyMs: 20 };

afterEach(() => vi.restoreAllMocks());

/** The most calls answered at the same time, from each call's arrival and duration. */
function maxOverlap(calls: readonly CallLogEntry[]): number {
  const edges = calls.flatMap((c) => [
    { at: c.time, delta: 1 },
    { at: c.time + c.durationMs, delta: -1 },
  ]);
  // At equal times an answer comes before the next arrival: touching calls do not overlap.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let most = 0;
  for (const edge of edges) {
    open += edge.delta;
    most = Math.max(most, open);
  }
  return most;
}

/** Twelve single-tag images, six in each of two repositories. */
function twoRepositories(h: Awaited<ReturnType<typeof freshHarness>>) {
  return ['app/one', 'app/two'].flatMap((repository) =>
    Array.from({ length: 6 }, (_, n) => {
      const image = buildDockerImage(`${repository}-${n}`);
      seedSource(h, repository, image, [`v${n}`]);
      return workItem({ repository, image, tags: [`v${n}`] });
    }),
  );
}

/** Runs the promote pipeline over `items`; `callsOf(step)` is the calls that step made. */
async function runWithCallsByStep(h: Awaited<ReturnType<typeof freshHarness>>, items: WorkItem[]) {
  const started: { step: ChildStep; at: number }[] = [];
  const run = await runPipeline(h, batchState(batchInput({ strategy: 'promote' }), items), {
    beforeStep: (step) => {
      started.push({ step, at: h.emulator.callLog.size });
    },
  });
  const callsOf = (step: ChildStep): CallLogEntry[] => {
    const k = started.findIndex((s) => s.step === step);
    if (k === -1) throw new Error(`${step} did not run`);
    return h.emulator.callLog.entries().slice(started[k]!.at, started[k + 1]?.at);
  };
  return { run, callsOf };
}

describe('PushTempTags', () => {
  it('overlaps its pushes, reserves the whole batch at once, and still pushes each temp tag exactly once', async () => {
    // Prepare: a finite PutImage rate (fast enough not to pace), so the limiter is used.
    const h = await freshHarness(LATENCY);
    h.deps.env.putImageRatePerSecond = 1000;
    const items = twoRepositories(h);
    const reserve = vi.spyOn(TokenBucket.prototype, 'reserve');
    const logged = h.emulator.callLog.size;

    // Act
    const run = await runPipeline(h, batchState(batchInput({ strategy: 'promote' }), items));

    // Assess
    expect(run.error).toBeUndefined();
    const pushes = h.emulator.callLog
      .entries()
      .slice(logged)
      .filter((c) => c.operation === 'PutImage' && c.region === SOURCE_REGION);
    // One push per digest, never a second one for the same temp tag.
    expect(pushes).toHaveLength(12);
    expect(new Set(pushes.map((c) => c.params.imageTag)).size).toBe(12);
    // Sent without waiting for each other, up to the bound.
    const overlap = maxOverlap(pushes);
    expect(overlap).toBeGreaterThan(1);
    expect(overlap).toBeLessThanOrEqual(MAX_WRITES_IN_FLIGHT);
    // The first reservation is PushTempTags': both repositories' pushes in one run of tokens.
    expect(reserve.mock.calls[0]?.[0]).toBe(12);
    // And the outcome is the sequential one: every tag delivered, no temp tag left anywhere.
    for (const where of [DEST_SAME, DEST_OTHER]) {
      for (const item of items) {
        expect(tagsOf(h, where, item.repositoryName).get(item.tags[0]!), where.region).toBe(item.imageDigest);
      }
    }
    for (const where of [SOURCE, DEST_SAME, DEST_OTHER]) {
      for (const repository of ['app/one', 'app/two'])
        expect(tempTagsIn(registryTags(h, where, repository)), where.region).toEqual([]);
    }
  });
});

describe('CheckReplication', () => {
  it('keeps a few status reads in flight, never more than STATUS_READS_IN_FLIGHT, one per digest', async () => {
    // Prepare
    const h = await freshHarness(LATENCY);
    const items = twoRepositories(h);
    const reads: CallLogEntry[] = [];
    const unsubscribe = h.emulator.callLog.subscribe((entry) => {
      if (entry.operation === 'DescribeImageReplicationStatus') reads.push(entry);
    });

    // Act
    const run = await runPipeline(h, batchState(batchInput({ strategy: 'promote' }), items));
    unsubscribe();

    // Assess: replication is idle before CheckReplication (the pipeline waits), so one poll reads all.
    expect(run.error).toBeUndefined();
    expect(reads).toHaveLength(12);
    expect(new Set(reads.map((c) => c.params.imageIds?.[0])).size).toBe(12);
    const overlap = maxOverlap(reads);
    expect(overlap).toBeGreaterThan(1);
    expect(overlap).toBeLessThanOrEqual(STATUS_READS_IN_FLIGHT);
    const checked = run.inputs.PromoteTags!.results!;
    expect(checked.every((r) => r.destinations.every((d) => d.replication === 'COMPLETE'))).toBe(true);
  });
});

describe('VerifyDigests', () => {
  it('reads its destination repositories a few at a time, never more than GROUP_READS_IN_FLIGHT, and verifies every tag', async () => {
    // Prepare: two repositories × two destinations = four groups to read.
    const h = await freshHarness(LATENCY);
    const items = twoRepositories(h);

    // Act
    const { run, callsOf } = await runWithCallsByStep(h, items);

    // Assess
    expect(run.error).toBeUndefined();
    const reads = callsOf('VerifyDigests').filter((c) => c.operation === 'BatchGetImage');
    expect(new Set(reads.map((c) => `${c.region} ${c.params.repositoryName}`)).size).toBe(4);
    const overlap = maxOverlap(reads);
    expect(overlap).toBeGreaterThan(1);
    expect(overlap).toBeLessThanOrEqual(GROUP_READS_IN_FLIGHT);
    const verified = run.inputs.CleanupTempTags!.results!;
    for (const result of verified)
      for (const destination of result.destinations)
        expect(Object.values(destination.tags)).toEqual(['BACKFILLED']);
  });
});

describe('CleanupTempTags', () => {
  it('cleans the destinations of a repository at once, and the source only after them', async () => {
    // Prepare
    const h = await freshHarness(LATENCY);
    const items = twoRepositories(h);

    // Act
    const { run, callsOf } = await runWithCallsByStep(h, items);

    // Assess
    expect(run.error).toBeUndefined();
    const calls = callsOf('CleanupTempTags');
    for (const repository of ['app/one', 'app/two']) {
      const here = calls.filter((c) => c.params.repositoryName === repository);
      const inDestinations = here.filter((c) => c.region !== SOURCE_REGION);
      const inSource = here.filter((c) => c.region === SOURCE_REGION);
      // A read and a delete in each destination, both destinations' calls overlapping.
      expect(inDestinations.map((c) => c.operation).sort()).toEqual([
        'BatchDeleteImage',
        'BatchDeleteImage',
        'DescribeImages',
        'DescribeImages',
      ]);
      expect(maxOverlap(inDestinations)).toBe(2);
      // The source's read starts after every destination call has been answered.
      const destinationsDone = Math.max(...inDestinations.map((c) => c.time + c.durationMs));
      expect(Math.min(...inSource.map((c) => c.time))).toBeGreaterThanOrEqual(destinationsDone);
    }
    for (const where of [SOURCE, DEST_SAME, DEST_OTHER]) {
      for (const repository of ['app/one', 'app/two'])
        expect(tempTagsIn(registryTags(h, where, repository)), where.region).toEqual([]);
    }
  });
});
