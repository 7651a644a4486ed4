/**
 * Crash tests (docs/architecture.md §3.2 invariants 1–6): for each strategy and each step, the step's invocation
 * dies after its k-th ECR call — for every k the step makes, both between calls (`before`: call k+1
 * never leaves) and inside a call (`after`: call k took effect, its response was lost) — and is then
 * re-run with the same input, as Step Functions' retrier does. Every run must end in exactly the
 * registries of an uninterrupted run, without a source image ever deleted, a source tag ever moved,
 * (promote) a source tag ever missing, and without one PutImage more than the uninterrupted run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchResult, ItemResult, Strategy } from '../../../../core/contracts/contracts.ts';
import {
  batchInput,
  batchState,
  DESTINATIONS,
  SOURCE,
  startHarness,
  type Harness,
  type RegistryLocation,
} from './harness.ts';
import { registryImages, registryTags, SourceWatch } from './invariants.ts';
import { CHILD_STEPS, runPipeline, type ChildStep, type CrashPlan } from './pipeline.ts';
import { seedCrashRegistry } from './scenarios.ts';

const RUN_ID = 'crash-test-run';
const REGISTRIES: RegistryLocation[] = [SOURCE, ...DESTINATIONS];
const WRITES: ReadonlySet<string> = new Set(['PutImage', 'BatchDeleteImage']);

const sortedEntries = (map: Map<string, string>) => [...map].sort(([a], [b]) => a.localeCompare(b));

/** Outcomes with "we wrote it" and "it was there when we looked" merged: a rerun finds its own writes. */
const normalized = (results: readonly ItemResult[]) =>
  results.map((r) => ({
    digest: r.imageDigest,
    destinations: r.destinations.map((d) => ({
      replication: d.replication,
      tags: Object.fromEntries(
        Object.entries(d.tags).map(([tag, outcome]) => [
          tag,
          outcome === 'ALREADY_PRESENT' ? 'BACKFILLED' : outcome,
        ]),
      ),
    })),
  }));

interface Outcome {
  result?: BatchResult;
  error?: Error;
  crashed: boolean;
  operations: Partial<Record<ChildStep, string[]>>;
  registries: [string, string][][];
  putImages: number;
  sourceImagesKept: boolean;
  watch: SourceWatch;
}

let runs = 0;

/**
 * One backfill in its own repositories (`r<n>/…`) of a shared emulator: the runs never see each
 * other, and the ECR clients (and their connections) are reused, which keeps hundreds of runs fast.
 */
async function backfill(h: Harness, strategy: Strategy, crash?: CrashPlan): Promise<Outcome> {
  runs += 1;
  const prefix = `r${runs}/`;
  const scenario = seedCrashRegistry(h, prefix);
  const imagesBefore = registryImages(h, SOURCE, prefix);
  const watch = new SourceWatch(h, prefix);
  const input = batchInput({ strategy, runId: RUN_ID, runPrefix: `runs/${prefix}` });
  const run = await runPipeline(h, batchState(input, scenario.items), crash ? { crash } : {});
  watch.close();
  const imagesAfter = registryImages(h, SOURCE, prefix);
  return {
    ...(run.result ? { result: run.result } : {}),
    ...(run.error ? { error: run.error } : {}),
    crashed: run.crashed,
    operations: run.operations,
    registries: REGISTRIES.map((where) => sortedEntries(registryTags(h, where, prefix))),
    putImages: h.emulator.callLog
      .entries({ operation: 'PutImage' })
      .filter((entry) => entry.params.repositoryName?.startsWith(prefix)).length,
    sourceImagesKept: [...imagesBefore].every((key) => imagesAfter.has(key)),
    watch,
  };
}

/** Declares the crash suite of one strategy (one test file per strategy, so they run in parallel). */
export function describeCrashSuite(strategy: Strategy): void {
  describe(`strategy ${strategy}: a crash after the k-th ECR call of a step, then a rerun`, () => {
    let h: Harness;
    let reference: Outcome;
    beforeAll(async () => {
      // The harness's own S3, closed with it.
      h = await startHarness();
      reference = await backfill(h, strategy);
      expect(reference.error).toBeUndefined();
    });
    afterAll(async () => {
      await h.close();
    });

    for (const step of CHILD_STEPS[strategy]) {
      it(`${step}: every crash point converges to the uninterrupted run, with no repeated PutImage`, async () => {
        const operations = reference.operations[step] ?? [];
        const originalTags = reference.watch.gaps.length;
        // Between any two calls ('before'); inside every write ('after': it took effect, the answer was
        // lost). A lost answer to a read leaves the world as a crash right after it, so it adds nothing.
        const plans: CrashPlan[] = operations.flatMap((operation, i): CrashPlan[] => [
          ...(i + 1 < operations.length ? [{ step, k: i + 1, mode: 'before' as const }] : []),
          ...(WRITES.has(operation) ? [{ step, k: i + 1, mode: 'after' as const }] : []),
        ]);
        for (const plan of plans) {
          const where = `${step} crash ${plan.mode} call ${plan.k} (${operations[plan.k - 1]}) of ${operations.length}`;
          const outcome = await backfill(h, strategy, plan);
          expect(outcome.crashed, where).toBe(true);
          expect(outcome.error, where).toBeUndefined();
          expect(outcome.registries, where).toEqual(reference.registries);
          expect(outcome.putImages, where).toBe(reference.putImages);
          expect(normalized(outcome.result!.results), where).toEqual(normalized(reference.result!.results));
          // Invariant 1: no source image deleted, no source tag moved by us.
          expect(outcome.sourceImagesKept, where).toBe(true);
          expect(outcome.watch.deletedImages, where).toEqual([]);
          expect(outcome.watch.movedTags, where).toEqual([]);
          if (strategy === 'promote') {
            // Invariant 2: no source tag ever unresolvable.
            expect(outcome.watch.gaps, where).toEqual([]);
          } else {
            // retag-source: each original tag went away once, and came back on its digest.
            expect(outcome.watch.gaps.length, where).toBe(originalTags);
            expect(outcome.watch.unrestored(), where).toEqual([]);
          }
        }
        if (step !== 'FinishBatch') expect(plans.length).toBeGreaterThan(0);
      });
    }
  });
}
