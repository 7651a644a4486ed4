/**
 * Plan (docs/architecture.md §3.1 step 1): validate the input, resolve the destinations from the registry's
 * replication configuration, list every repository, keep those a rule covers, and cut them into
 * slices that PlanSlice children plan in parallel. Returns the RunContext every later step carries.
 *
 * Order matters for safety: the input is validated before any AWS call, and nothing is written
 * unless the run can go ahead (invalid input, "replication not configured", an unsafe strategy and a
 * cross-account destination whose registry policy refuses replication, and an unselected destination
 * the pushes would reach in an account the deployment cannot reach, write nothing). The
 * first write claims the run folder for this execution (run-owner.ts); the claim stays if a later
 * step fails, since a retry or redrive of the same execution finds it as its own.
 */
import { paginateDescribeRepositories, type ReplicationRule } from '@aws-sdk/client-ecr';
import type {
  DeleteReplicatingRule,
  Destination,
  PlanEvent,
  RunConfig,
  RunContext,
} from '../../core/contracts/contracts.ts';
import type { StepDeps } from '../../core/deps.ts';
import {
  deleteReplicatingRules,
  describeRegistryWithDeleteReplication,
  destinationsReplayingDeletes,
  type SourceRegistry,
} from '../../core/ecr/delete-replication.ts';
import {
  DeleteReplicationUnsafeError,
  InvalidInputError,
  NothingMatchedError,
  ReplicationNotConfiguredError,
  toStepError,
} from '../../core/errors/errors.ts';
import { describeDestination, type ResolvedInput } from '../../core/contracts/input-schema.ts';
import { runLogger } from '../../core/logger.ts';
import { NearbyNames, repositoryCoveredFor } from '../../core/contracts/patterns.ts';
import {
  DEFAULT_RUN_POLICY,
  nativeBarredBy,
  parseInputWithinPolicy,
  scopedRepositoryMatcher,
  type RunPolicy,
} from '../../core/contracts/run-policy.ts';
import { JsonLinesWriter, putJson, putText } from '../../core/run-files/run-store.ts';
import { refuseUngrantedDestinations, refuseUnpermittedDestinations } from './destination-policies.ts';
import { resolveDestinations } from '../../core/contracts/destinations.ts';
import { claimRunFolder } from './run-owner.ts';
import { reachedDestinations } from './reached-destinations.ts';
import { runIdFromExecutionName, runKeys, runPrefixFor } from '../../core/run-files/run-layout.ts';

/** `runs/<runId>/replication.json`: the replication configuration a run was planned with. */
export interface ReplicationSnapshot {
  registryId: string;
  rules: ReplicationRule[];
}

/** DescribeRepositories/DescribeImages page size: ECR's maximum. */
export const ECR_PAGE_SIZE = 1000;

/**
 * A slice travels in a PlanSlice child's input (≤ 256 KiB per state). Repository names are up to
 * 256 characters, so besides `planSliceSize` a slice is also cut at this many bytes of names.
 */
export const MAX_SLICE_NAME_BYTES = 128 * 1024;

export type PlanDeps = Pick<StepDeps, 'ecr' | 'runStore' | 'logger' | 'env'>;

