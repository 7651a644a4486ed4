/**
 * What the native engine's workflow tests share: registries shaped for a backfill, one way to run
 * the synthesized state machine locally, a clock as compressed as the runner's waits, and readers
 * for what the run reports about its engine.
 */
import { z } from 'zod';
import { NativeRunSchema, PlanSummarySchema } from '../../../../core/contracts/contracts.ts';
import { CROSS_ACCOUNT_BACKFILL_ACTIONS, type Fixture } from '../../../../local/ecr-emulator/index.ts';
import type { BackfillRunResult, RunBackfillOptions } from '../../../../local/runner/run-backfill.ts';
import type { Location, World } from '../../../workflow/helpers.ts';
import {
  generatedRegistry,
  OTHER_ACCOUNT,
  runWorkflow,
  SEOUL,
  SOURCE_ACCOUNT as ACCOUNT,
  SOURCE_REGION,
} from '../../../support/world.ts';

export { ACCOUNT, OTHER_ACCOUNT, SEOUL, SOURCE_REGION };
export const SOURCE: Location = { account: ACCOUNT, region: SOURCE_REGION };
export const SEOUL_SAME_ACCOUNT: Location = { account: ACCOUNT, region: SEOUL };
export const SEOUL_OTHER_ACCOUNT: Location = { account: OTHER_ACCOUNT, region: SEOUL };

/** `repositories` × `imagesPerRepository` images with `tagsPerImage` tags each, replicated to `destinations`. */
export function nativeRegistry(options: {
  destinations: Location[];
  repositories: number;
  imagesPerRepository: number;
  tagsPerImage?: number;
}): Fixture {
  const tagsPerImage = options.tagsPerImage ?? 2;
  return generatedRegistry({
    ...options,
    seed: 'native',
    tags: (_, i) => Array.from({ length: tagsPerImage }, (_, t) => (t === 0 ? `v${i}` : `v${i}-${t}`)),
    // Reached without a role: each other account lets the source replicate there and make the
    // backfill's reads and writes.
    grantOtherAccounts: CROSS_ACCOUNT_BACKFILL_ACTIONS,
  });
}

/** The workflow against the world's source registry (its account, SOURCE_REGION). */
export function runLocally(
  world: World,
  input: Record<string, unknown>,
  options: Partial<RunBackfillOptions> = {},
): Promise<BackfillRunResult> {
  return runWorkflow(world, { s3: world.s3, input, ...options });
}

const ReportedRunSchema = z.object({
  plan: PlanSummarySchema,
  native: NativeRunSchema.optional(),
});

/** The engine and the native summary as report.json states them. */
export function reportedRun(result: BackfillRunResult): z.infer<typeof ReportedRunSchema> {
  return ReportedRunSchema.parse(result.report?.summary);
}

/** The emulator's calls of an operation, by outcome (e.g. `{ ok: 2, ReplicationBackfillInProgressException: 1 }`). */
export function callsOf(world: World, operation: string): Record<string, number> {
  const outcomes: Record<string, number> = {};
  for (const entry of world.emulator.callLog.entries({ operation })) {
    outcomes[entry.outcome] = (outcomes[entry.outcome] ?? 0) + 1;
  }
  return outcomes;
}
