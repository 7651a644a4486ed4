/**
 * Which engine runs a backfill (input `method`), and why — the reason is shown in the plan summary,
 * the CLI and the report.
 *
 * - `repush`: always the re-push engine.
 * - `native`: ECR's replication backfill, unless it cannot work here (the API does not answer) or
 *   would break a safety invariant (docs/architecture.md §3.2 #6: replication overwrites destination tags that
 *   point to another digest — the plan's CONFLICTs — which the re-push engine leaves alone).
 * - `auto`: native only when it is the better tool, i.e. additionally
 *   - the selection is the whole replication scope: no repository/tag/date/latest filters, no
 *     untagged or archived images (a backfill copies everything the rules cover and nothing else;
 *     it skips archived images, and ECR documents nothing about untagged ones); destinations may be
 *     a subset, since a backfill targets one destination anyway;
 *   - no backfill for another destination is active in a selected destination Region, and the
 *     registry's limit of 10 active backfills leaves room (otherwise ours would have to queue).
 *   An active backfill for the very same destination does not count: the native path adopts it.
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-backfill.html
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { OutcomeCounts, PlanSummary, RunConfig } from '../../core/contracts/contracts.ts';
import type { EcrClientProvider } from '../../core/deps.ts';
import {
  awsErrorName,
  InvalidInputError,
  toStepError,
  ThrottledError,
  TransientError,
} from '../../core/errors/errors.ts';
import {
  describeBackfillDestination,
  isActiveStatus,
  listBackfills,
  MAX_ACTIVE_BACKFILLS_PER_REGISTRY,
  sameDestination,
  type BackfillSummary,
} from '../../core/native/native-backfill-api.ts';

export type EngineChoice = PlanSummary['engine'];

/** The selection filters that make a run narrower than the replication scope (auto → repush). */
export function selectionFilters(config: RunConfig): string[] {
  const filters: string[] = [];
  if (config.repositories.length > 0) filters.push('repositories');
  if (config.tags.length > 0) filters.push('tags');
  if (config.excludeTags.length > 0) filters.push('excludeTags');
  if (config.pushedAfter !== undefined) filters.push('pushedAfter');
  if (config.latestPerRepository !== undefined) filters.push('latestPerRepository');
  if (config.includeUntagged) filters.push('includeUntagged');
  if (config.includeArchived) filters.push('includeArchived');
  return filters;
}

export type BackfillApiProbe =
  { available: true; backfills: BackfillSummary[] } | { available: false; reason: string };

/**
 * ListReplicationBackfills in the source registry. An error that says the API is not there for us
 * (unknown operation, access denied, validation) means "not available"; throttling and 5xx are
 * retried by the state machine like any other step error.
 */
export async function probeBackfillApi(client: ECRClient, registryId: string): Promise<BackfillApiProbe> {
  try {
    return { available: true, backfills: await listBackfills(client, registryId) };
  } catch (error) {
    const mapped = toStepError(error, 'ECR ListReplicationBackfills');
    if (mapped instanceof ThrottledError || mapped instanceof TransientError) throw mapped;
    const name = awsErrorName(error) ?? 'Error';
    const message = error instanceof Error ? error.message : String(error);
    return { available: false, reason: `ListReplicationBackfills failed with ${name} (${message})` };
  }
}

/** Active backfills that would make ours wait: another destination in one of our Regions, or the registry limit. */
export function backfillBlockers(config: RunConfig, backfills: readonly BackfillSummary[]): string[] {
  const active = backfills.filter((b) => isActiveStatus(b.status));
  const blockers: string[] = [];
  for (const destination of config.destinations) {
    const other = active.find(
      (b) => b.destination.region === destination.region && !sameDestination(b.destination, destination),
    );
    if (other) {
      blockers.push(
        `backfill ${other.id} (${other.status}) for ${describeBackfillDestination(other.destination)} holds the destination Region ${destination.region}`,
      );
    }
  }
  const ours = config.destinations.filter(
    (d) => !active.some((b) => sameDestination(b.destination, d)),
  ).length;
  if (blockers.length === 0 && active.length + ours > MAX_ACTIVE_BACKFILLS_PER_REGISTRY) {
    blockers.push(
      `${active.length} backfills are active in the registry; ${ours} more would exceed ECR's limit of ${MAX_ACTIVE_BACKFILLS_PER_REGISTRY}`,
    );
  }
  return blockers;
}

