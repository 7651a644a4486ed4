/**
 * The read-only ECR calls of planning, with full pagination (pages of 1,000, ECR's maximum).
 */
import {
  BatchGetImageCommand,
  paginateDescribeImages,
  type DescribeImagesFilter,
  type ECRClient,
  type ImageDetail,
} from '@aws-sdk/client-ecr';
import { isRepositoryNotFound, MAX_BATCH_IMAGE_IDS } from '../../core/ecr/ecr.ts';
import { toStepError } from '../../core/errors/errors.ts';
import {
  ACCEPTED_MANIFEST_MEDIA_TYPES,
  indexChildDigests as manifestChildDigests,
  isIndexMediaType,
} from '../../core/ecr/media-types.ts';
import type { DestinationContents } from './compare.ts';

const PAGE_SIZE = 1000;

/**
 * Every image of a repository matching the filter, or undefined when the repository does not exist.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImages.html
 *
 * `signal`: once aborted (the slice has failed elsewhere), no further page is requested.
 */
export async function describeAllImages(
  client: ECRClient,
  registryId: string,
  repositoryName: string,
  filter: DescribeImagesFilter | undefined,
  where: string,
  signal?: AbortSignal,
): Promise<ImageDetail[] | undefined> {
  const details: ImageDetail[] = [];
  try {
    signal?.throwIfAborted();
    const pages = paginateDescribeImages(
      { client, pageSize: PAGE_SIZE },
      { registryId, repositoryName, maxResults: PAGE_SIZE, ...(filter && { filter }) },
    );
    for await (const page of pages) {
      details.push(...(page.imageDetails ?? []));
      signal?.throwIfAborted();
    }
  } catch (error) {
    if (signal?.aborted) throw error;
    if (isRepositoryNotFound(error)) return undefined;
    throw toStepError(error, `ECR DescribeImages ${repositoryName} in ${where}`);
  }
  return details;
}

/** The source listing filter: tagged only unless untagged images are wanted; archived on request. */
export function sourceImagesFilter(includeUntagged: boolean, includeArchived: boolean): DescribeImagesFilter {
  return {
    tagStatus: includeUntagged ? 'ANY' : 'TAGGED',
    // Without a filter ECR lists only ACTIVE images. ANY also lists ACTIVATING (being restored),
    // which the selection then skips.
    imageStatus: includeArchived ? 'ANY' : 'ACTIVE',
  };
}

/** A destination repository's tags and digests; a missing repository holds nothing. */
export async function destinationContents(
  client: ECRClient,
  registryId: string,
  repositoryName: string,
  where: string,
  signal?: AbortSignal,
): Promise<DestinationContents> {
  const details = await describeAllImages(client, registryId, repositoryName, undefined, where, signal);
  const tags = new Map<string, string>();
  const digests = new Set<string>();
  for (const detail of details ?? []) {
    if (detail.imageDigest === undefined) continue;
    digests.add(detail.imageDigest);
    for (const tag of detail.imageTags ?? []) tags.set(tag, detail.imageDigest);
  }
  return { tags, digests };
}

/**
 * Digests referenced by the repository's indexes (platform manifests, attestations). Only needed
 * when untagged images are selected: those children must not be backfilled on their own.
 */
export async function indexChildDigests(
  client: ECRClient,
  registryId: string,
  repositoryName: string,
  details: readonly ImageDetail[],
  where: string,
  signal?: AbortSignal,
): Promise<Set<string>> {
  const children = new Set<string>();
  const indexMediaTypes = new Map<string, string | undefined>();
  for (const d of details) {
    if (d.imageDigest !== undefined && isIndexMediaType(d.imageManifestMediaType))
      indexMediaTypes.set(d.imageDigest, d.imageManifestMediaType);
  }
  const indexDigests = [...indexMediaTypes.keys()];
  for (let start = 0; start < indexDigests.length; start += MAX_BATCH_IMAGE_IDS) {
    signal?.throwIfAborted();
    const chunk = indexDigests.slice(start, start + MAX_BATCH_IMAGE_IDS);
    let images;
    try {
      const response = await client.send(
        new BatchGetImageCommand({
          registryId,
          repositoryName,
          imageIds: chunk.map((imageDigest) => ({ imageDigest })),
          acceptedMediaTypes: [...ACCEPTED_MANIFEST_MEDIA_TYPES],
        }),
      );
      images = response.images ?? [];
    } catch (error) {
      if (isRepositoryNotFound(error)) return children;
      throw toStepError(error, `ECR BatchGetImage ${repositoryName} in ${where}`);
    }
    for (const image of images) {
      if (image.imageManifest === undefined) continue;
      // Every image fetched here is an index: its listed media type, or the one ECR returns.
      const digest = image.imageId?.imageDigest;
      const mediaType = (digest && indexMediaTypes.get(digest)) ?? image.imageManifestMediaType;
      for (const child of manifestChildDigests(image.imageManifest, mediaType)) children.add(child);
    }
  }
  return children;
}