export async function plan(event: PlanEvent, deps: PlanDeps): Promise<RunContext> {
  const runId = runIdFromExecutionName(event.executionName);
  const logger = runLogger(deps.logger, runId, 'Plan');
  const policy = deps.env.runPolicy ?? DEFAULT_RUN_POLICY;
  const input = parseInputWithinPolicy(
    event.input,
    { defaultInput: deps.env.defaultInput, sourceRegion: deps.env.sourceRegion },
    policy,
  );

  const registry = await describeSourceRegistry(deps, input.sourceRegion);
  const resolved = resolveDestinations(input.destinations, registry.rules);
  if (resolved.problems.length > 0) throw new InvalidInputError(resolved.problems);
  if (registry.rules.length === 0 || resolved.destinations.length === 0) {
    throw new ReplicationNotConfiguredError(noReplicationMessage(input.sourceRegion, registry.registryId));
  }

  const config = runConfig(input, registry.registryId, resolved.destinations);
  const replayingDeletes = deleteReplicatingRules(registry.rules);
  refuseUnsafeStrategy(config, replayingDeletes);
  // The scope binds every engine: native only runs where its whole-registry reach lies inside it.
  const nativeBarred = nativeBarredBy(policy, registry.rules, config.destinations);
  refuseNativeBeyondPolicy(config, nativeBarred);
  // Before the claim below, Plan's first write: a destination that would refuse replication leaves
  // no run folder behind (destination-policies.ts).
  refuseUngrantedDestinations(config.sourceRegistryId, config.destinations, deps.env.directAccounts ?? []);
  await refuseUnpermittedDestinations(deps.ecr, config.sourceRegistryId, config.destinations, logger);
  // Unselected destinations the pushes replicate to: each reached directly or through a role, or refused.
  const reached = await reachedDestinations(deps.ecr, config, registry.rules, policy, {
    directAccounts: deps.env.directAccounts ?? [],
    destinationRoleArns: deps.env.destinationRoleArns ?? [],
  });
  const runPrefix = runPrefixFor(runId);
  const bucket = deps.env.runBucket;
  await claimRunFolder(deps.runStore, bucket, runKeys(runPrefix).execution, runId, {
    executionName: event.executionName,
    ...(event.executionStartTime !== undefined && { executionStartTime: event.executionStartTime }),
  });
  const slicing = await sliceCoveredRepositories(
    deps,
    config,
    policy,
    registry.rules,
    bucket,
    runKeys(runPrefix).slices,
  );

  if (slicing.selected === 0 && config.repositories.length > 0) {
    throw nothingMatched(config.repositories, policy, slicing);
  }
  if (slicing.selected > 0 && slicing.covered === 0) {
    throw new ReplicationNotConfiguredError(
      notCoveredMessage(config, registry.rules, slicing.selected, slicing.uncoveredExamples),
    );
  }
  // The slices judge coverage with the very rules this plan used (and need no DescribeRegistry each).
  const snapshot: ReplicationSnapshot = { registryId: registry.registryId, rules: registry.rules };
  await putJson(deps.runStore, bucket, runKeys(runPrefix).replication, snapshot);
  logger.info('Planned repository slices', {
    repositoriesListed: slicing.listed,
    repositoriesSelected: slicing.selected,
    repositoriesCovered: slicing.covered,
    notCoveredRepositories: slicing.selected - slicing.covered,
    slices: slicing.slices,
    destinations: config.destinations.map((d) => describeDestination(d)),
  });
  return {
    runId,
    bucket,
    runPrefix,
    config,
    slices: { key: runKeys(runPrefix).slices, count: slicing.slices },
    notCoveredRepositories: slicing.selected - slicing.covered,
    reachedDestinations: reached,
    ...(replayingDeletes.length > 0 && { deleteReplicatingRules: replayingDeletes }),
    ...(nativeBarred.length > 0 && { nativeBarred }),
  };
}

/**
 * `method: native` where the run policy bars it (its reach beyond the repository scope): refused
 * before anything is written, naming the rules that reach beyond. `auto` is not refused: the
 * engine choice reads `nativeBarred` and re-pushes (native-engine-choice.ts).
 */
function refuseNativeBeyondPolicy(config: RunConfig, barred: readonly string[]): void {
  if (config.method !== 'native' || barred.length === 0) return;
  throw new InvalidInputError([
    `method: "native" is not allowed here: ${barred.join('; ')}. Nothing was written. Use method repush or auto (which re-pushes only the selection).`,
  ]);
}

/**
 * retag-source deletes each original tag in the source before putting it back; under a rule that
 * replicates deletes that delete is replayed in the rule's destinations, where the tag may have
 * been pullable all along (and stays gone if the re-put never replicates): docs/architecture.md §3.2 #9 cannot
 * hold there. So the run is refused before anything is written, naming the rules and destinations
 * concerned. promote never deletes an original tag (only its own temp tags), so it stays safe.
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-delete.html
 */
function refuseUnsafeStrategy(config: RunConfig, rules: readonly DeleteReplicatingRule[]): void {
  if (config.strategy !== 'retag-source') return;
  const concerned = destinationsReplayingDeletes(rules, config.repositories);
  if (concerned.length === 0) return;
  const ruleList = rules.map((r) => `rule ${r.rule}`).join(', ');
  throw new DeleteReplicationUnsafeError(
    `strategy retag-source deletes and re-puts source tags, and replication rules that replicate deletes (${ruleList}) would replay each delete in ${concerned
      .map((d) => describeDestination(d))
      .join(
        ', ',
      )}, making tags pullable there unpullable until the re-put replicates (docs/architecture.md §3.2 #9). ` +
      `Nothing was written. Use strategy promote (the default), which never deletes an original tag, or narrow 'repositories' to ones those rules do not cover.`,
  );
}

async function describeSourceRegistry(deps: PlanDeps, region: string): Promise<SourceRegistry> {
  try {
    return await describeRegistryWithDeleteReplication(deps.ecr({ region }));
  } catch (error) {
    throw toStepError(error, `ECR DescribeRegistry in ${region}`);
  }
}

function runConfig(input: ResolvedInput, sourceRegistryId: string, destinations: Destination[]): RunConfig {
  const { sourceRegistryId: _ignored, destinations: _requested, ...rest } = input;
  return { ...rest, sourceRegistryId, destinations };
}

interface SlicingResult {
  listed: number;
  selected: number;
  covered: number;
  slices: number;
  uncoveredExamples: string[];
  /** Listed (in-scope) repositories closest to the selection's patterns, while none is selected. */
  nearby: NearbyNames;
}

/**
 * Lists the source repositories page by page and writes the covered ones as slices, holding at most
 * one page plus the slice being filled. The slice file is only opened once a covered repository
 * shows up, so a selection no rule covers writes nothing.
 */
