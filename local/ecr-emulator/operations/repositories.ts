import type { OperationContext, OperationHandler } from '../context.ts';
import { epochSeconds } from '../context.ts';
import { EcrError, invalidParameter, repositoryNotFound } from '../errors.ts';
import { parseMutability } from '../mutability.ts';
import { paginate } from '../pagination.ts';
import { isRecord, pageSize, requireArray, requireRepositoryName } from '../validation.ts';
import type { RepositoryRecord } from '../world.ts';

/** The `Repository` shape of the API. https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_Repository.html */
export function repositoryView(repository: RepositoryRecord): Record<string, unknown> {
  return {
    repositoryArn: `arn:aws:ecr:${repository.region}:${repository.account}:repository/${repository.name}`,
    registryId: repository.account,
    repositoryName: repository.name,
    repositoryUri: `${repository.account}.dkr.ecr.${repository.region}.amazonaws.com/${repository.name}`,
    createdAt: epochSeconds(repository.createdAt),
    imageTagMutability: repository.mutability,
    ...(repository.exclusionFilters.length > 0
      ? { imageTagMutabilityExclusionFilters: repository.exclusionFilters.map((f) => ({ ...f })) }
      : {}),
    imageScanningConfiguration: { scanOnPush: repository.scanOnPush },
    encryptionConfiguration: { ...repository.encryption },
  };
}

function parseResourceTags(value: unknown): { Key: string; Value: string }[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new EcrError('InvalidTagParameterException', 'tags must be a list');
  // Tag limits: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_Tag.html
  if (value.length > 50) throw new EcrError('TooManyTagsException', 'A repository can have at most 50 tags');
  return value.map((tag) => {
    if (!isRecord(tag) || typeof tag.Key !== 'string' || tag.Key.length < 1 || tag.Key.length > 128) {
      throw new EcrError('InvalidTagParameterException', 'Each tag needs a Key of 1 to 128 characters');
    }
    const tagValue = tag.Value ?? '';
    if (typeof tagValue !== 'string' || tagValue.length > 256) {
      throw new EcrError('InvalidTagParameterException', 'A tag Value has at most 256 characters');
    }
    return { Key: tag.Key, Value: tagValue };
  });
}

const createRepository: OperationHandler = (ctx, input) => {
  const name = requireRepositoryName(input.repositoryName);
  const { mutability, filters } = parseMutability(
    input.imageTagMutability,
    input.imageTagMutabilityExclusionFilters,
  );
  const tags = parseResourceTags(input.tags);
  const encryption = isRecord(input.encryptionConfiguration)
    ? {
        encryptionType:
          typeof input.encryptionConfiguration.encryptionType === 'string'
            ? input.encryptionConfiguration.encryptionType
            : 'AES256',
        ...(typeof input.encryptionConfiguration.kmsKey === 'string'
          ? { kmsKey: input.encryptionConfiguration.kmsKey }
          : {}),
      }
    : undefined;
  const repository = ctx.world.createRepository(ctx.account, ctx.region, name, {
    imageTagMutability: mutability,
    imageTagMutabilityExclusionFilters: filters,
    tags,
    scanOnPush:
      isRecord(input.imageScanningConfiguration) && input.imageScanningConfiguration.scanOnPush === true,
    ...(encryption ? { encryption } : {}),
  });
  return { repository: repositoryView(repository) };
};

const describeRepositories: OperationHandler = (ctx, input) => {
  const registry = ctx.world.registry(ctx.account, ctx.region);
  if (input.repositoryNames !== undefined) {
    // "This option cannot be used when you specify repositories with repositoryNames."
    if (input.nextToken !== undefined || input.maxResults !== undefined) {
      throw invalidParameter('nextToken and maxResults cannot be used together with repositoryNames');
    }
    const names = requireArray(input.repositoryNames, 'repositoryNames', 1, 100);
    const repositories = names.map((name) => {
      const repository = typeof name === 'string' ? registry.repositories.get(name) : undefined;
      if (!repository) throw repositoryNotFound(ctx.account, String(name));
      return repositoryView(repository);
    });
    return { repositories };
  }
  const limit = pageSize(input.maxResults, 1000, 100);
  const scope = `repos:${ctx.account}:${ctx.region}`;
  const { page, nextToken } = paginate(
    ctx.world.sortedRepositoryNames(registry),
    (name) => name,
    scope,
    input.nextToken,
    limit,
  );
  return {
    repositories: page.flatMap((name) => {
      const repository = registry.repositories.get(name);
      return repository ? [repositoryView(repository)] : [];
    }),
    ...(nextToken ? { nextToken } : {}),
  };
};

const deleteRepository: OperationHandler = (ctx, input) => {
  const name = requireRepositoryName(input.repositoryName);
  const repository = ctx.world.requireRepository(ctx.account, ctx.region, name);
  if (repository.images.size > 0 && input.force !== true) {
    throw new EcrError(
      'RepositoryNotEmptyException',
      `The repository with name '${name}' in registry with id '${ctx.account}' cannot be deleted because it still contains images`,
    );
  }
  const view = repositoryView(repository);
  ctx.world.deleteRepository(ctx.account, ctx.region, name);
  return { repository: view };
};

const putImageTagMutability: OperationHandler = (ctx: OperationContext, input) => {
  const name = requireRepositoryName(input.repositoryName);
  if (input.imageTagMutability === undefined) {
    throw invalidParameter("Invalid parameter at 'imageTagMutability': must not be null");
  }
  const { mutability, filters } = parseMutability(
    input.imageTagMutability,
    input.imageTagMutabilityExclusionFilters,
  );
  const repository = ctx.world.requireRepository(ctx.account, ctx.region, name);
  repository.mutability = mutability;
  repository.exclusionFilters = filters;
  return {
    registryId: ctx.account,
    repositoryName: name,
    imageTagMutability: mutability,
    ...(filters.length > 0 ? { imageTagMutabilityExclusionFilters: filters } : {}),
  };
};

export const repositoryOperations: Record<string, OperationHandler> = {
  CreateRepository: createRepository,
  DescribeRepositories: describeRepositories,
  DeleteRepository: deleteRepository,
  PutImageTagMutability: putImageTagMutability,
};
