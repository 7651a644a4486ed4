import type { OperationContext, OperationHandler } from '../context.ts';
import { epochSeconds } from '../context.ts';
import { EcrError, invalidParameter } from '../errors.ts';
import {
  DEFAULT_ACCEPTED_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  inspectManifest,
  type ManifestInfo,
} from '../media-types.ts';
import { convertManifest } from '../manifest-conversion.ts';
import { isTagImmutable } from '../mutability.ts';
import { paginate } from '../pagination.ts';
import {
  isRecord,
  isValidDigest,
  isValidTag,
  optionalString,
  pageSize,
  requireArray,
  requireRepositoryName,
  requireString,
  sha256Digest,
} from '../validation.ts';
import {
  MAX_IMAGES_PER_REPOSITORY,
  MAX_TAGS_PER_IMAGE,
  type ImageRecord,
  type RepositoryRecord,
} from '../world.ts';

// Manifests are limited to 4 MiB. https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** "Up to 100 image ids per Batch* call" (docs/aws-facts.md, botocore ECR model). */
const MAX_BATCH_IMAGE_IDS = 100;

function validateTag(tag: string | undefined, field = 'imageTag'): void {
  if (tag !== undefined && !isValidTag(tag)) {
    throw invalidParameter(
      `Invalid parameter at '${field}' failed to satisfy constraint: 'not a valid image tag'`,
    );
  }
}

/**
 * PutImage. https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html
 * The digest is the sha256 of the exact manifest bytes (never re-serialized).
 */
const putImage: OperationHandler = (ctx, input) => {
  const name = requireRepositoryName(input.repositoryName);
  const manifest = requireString(input.imageManifest, 'imageManifest');
  if (Buffer.byteLength(manifest, 'utf8') > MAX_MANIFEST_BYTES) {
    throw invalidParameter("Invalid parameter at 'imageManifest': the manifest exceeds 4 MiB");
  }
  const tag = optionalString(input.imageTag, 'imageTag');
  validateTag(tag);
  const givenDigest = optionalString(input.imageDigest, 'imageDigest');
  if (givenDigest !== undefined && !isValidDigest(givenDigest)) {
    throw invalidParameter("Invalid parameter at 'imageDigest': not a valid digest");
  }
  const requestedMediaType = optionalString(input.imageManifestMediaType, 'imageManifestMediaType');
  const repository = ctx.world.requireRepository(ctx.account, ctx.region, name);

  const digest = sha256Digest(Buffer.from(manifest, 'utf8'));
  if (givenDigest !== undefined && givenDigest !== digest) {
    throw new EcrError(
      'ImageDigestDoesNotMatchException',
      `Provided image digest '${givenDigest}' does not match the calculated digest '${digest}'`,
    );
  }
  const { mediaType, info } = parseManifest(manifest, requestedMediaType);

  const missingChildren = info.children.filter((child) => !repository.images.has(child.digest));
  if (missingChildren.length > 0) {
    throw new EcrError(
      'ReferencedImagesNotFoundException',
      `The following referenced images were not found: ${missingChildren.map((c) => c.digest).join(', ')}`,
    );
  }
  const missingBlobs = info.blobs.filter((blob) => !repository.blobs.has(blob.digest));
  if (missingBlobs.length > 0) {
    throw new EcrError(
      'LayersNotFoundException',
      `Layers with digests '[${missingBlobs.map((b) => b.digest).join(', ')}]' required for pushing image into repository with name '${name}' in registry with id '${ctx.account}' do not exist`,
    );
  }

  const existing = repository.images.get(digest);
  const archived = existing?.status === 'ARCHIVED';
  if (tag !== undefined) {
    const current = repository.tags.get(tag);
    // docs/aws-facts.md: in an immutable repository an existing tag is refused even when it already points
    // at the same digest (ECR checks the tag, not the content), so immutability is checked first.
    if (current !== undefined && isTagImmutable(repository.mutability, repository.exclusionFilters, tag)) {
      throw new EcrError(
        'ImageTagAlreadyExistsException',
        `The image tag '${tag}' already exists in the '${name}' repository and cannot be overwritten because the tag is immutable.`,
      );
    }
    // "The specified image has already been pushed, and there were no changes to the manifest or image
    // tag after the last push." An archived image is the exception: re-pushing restores it.
    if (current === digest && !archived) throw imageAlreadyExists(digest, tag);
    if (existing && current !== digest && existing.tags.length >= MAX_TAGS_PER_IMAGE) {
      throw new EcrError('LimitExceededException', `An image can have at most ${MAX_TAGS_PER_IMAGE} tags`);
    }
  } else if (existing && !archived) {
    throw imageAlreadyExists(digest);
  }
  if (!existing && repository.images.size >= MAX_IMAGES_PER_REPOSITORY) {
    throw new EcrError(
      'LimitExceededException',
      `A repository can hold at most ${MAX_IMAGES_PER_REPOSITORY} images`,
    );
  }

  const image = existing ?? ctx.world.createImage(repository, { digest, manifest, mediaType, info });
  // Re-pushing an archived image restores it to ACTIVE (and it is then replicated).
  // https://docs.aws.amazon.com/AmazonECR/latest/userguide/archive_restore_image.html
  if (archived) ctx.world.setImageStatus(repository, image, 'ACTIVE');
  if (tag !== undefined) ctx.world.setTag(repository, tag, digest);
  ctx.replication.onPush(repository, digest, tag);
  return {
    image: {
      registryId: ctx.account,
      repositoryName: name,
      imageId: { imageDigest: digest, ...(tag !== undefined ? { imageTag: tag } : {}) },
      imageManifest: image.manifest,
      imageManifestMediaType: image.mediaType,
    },
  };
};

