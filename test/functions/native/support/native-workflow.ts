/**
 * What the native engine's workflow tests share: registries shaped for a backfill, one way to run
 * the synthesized state machine locally, a clock as compressed as the runner's waits, and readers
 * for what the run reports about its engine.
 */
import { z } from 'zod';
import { NativeRunSchema, PlanSummarySchema } from '../../../../core/contracts/contracts.ts';
import type { Clock } from '../../../../core/deps.ts';
import {
  allowAccountsPolicy,
  CROSS_ACCOUNT_BACKFILL_ACTIONS,
  type Fixture,
} from '../../../../local/ecr-emulator/index.ts';
import {
  DEFAULT_TIME_SCALE,
  runBackfillLocally,
  type BackfillRunResult,
  type RunBackfillOptions,
} from '../../../../local/runner/run-backfill.ts';
import { backfillTemplate, type Location, type World } from '../../../workflow/helpers.ts';

export const ACCOUNT = '111111111111';
export const OTHER_ACCOUNT = '222222222222';
export const SOURCE_REGION = 'ap-south-1';
export const SEOUL = 'ap-northeast-2';
export const SOURCE: Location = { account: ACCOUNT, region: SOURCE_REGION };
export const SEOUL_SAME_ACCOUNT: Location = { account: ACCOUNT, region: SEOUL };
export const SEOUL_OTHER_ACCOUNT: Location = { account: OTHER_ACCOUNT, region: SEOUL };

/**
 * The registries of the other accounts among `destinations`, each with the policy its owner creates
 * for a backfill reached without a role: the source account may replicate there and make the
 * backfill's reads and writes
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-create-replication.html).
 */
function otherAccountRegistries(destinations: Location[]): Fixture['accounts'] {
  const regionsByAccount = new Map<string, string[]>();
  for (const d of destinations) {
    if (d.account === ACCOUNT) continue;
    regionsByAccount.set(d.account, [...(regionsByAccount.get(d.account) ?? []), d.region]);
  }
  const registryPolicy = allowAccountsPolicy([ACCOUNT], CROSS_ACCOUNT_BACKFILL_ACTIONS);
  return [...regionsByAccount].map(([id, regions]) => ({
    id,
    regions: regions.map((region) => ({ region, registryPolicy })),
  }));
}

/** `repositories` × `imagesPerRepository` images with `tagsPerImage` tags each, replicated to `destinations`. */
export function nativeRegistry(options: {
  destinations: Location[];
  repositories: number;
  imagesPerRepository: number;
  tagsPerImage?: number;
}): Fixture {
  const tagsPerImage = options.tagsPerImage ?? 2;
  return {
    defaultAccount: ACCOUNT,
    accounts: [
      {
        id: ACCOUNT,
        regions: [
          {
            region: SOURCE_REGION,
            replicationConfiguration: {
              rules: [
                {
                  destinations: options.destinations.map((d) => ({
                    region: d.region,
                    registryId: d.account,
                  })),
                },
              ],
            },
            repositories: Array.from({ length: options.repositories }, (_, r) => ({
              name: `team-${r}/service`,
              images: Array.from({ length: options.imagesPerRepository }, (_, i) => ({
                build: { format: 'docker' as const, seed: `native/${r}/${i}`, layers: 1, layerSize: 64 },
                tags: Array.from({ length: tagsPerImage }, (_, t) => (t === 0 ? `v${i}` : `v${i}-${t}`)),
              })),
            })),
          },
        ],
      },
      ...otherAccountRegistries(options.destinations),
    ],
  };
}

/**
 * Time for the steps, as fast as the runner's waits: with the default time scale (0.001) a minute
 * of `replicationTimeoutMinutes` passes in 60 ms, as a one-minute Wait or retry interval does.
 */
export function compressedClock(timeScale = DEFAULT_TIME_SCALE): Clock {
  const start = Date.now();
  return { now: () => start + (Date.now() - start) / timeScale };
}

export function runLocally(
  world: World,
  input: Record<string, unknown>,
  options: Partial<RunBackfillOptions> = {},
): Promise<BackfillRunResult> {
  return runBackfillLocally({
    ecrEndpoint: world.emulator.endpoint,
    s3: world.s3,
    sourceRegion: SOURCE_REGION,
    account: ACCOUNT,
    template: backfillTemplate(),
    putImageRatePerSecond: 1000,
    input,
    ...options,
  });
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
