import type { OperationHandler } from '../context.ts';
import { EcrError, invalidParameter } from '../errors.ts';
import { isRecord, isValidRegion, isValidRegistryId, requireRepositoryName } from '../validation.ts';
import type { ReplicationConfiguration, ReplicationDestination, ReplicationRule } from '../world.ts';
import { requireImage } from './images.ts';

// Limits: https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html and
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ReplicationConfiguration.html
export const MAX_RULES = 10;
export const MAX_UNIQUE_DESTINATIONS = 25;
export const MAX_FILTERS_PER_RULE = 100;
const FILTER = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]*(?:[._-][a-z0-9]*)*\/?$/;

/**
 * Validates a replication configuration. Malformed values are InvalidParameterException; exceeded
 * limits are ValidationException (both are modeled for PutReplicationConfiguration; AWS does not say
 * which check raises which, so the emulator keeps "bad value" and "too many" apart).
 */
export function parseReplicationConfiguration(
  value: unknown,
  source: { account: string; region: string },
): ReplicationConfiguration {
  if (!isRecord(value) || !Array.isArray(value.rules)) {
    throw invalidParameter("Invalid parameter at 'replicationConfiguration': rules are required");
  }
  if (value.rules.length > MAX_RULES) {
    throw new EcrError(
      'ValidationException',
      `A replication configuration can have at most ${MAX_RULES} rules`,
    );
  }
  const unique = new Set<string>();
  const rules = value.rules.map((raw, index): ReplicationRule => {
    if (!isRecord(raw) || !Array.isArray(raw.destinations) || raw.destinations.length === 0) {
      throw invalidParameter(
        `Invalid parameter at 'rules[${index}].destinations': at least one destination is required`,
      );
    }
    const destinations = raw.destinations.map((d): ReplicationDestination => {
      if (!isRecord(d) || typeof d.region !== 'string' || !isValidRegion(d.region)) {
        throw invalidParameter(`Invalid parameter at 'rules[${index}].destinations.region'`);
      }
      if (typeof d.registryId !== 'string' || !isValidRegistryId(d.registryId)) {
        throw invalidParameter(
          `Invalid parameter at 'rules[${index}].destinations.registryId': must be 12 digits`,
        );
      }
      if (d.region === source.region && d.registryId === source.account) {
        throw invalidParameter(
          `Invalid parameter: a replication destination cannot be the source registry itself (${d.registryId}, ${d.region})`,
        );
      }
      unique.add(`${d.registryId}/${d.region}`);
      return { region: d.region, registryId: d.registryId };
    });
    const rawFilters = raw.repositoryFilters ?? [];
    if (!Array.isArray(rawFilters))
      throw invalidParameter(`Invalid parameter at 'rules[${index}].repositoryFilters'`);
    if (rawFilters.length > MAX_FILTERS_PER_RULE) {
      throw new EcrError(
        'ValidationException',
        `A rule can have at most ${MAX_FILTERS_PER_RULE} repository filters`,
      );
    }
    const repositoryFilters = rawFilters.map((f) => {
      if (!isRecord(f) || f.filterType !== 'PREFIX_MATCH') {
        throw invalidParameter("Invalid parameter: repository filters must have filterType 'PREFIX_MATCH'");
      }
      if (
        typeof f.filter !== 'string' ||
        f.filter.length < 2 ||
        f.filter.length > 256 ||
        !FILTER.test(f.filter)
      ) {
        throw invalidParameter(
          `Invalid parameter: repository filter '${String(f.filter)}' is not a valid prefix`,
        );
      }
      return { filter: f.filter, filterType: 'PREFIX_MATCH' as const };
    });
    // https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DeleteReplication.html:
    // `{enabled: boolean}`, required when the member is present.
    let deleteReplication: { enabled: boolean } | undefined;
    if (raw.deleteReplication !== undefined) {
      if (!isRecord(raw.deleteReplication) || typeof raw.deleteReplication.enabled !== 'boolean') {
        throw invalidParameter(
          `Invalid parameter at 'rules[${index}].deleteReplication.enabled': must be a boolean`,
        );
      }
      deleteReplication = { enabled: raw.deleteReplication.enabled };
    }
    return {
      destinations,
      ...(repositoryFilters.length > 0 ? { repositoryFilters } : {}),
      ...(deleteReplication ? { deleteReplication } : {}),
    };
  });
  if (unique.size > MAX_UNIQUE_DESTINATIONS) {
    throw new EcrError(
      'ValidationException',
      `A replication configuration can have at most ${MAX_UNIQUE_DESTINATIONS} unique destinations`,
    );
  }
  return { rules };
}

const describeRegistry: OperationHandler = (ctx) => ({
  registryId: ctx.account,
  replicationConfiguration: structuredClone(
    ctx.world.registry(ctx.account, ctx.region).replicationConfiguration,
  ),
});

const putReplicationConfiguration: OperationHandler = (ctx, input) => {
  const configuration = parseReplicationConfiguration(input.replicationConfiguration, ctx);
  ctx.world.setReplicationConfiguration(ctx.account, ctx.region, configuration);
  return { replicationConfiguration: configuration };
};

/**
 * Status per destination of an image's replication. Statuses exist for pushes made while a rule
 * covered the repository; an image never pushed under replication has none (an empty list).
 */
const describeImageReplicationStatus: OperationHandler = (ctx, input) => {
  const name = requireRepositoryName(input.repositoryName);
  if (!isRecord(input.imageId)) throw invalidParameter("Invalid parameter at 'imageId': must not be null");
  const repository = ctx.world.requireRepository(ctx.account, ctx.region, name);
  const image = requireImage(ctx, repository, input.imageId);
  const statuses = ctx.world.replicationStatuses(ctx.account, ctx.region, name, image.digest);
  return {
    repositoryName: name,
    imageId: {
      imageDigest: image.digest,
      ...(typeof input.imageId.imageTag === 'string' ? { imageTag: input.imageId.imageTag } : {}),
    },
    replicationStatuses: statuses.map((s) => ({
      region: s.region,
      registryId: s.registryId,
      status: s.status,
      ...(s.failureCode ? { failureCode: s.failureCode } : {}),
    })),
  };
};

export const replicationOperations: Record<string, OperationHandler> = {
  DescribeRegistry: describeRegistry,
  PutReplicationConfiguration: putReplicationConfiguration,
  DescribeImageReplicationStatus: describeImageReplicationStatus,
};