const imageAlreadyExists = (digest: string, tag?: string) =>
  new EcrError(
    'ImageAlreadyExistsException',
    tag !== undefined
      ? `Image with digest '${digest}' and tag '${tag}' already exists in the repository`
      : `Image with digest '${digest}' already exists in the repository`,
  );

/** Effective media type (request's, else the manifest's own) and the references of the manifest. */
export function parseManifest(
  manifest: string,
  requestedMediaType: string | undefined,
): { mediaType: string; info: ManifestInfo } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(manifest);
  } catch {
    throw invalidParameter(
      "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'",
    );
  }
  const declared = isRecord(parsed) && typeof parsed.mediaType === 'string' ? parsed.mediaType : undefined;
  const mediaType = requestedMediaType ?? declared;
  if (mediaType === undefined) {
    throw invalidParameter(
      'Invalid parameter: the manifest has no mediaType field; imageManifestMediaType is required',
    );
  }
  if (requestedMediaType !== undefined && declared !== undefined && requestedMediaType !== declared) {
    throw invalidParameter(
      `Invalid parameter: imageManifestMediaType '${requestedMediaType}' does not match the manifest's mediaType '${declared}'`,
    );
  }
  if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) {
    throw invalidParameter(`Invalid parameter: unsupported manifest media type '${mediaType}'`);
  }
  try {
    return { mediaType, info: inspectManifest(parsed, mediaType) };
  } catch (error) {
    throw invalidParameter(`Invalid parameter at 'ImageManifest': ${(error as Error).message}`);
  }
}

interface ImageIdFailure {
  imageId: { imageDigest?: string; imageTag?: string };
  failureCode: string;
  failureReason: string;
}

/** Resolves one ImageIdentifier the way the Batch* calls do, with ECR's per-item failure codes. */
function resolveImageId(
  repository: RepositoryRecord,
  raw: unknown,
): { image: ImageRecord; tag?: string } | { failure: ImageIdFailure } {
  const id = isRecord(raw) ? raw : {};
  const digest = typeof id.imageDigest === 'string' ? id.imageDigest : undefined;
  const tag = typeof id.imageTag === 'string' ? id.imageTag : undefined;
  const imageId = {
    ...(digest !== undefined ? { imageDigest: digest } : {}),
    ...(tag !== undefined ? { imageTag: tag } : {}),
  };
  const fail = (failureCode: string, failureReason: string) => ({
    failure: { imageId, failureCode, failureReason },
  });
  if (digest === undefined && tag === undefined) {
    return fail('MissingDigestAndTag', 'Invalid request parameters: both tag and digest cannot be null');
  }
  if (digest !== undefined && !isValidDigest(digest))
    return fail('InvalidImageDigest', 'Invalid image digest');
  if (tag !== undefined && !isValidTag(tag)) return fail('InvalidImageTag', 'Invalid image tag');
  const byTag = tag !== undefined ? repository.tags.get(tag) : undefined;
  if (tag !== undefined && digest !== undefined) {
    if (byTag === undefined || !repository.images.has(digest))
      return fail('ImageNotFound', 'Requested image not found');
    if (byTag !== digest)
      return fail(
        'ImageTagDoesNotMatchDigest',
        'Invalid request parameters: given tag does not match the digest',
      );
  }
  const resolved = digest ?? byTag;
  const image = resolved !== undefined ? repository.images.get(resolved) : undefined;
  if (!image) return fail('ImageNotFound', 'Requested image not found');
  return { image, ...(tag !== undefined ? { tag } : {}) };
}