export interface EngineChoiceInput {
  config: RunConfig;
  /** The plan's outcome counts (DIVERGED: destination tags at another digest). */
  counts: OutcomeCounts;
  ecr: EcrClientProvider;
  /**
   * Why the run policy bars the native engine (RunContext.nativeBarred, from Plan): its reach beyond
   * the repository scope, or a method the policy does not allow. The scope counts as a selection.
   */
  nativeBarred?: readonly string[];
}

export async function chooseEngine({
  config,
  counts,
  ecr,
  nativeBarred = [],
}: EngineChoiceInput): Promise<EngineChoice> {
  const method = config.method;
  if (method === 'repush') return { method: 'repush', reason: 'method repush requested' };

  if (nativeBarred.length > 0) {
    // Plan refuses `method: native` here before any write; this guard keeps it so if it is ever bypassed.
    if (method === 'native')
      throw new InvalidInputError([`method: "native" is not allowed here: ${nativeBarred.join('; ')}`]);
    return { method: 'repush', reason: `method auto: ${nativeBarred.join('; ')}` };
  }

  // The planner counts a destination tag at another digest as CONFLICT (left alone) unless
  // overwriteConflicts makes it DIVERGED (work): replication would move it either way.
  const conflicts = (counts.CONFLICT ?? 0) + (config.overwriteConflicts ? 0 : (counts.DIVERGED ?? 0));
  if (conflicts > 0) {
    return {
      method: 'repush',
      reason: `method ${method}: ${conflicts} destination tag(s) point to another digest; replication would overwrite them, so the re-push engine runs and reports them as CONFLICT (set overwriteConflicts to let them move)`,
    };
  }

  // A native backfill leaves referrers out (AWS documents nothing either way, so the conservative
  // case: https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-backfill.html), and only
  // the re-push engine copies them.
  const referrers = counts.REFERRERS_MISSING ?? 0;
  if (method === 'auto' && referrers > 0) {
    return {
      method: 'repush',
      reason: `method auto: ${referrers} referrer copies (signatures, SBOMs, attestations) are missing in the destinations; a native backfill is not documented to copy referrers, the re-push engine copies them`,
    };
  }

  const filters = method === 'auto' ? selectionFilters(config) : [];
  if (filters.length > 0) {
    return {
      method: 'repush',
      reason: `method auto: the selection is narrower than the replication scope (${filters.join(', ')}); a native backfill copies exactly what the replication rules cover`,
    };
  }

  const client = ecr({ region: config.sourceRegion, registryId: config.sourceRegistryId });
  const probe = await probeBackfillApi(client, config.sourceRegistryId);
  if (!probe.available) {
    return {
      method: 'repush',
      reason: `method ${method}: the native backfill API is not available: ${probe.reason}`,
    };
  }

  if (method === 'native') {
    const beyond = selectionFilters(config);
    return {
      method: 'native',
      reason:
        beyond.length > 0
          ? `method native requested; the backfill copies everything the replication rules cover, beyond this selection (${beyond.join(', ')}); the selection is verified`
          : 'method native requested; ListReplicationBackfills answers',
    };
  }
  const blockers = backfillBlockers(config, probe.backfills);
  if (blockers.length > 0) {
    return {
      method: 'repush',
      reason: `method auto: a native backfill would have to queue: ${blockers.join('; ')}`,
    };
  }
  const regions = [...new Set(config.destinations.map((d) => d.region))].join(', ');
  return {
    method: 'native',
    reason: `method auto: the selection is the whole replication scope, ListReplicationBackfills answers, and no other backfill is active in ${regions}`,
  };
}
