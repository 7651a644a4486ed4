import type { OperationHandler } from '../context.ts';
import { invalidParameter } from '../errors.ts';
import { paginate } from '../pagination.ts';
import {
  isRecord,
  isValidDigest,
  pageSize,
  requireArray,
  requireRepositoryName,
  requireString,
} from '../validation.ts';
import type { ImageRecord } from '../world.ts';

/**
 * OCI 1.1 referrers (signatures, SBOMs, attestations): manifests whose `subject` names another image.
 * ECR stores them like any manifest (PutImage, usually untagged) and lists them per subject.
 * https://aws.amazon.com/about-aws/whats-new/2024/06/amazon-ecr-oci-image-distribution-version-1-1
 *
 * ListImageReferrers, as the API reference documents it
 * (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ListImageReferrers.html):
 * - `subjectId.imageDigest` is required; `filter.artifactTypes` keeps only those artifact types;
 *   `filter.artifactStatus` is ACTIVE | ARCHIVED | ACTIVATING | ANY and "if no filter is specified,
 *   only artifacts with ACTIVE status are returned";
 * - `maxResults` is 1–50, and without it "ListImageReferrers returns up to 50 results and a nextToken";
 * - the IAM principal "must have the ecr:BatchGetImage permission" (so a call into another account is
 *   authorized against that action: REFERRER_IAM_ACTIONS);
 * - each entry is an ImageReferrer (digest, mediaType, artifactType, size, annotations, artifactStatus;
 *   https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageReferrer.html), the shape
 *   @aws-sdk/client-ecr's ListImageReferrersCommand models.
 * Silent in the reference, decided here: a subject that is not in the repository has no referrers (an
 * empty list, as the OCI distribution spec's referrers API answers, not ImageNotFoundException, which
 * the operation does not list among its errors); `size` is the referrer manifest's own size in bytes
 * (what an OCI descriptor's size means); `artifactType` is the manifest's `artifactType`, else its
 * config's media type (the OCI referrers rule); entries come in digest order (needed by the keyset
 * pagination; AWS documents no order).
 */

const STATUS_FILTERS = ['ACTIVE', 'ARCHIVED', 'ACTIVATING', 'ANY'] as const;
type ArtifactStatusFilter = (typeof STATUS_FILTERS)[number];
const MAX_RESULTS = 50;
// ImageReferrer.artifactType: "Minimum length of 1. Maximum length of 255."
const MAX_ARTIFACT_TYPE_LENGTH = 255;

/** The IAM action each referrer operation is authorized as (the API reference's note). */
export const REFERRER_IAM_ACTIONS: Readonly<Record<string, string>> = {
  ListImageReferrers: 'ecr:BatchGetImage',
};

interface ReferrerFilter {
  artifactTypes?: string[];
  artifactStatus: ArtifactStatusFilter;
}

function parseFilter(value: unknown): ReferrerFilter {
  if (value === undefined || value === null) return { artifactStatus: 'ACTIVE' };
  if (!isRecord(value)) throw invalidParameter("Invalid parameter at 'filter': expected an object");
  const problems: string[] = [];
  const status = value.artifactStatus ?? 'ACTIVE';
  if (!STATUS_FILTERS.includes(status as ArtifactStatusFilter)) {
    problems.push(`'filter.artifactStatus' must be one of ${STATUS_FILTERS.join(', ')}`);
  }
  let artifactTypes: string[] | undefined;
  if (value.artifactTypes !== undefined && value.artifactTypes !== null) {
    const list = requireArray(value.artifactTypes, 'filter.artifactTypes', 1, 100);
    list.forEach((entry, i) => {
      if (typeof entry !== 'string' || entry.length < 1 || entry.length > MAX_ARTIFACT_TYPE_LENGTH) {
        problems.push(
          `'filter.artifactTypes[${i}]' must be a string of 1 to ${MAX_ARTIFACT_TYPE_LENGTH} characters`,
        );
      }
    });
    artifactTypes = list.map(String);
  }
  if (problems.length > 0) throw invalidParameter(`Invalid parameter: ${problems.join('; ')}`);
  return { artifactStatus: status as ArtifactStatusFilter, ...(artifactTypes ? { artifactTypes } : {}) };
}

function matches(image: ImageRecord, filter: ReferrerFilter): boolean {
  if (filter.artifactStatus !== 'ANY' && image.status !== filter.artifactStatus) return false;
  if (filter.artifactTypes && !filter.artifactTypes.includes(image.artifactMediaType ?? '')) return false;
  return true;
}

function manifestAnnotations(image: ImageRecord): Record<string, string> | undefined {
  const parsed: unknown = JSON.parse(image.manifest);
  if (!isRecord(parsed) || !isRecord(parsed.annotations)) return undefined;
  const entries = Object.entries(parsed.annotations).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string',
  );
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/** One ImageReferrer, in the API's shape. */
export function imageReferrer(image: ImageRecord): Record<string, unknown> {
  const annotations = manifestAnnotations(image);
  return {
    digest: image.digest,
    mediaType: image.mediaType,
    ...(image.artifactMediaType ? { artifactType: image.artifactMediaType } : {}),
    size: Buffer.byteLength(image.manifest, 'utf8'),
    ...(annotations ? { annotations } : {}),
    artifactStatus: image.status,
  };
}

const listImageReferrers: OperationHandler = (ctx, input) => {
  const name = requireRepositoryName(input.repositoryName);
  const subjectId = isRecord(input.subjectId) ? input.subjectId : undefined;
  if (!subjectId) throw invalidParameter("Invalid parameter at 'subjectId': must not be null");
  const subject = requireString(subjectId.imageDigest, 'subjectId.imageDigest');
  if (!isValidDigest(subject)) {
    throw invalidParameter("Invalid parameter at 'subjectId.imageDigest': not a valid digest");
  }
  const limit = pageSize(input.maxResults, MAX_RESULTS, MAX_RESULTS);
  const filter = parseFilter(input.filter);
  const repository = ctx.world.requireRepository(ctx.account, ctx.region, name);
  const referrers = ctx.world
    .referrersOf(repository, subject)
    .sort()
    .flatMap((digest) => {
      const image = repository.images.get(digest);
      return image && matches(image, filter) ? [image] : [];
    });
  const scope = [
    'list-image-referrers',
    ctx.account,
    ctx.region,
    name,
    subject,
    filter.artifactStatus,
    ...(filter.artifactTypes ?? []),
  ].join(':');
  const { page, nextToken } = paginate(referrers, (image) => image.digest, scope, input.nextToken, limit);
  return { referrers: page.map(imageReferrer), ...(nextToken ? { nextToken } : {}) };
};

export const referrerOperations: Record<string, OperationHandler> = {
  ListImageReferrers: listImageReferrers,
};