/**
 * BatchGetImage. https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchGetImage.html
 * The stored manifest is returned byte for byte when its media type is accepted. Fetched *by tag* in
 * a type the caller did not accept, ECR converts the manifest where its user guide lists a conversion
 * (manifest-conversion.ts; the bytes and their sha256 change, `imageId.imageDigest` stays the stored
 * image's), else the id fails with `ImageNotFound`: `UnsupportedImageType` is no ImageFailureCode.
 * By digest there is no conversion: the manifest is returned as stored.
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-manifest-formats.html
 */
const batchGetImage: OperationHandler = (ctx, input) => {
  const name = requireRepositoryName(input.repositoryName);
  const ids = requireArray(input.imageIds, 'imageIds', 1, MAX_BATCH_IMAGE_IDS);
  const accepted =
    input.acceptedMediaTypes === undefined
      ? DEFAULT_ACCEPTED_MEDIA_TYPES
      : requireArray(input.acceptedMediaTypes, 'acceptedMediaTypes', 1, 100).map(String);
  const repository = ctx.world.requireRepository(ctx.account, ctx.region, name);
  const images: Record<string, unknown>[] = [];
  const failures: ImageIdFailure[] = [];
  const seen = new Set<string>();
  for (const raw of ids) {
    const result = resolveImageId(repository, raw);
    if ('failure' in result) {
      failures.push(result.failure);
      continue;
    }
    const { image, tag } = result;
    const requestedByDigest = isRecord(raw) && typeof raw.imageDigest === 'string';
    let returned = { manifest: image.manifest, mediaType: image.mediaType };
    if (!requestedByDigest && !accepted.includes(image.mediaType)) {
      const converted = convertManifest(image.manifest, image.mediaType, accepted);
      if (!converted) {
        failures.push({
          imageId: { ...(tag !== undefined ? { imageTag: tag } : {}) },
          failureCode: 'ImageNotFound',
          failureReason: `The image is a ${image.mediaType}, which is not among the accepted media types and does not convert to one`,
        });
        continue;
      }
      returned = converted;
    }
    const dedupeKey = `${image.digest} ${tag ?? ''}`;
    if (seen.has(dedupeKey)) continue;
    seen.add(dedupeKey);
    // Pulls are recorded (lastRecordedPullTime); AWS updates it lazily, the emulator immediately.
    image.lastRecordedPullTime = ctx.world.now();
    images.push({
      registryId: ctx.account,
      repositoryName: name,
      imageId: { imageDigest: image.digest, ...(tag !== undefined ? { imageTag: tag } : {}) },
      imageManifest: returned.manifest,
      imageManifestMediaType: returned.mediaType,
    });
  }
  return { images, failures };
};

/**
 * BatchDeleteImage. Removing a tag removes only that tag; "when you remove the last tag from an image,
 * the image is deleted from your repository" (botocore ECR model). Deleting by digest removes the
 * image with every tag, unless an index in the repository references it. Deletes are replicated only
 * by rules with `deleteReplication` enabled (replication-engine.ts).
 */