async function sliceCoveredRepositories(
  deps: PlanDeps,
  config: RunConfig,
  policy: RunPolicy,
  rules: ReplicationRule[],
  bucket: string,
  slicesKey: string,
): Promise<SlicingResult> {
  // The deployer's repository scope bounds the selection: outside it, a repository is never listed.
  const selects = scopedRepositoryMatcher(config.repositories, policy);
  const inScope = scopedRepositoryMatcher([], policy);
  const result: SlicingResult = {
    listed: 0,
    selected: 0,
    covered: 0,
    slices: 0,
    uncoveredExamples: [],
    nearby: new NearbyNames(config.repositories),
  };
  let writer: JsonLinesWriter | undefined;
  let current: string[] = [];
  let currentBytes = 0;

  const flush = async () => {
    if (current.length === 0) return;
    writer ??= new JsonLinesWriter(deps.runStore, bucket, slicesKey);
    await writer.write({ sliceIndex: result.slices, repositories: current });
    result.slices += 1;
    current = [];
    currentBytes = 0;
  };

  const client = deps.ecr({ region: config.sourceRegion });
  try {
    const pages = paginateDescribeRepositories(
      { client, pageSize: ECR_PAGE_SIZE },
      { registryId: config.sourceRegistryId, maxResults: ECR_PAGE_SIZE },
    );
    for await (const page of pages) {
      for (const repository of page.repositories ?? []) {
        const name = repository.repositoryName;
        if (name === undefined) continue;
        result.listed += 1;
        if (!selects(name)) {
          // Only needed while nothing is selected: a selection that matches nothing names these.
          if (result.selected === 0 && inScope(name)) result.nearby.offer(name);
          continue;
        }
        result.selected += 1;
        if (!config.destinations.some((d) => repositoryCoveredFor(rules, name, d))) {
          if (result.uncoveredExamples.length < 5) result.uncoveredExamples.push(name);
          continue;
        }
        result.covered += 1;
        const bytes = Buffer.byteLength(name) + 3;
        if (current.length >= config.planSliceSize || currentBytes + bytes > MAX_SLICE_NAME_BYTES)
          await flush();
        current.push(name);
        currentBytes += bytes;
      }
    }
    await flush();
  } catch (error) {
    await writer?.abort();
    throw toStepError(error, `ECR DescribeRepositories in ${config.sourceRegion}`);
  }
  if (writer) await writer.close();
  else if (result.selected === 0) {
    // Nothing to plan: an empty slices file keeps the layout uniform for the map and the CLI.
    await putText(deps.runStore, bucket, slicesKey, '', 'application/x-ndjson');
  }
  return result;
}

const HOW_TO_ENABLE =
  "Configure private registry replication (ECR console → Private registry → Replication, or `aws ecr put-replication-configuration`), or set the EcrReplicationBackfill construct's `replication` prop, then start the backfill again. A backfill only copies what replication itself would copy.";

function noReplicationMessage(region: string, registryId: string): string {
  return `The registry ${registryId} in ${region} has no replication rules, so there is nothing to backfill to. ${HOW_TO_ENABLE}`;
}

/**
 * The input's repository patterns selected no repository: a typo is the usual cause, and reporting
 * "nothing to backfill" would read as success. Names the patterns, the scope and what exists nearby.
 */
function nothingMatched(patterns: string[], policy: RunPolicy, slicing: SlicingResult): NothingMatchedError {
  const nearby = slicing.nearby.names();
  const scope =
    policy.repositoryScope.length > 0
      ? ` within the deployment's repositoryScope (${policy.repositoryScope.join(', ')})`
      : '';
  const near =
    nearby.length > 0
      ? `Nearby: ${nearby.join(', ')}.`
      : slicing.listed === 0
        ? 'The registry has no repositories.'
        : 'No repository is in scope.';
  return new NothingMatchedError(
    'repositories',
    patterns,
    nearby,
    `repositories: ${patterns.map((p) => JSON.stringify(p)).join(', ')} matched none of the ${slicing.listed} repositories${scope}. ${near} ` +
      'Nothing was backfilled: fix the filter (a plain pattern is a prefix, * and ? are globs) and start a new execution.',
  );
}

function notCoveredMessage(
  config: RunConfig,
  rules: readonly ReplicationRule[],
  selected: number,
  examples: string[],
): string {
  const ruleText = rules
    .map((rule, i) => {
      const filters = (rule.repositoryFilters ?? []).map((f) => f.filter).join(', ') || 'all repositories';
      const targets = (rule.destinations ?? []).map((d) => `${d.region} (${d.registryId})`).join(', ');
      return `rule ${i + 1}: ${filters} → ${targets}`;
    })
    .join('; ');
  return (
    `No replication rule covers the ${selected} selected repositories (e.g. ${examples.join(', ')}) ` +
    `for the selected destinations (${config.destinations.map((d) => describeDestination(d)).join(', ')}). ` +
    `Configured: ${ruleText}. Add a repository filter that covers them, or change \`repositories\`/\`destinations\`. ${HOW_TO_ENABLE}`
  );
}