const batchDeleteImage: OperationHandler = (ctx, input) => {
  const name = requireRepositoryName(input.repositoryName);
  const ids = requireArray(input.imageIds, 'imageIds', 1, MAX_BATCH_IMAGE_IDS);
  const repository = ctx.world.requireRepository(ctx.account, ctx.region, name);
  const deleted: { imageDigest: string; imageTag?: string }[] = [];
  const failures: ImageIdFailure[] = [];
  for (const raw of ids) {
    const result = resolveImageId(repository, raw);
    if ('failure' in result) {
      failures.push(result.failure);
      continue;
    }
    const { image, tag } = result;
    if (tag !== undefined) {
      // By tag (with or without a matching digest): only that tag goes.
      ctx.world.removeTag(repository, tag);
      deleted.push({ imageDigest: image.digest, imageTag: tag });
      // Silent in AWS docs: an image that loses its last tag while an index references it stays,
      // untagged, because deleting it would break the index.
      if (image.tags.length === 0 && ctx.world.referencingIndexes(repository, image.digest).length === 0) {
        ctx.world.deleteImage(repository, image.digest);
        ctx.replication.onImageDeleted(repository, image.digest);
      } else {
        ctx.replication.onTagRemoved(repository, tag);
      }
      continue;
    }
    const referencedBy = ctx.world.referencingIndexes(repository, image.digest);
    if (referencedBy.length > 0) {
      failures.push({
        imageId: { imageDigest: image.digest },
        failureCode: 'ImageReferencedByManifestList',
        failureReason: `Requested image is referenced by an image index (${referencedBy.join(', ')})`,
      });
      continue;
    }
    const tags = [...image.tags];
    ctx.world.deleteImage(repository, image.digest);
    ctx.replication.onImageDeleted(repository, image.digest);
    if (tags.length === 0) deleted.push({ imageDigest: image.digest });
    for (const t of tags) deleted.push({ imageDigest: image.digest, imageTag: t });
  }
  return { imageIds: deleted, failures };
};

type TagStatus = 'TAGGED' | 'UNTAGGED' | 'ANY';
type StatusFilter = 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING' | 'ANY';

function parseFilter(value: unknown): { tagStatus: TagStatus; imageStatus: StatusFilter } {
  const filter = isRecord(value) ? value : {};
  const tagStatus = filter.tagStatus ?? 'ANY';
  const imageStatus = filter.imageStatus ?? 'ACTIVE';
  if (tagStatus !== 'TAGGED' && tagStatus !== 'UNTAGGED' && tagStatus !== 'ANY') {
    throw invalidParameter("Invalid parameter at 'filter.tagStatus': must be TAGGED, UNTAGGED or ANY");
  }
  if (
    imageStatus !== 'ACTIVE' &&
    imageStatus !== 'ARCHIVED' &&
    imageStatus !== 'ACTIVATING' &&
    imageStatus !== 'ANY'
  ) {
    throw invalidParameter(
      "Invalid parameter at 'filter.imageStatus': must be ACTIVE, ARCHIVED, ACTIVATING or ANY",
    );
  }
  return { tagStatus, imageStatus };
}

/**
 * Archived images are listed only when `filter.imageStatus` asks for them (default ACTIVE).
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/archive_restore_image.html
 */
function imageMatches(
  image: ImageRecord,
  filter: { tagStatus: TagStatus; imageStatus: StatusFilter },
): boolean {
  if (filter.imageStatus !== 'ANY' && image.status !== filter.imageStatus) return false;
  if (filter.tagStatus === 'TAGGED') return image.tags.length > 0;
  if (filter.tagStatus === 'UNTAGGED') return image.tags.length === 0;
  return true;
}

/** ListImages: one entry per tag (digest + tag), one per untagged image (digest only). */
const listImages: OperationHandler = (ctx, input) => {
  const name = requireRepositoryName(input.repositoryName);
  const limit = pageSize(input.maxResults, 1000, 100);
  const filter = parseFilter(input.filter);
  const repository = ctx.world.requireRepository(ctx.account, ctx.region, name);
  const entries: { imageDigest: string; imageTag?: string }[] = [];
  for (const digest of ctx.world.sortedDigests(repository)) {
    const image = repository.images.get(digest);
    if (!image || !imageMatches(image, filter)) continue;
    if (image.tags.length === 0) entries.push({ imageDigest: digest });
    else for (const tag of [...image.tags].sort()) entries.push({ imageDigest: digest, imageTag: tag });
  }
  const { page, nextToken } = paginate(
    entries,
    (entry) => `${entry.imageDigest} ${entry.imageTag ?? ''}`,
    `list-images:${ctx.account}:${ctx.region}:${name}:${filter.tagStatus}:${filter.imageStatus}`,
    input.nextToken,
    limit,
  );
  return { imageIds: page, ...(nextToken ? { nextToken } : {}) };
};

export function imageDetail(repository: RepositoryRecord, image: ImageRecord): Record<string, unknown> {
  return {
    registryId: repository.account,
    repositoryName: repository.name,
    imageDigest: image.digest,
    ...(image.tags.length > 0 ? { imageTags: [...image.tags] } : {}),
    imageSizeInBytes: image.sizeInBytes,
    imagePushedAt: epochSeconds(image.pushedAt),
    imageManifestMediaType: image.mediaType,
    ...(image.artifactMediaType ? { artifactMediaType: image.artifactMediaType } : {}),
    ...(image.lastRecordedPullTime !== undefined
      ? { lastRecordedPullTime: epochSeconds(image.lastRecordedPullTime) }
      : {}),
    ...(image.subjectDigest ? { subjectManifestDigest: image.subjectDigest } : {}),
    imageStatus: image.status,
    ...(image.lastArchivedAt !== undefined ? { lastArchivedAt: epochSeconds(image.lastArchivedAt) } : {}),
    ...(image.lastActivatedAt !== undefined ? { lastActivatedAt: epochSeconds(image.lastActivatedAt) } : {}),
  };
}

/** DescribeImages: one detail per digest; with `imageIds`, every id must resolve. */
const describeImages: OperationHandler = (ctx, input) => {
  const name = requireRepositoryName(input.repositoryName);
  const repository = ctx.world.requireRepository(ctx.account, ctx.region, name);
  if (input.imageIds !== undefined) {
    // "This option cannot be used when you specify images with imageIds."
    if (input.nextToken !== undefined || input.maxResults !== undefined) {
      throw invalidParameter('nextToken and maxResults cannot be used together with imageIds');
    }
    const ids = requireArray(input.imageIds, 'imageIds', 1, MAX_BATCH_IMAGE_IDS);
    const details = new Map<string, Record<string, unknown>>();
    for (const raw of ids) {
      const result = resolveImageId(repository, raw);
      if ('failure' in result) {
        const { imageId, failureCode } = result.failure;
        if (failureCode === 'ImageNotFound' || failureCode === 'ImageTagDoesNotMatchDigest') {
          throw new EcrError(
            'ImageNotFoundException',
            `The image with imageId {imageDigest:'${imageId.imageDigest ?? 'null'}', imageTag:'${imageId.imageTag ?? 'null'}'} does not exist within the repository with name '${name}' in the registry with id '${ctx.account}'`,
          );
        }
        throw invalidParameter(`Invalid parameter at 'imageIds': ${result.failure.failureReason}`);
      }
      details.set(result.image.digest, imageDetail(repository, result.image));
    }
    return { imageDetails: [...details.values()] };
  }
  const limit = pageSize(input.maxResults, 1000, 100);
  const filter = parseFilter(input.filter);
  const matching = ctx.world.sortedDigests(repository).filter((digest) => {
    const image = repository.images.get(digest);
    return image !== undefined && imageMatches(image, filter);
  });
  const { page, nextToken } = paginate(
    matching,
    (digest) => digest,
    `describe-images:${ctx.account}:${ctx.region}:${name}:${filter.tagStatus}:${filter.imageStatus}`,
    input.nextToken,
    limit,
  );
  return {
    imageDetails: page.flatMap((digest) => {
      const image = repository.images.get(digest);
      return image ? [imageDetail(repository, image)] : [];
    }),
    ...(nextToken ? { nextToken } : {}),
  };
};

/** Resolves `imageId` (tag or digest) to an image or throws ImageNotFoundException. */
export function requireImage(ctx: OperationContext, repository: RepositoryRecord, raw: unknown): ImageRecord {
  const result = resolveImageId(repository, raw);
  if ('failure' in result) {
    if (
      result.failure.failureCode === 'ImageNotFound' ||
      result.failure.failureCode === 'ImageTagDoesNotMatchDigest'
    ) {
      throw new EcrError(
        'ImageNotFoundException',
        `The image requested does not exist in the repository '${repository.name}' in the registry with id '${ctx.account}'`,
      );
    }
    throw invalidParameter(`Invalid parameter at 'imageId': ${result.failure.failureReason}`);
  }
  return result.image;
}

export const imageOperations: Record<string, OperationHandler> = {
  PutImage: putImage,
  BatchGetImage: batchGetImage,
  BatchDeleteImage: batchDeleteImage,
  ListImages: listImages,
  DescribeImages: describeImages,
};
