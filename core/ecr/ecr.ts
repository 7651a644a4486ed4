/**
 * The ECR layer every step uses: one cached client per Region and role, and the few calls the
 * backfill makes, each with the semantics the safety invariants depend on (docs/architecture.md §3.2).
 */
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImageReplicationStatusCommand,
  DescribeImagesCommand,
  DescribeRegistryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  PutImageCommand,
  type ImageFailure,
  type ImageIdentifier,
} from '@aws-sdk/client-ecr';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import type { EcrClientProvider, EcrTarget } from '../deps.ts';
import { awsErrorName, TransientError } from '../errors/errors.ts';
import { ACCEPTED_MANIFEST_MEDIA_TYPES } from './media-types.ts';
import { compileStarGlob } from '../contracts/patterns.ts';
import type { RateLimiter } from './rate-limit.ts';

/**
 * The SDK tries a call at most twice: Step Functions owns business retries (backoff, jitter, bounded
 * attempts, visible in the execution history), so the SDK must not hide a throttling storm behind
 * its own long retry loop, and a Lambda must not spend its timeout waiting inside one call.
 */
export const SDK_MAX_ATTEMPTS = 2;

/** ECR's Batch* calls take at most 100 image ids (botocore ECR model). */
export const MAX_BATCH_IMAGE_IDS = 100;

export interface EcrClientProviderOptions {
  /** Overrides the endpoint (tests, the local runner). `AWS_ENDPOINT_URL_ECR` works without this. */
  endpoint?: string;
  maxAttempts?: number;
  /** Credentials for clients without a role (default: the SDK's default chain). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /**
   * Credentials for a destination reached through `roleArn`. Default: STS AssumeRole via
   * `fromTemporaryCredentials` (refreshed by the SDK before expiry). The local runner, whose ECR
   * emulator ignores credentials and has no STS, passes its own.
   */
  credentialsForRole?: (
    roleArn: string,
    region: string,
    sessionPolicy: string | undefined,
  ) => AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /**
   * The ECR actions this step calls in a destination account. When given, every AssumeRole passes a
   * session policy allowing only these, so a step that only reads can never write there, whatever
   * the role itself allows (destinationSessionPolicy).
   */
  sessionActions?: readonly string[];
}

/**
 * The session policy a step passes on AssumeRole: the step's own ECR actions on the repositories of
 * the role's account. The session's permissions are the intersection of the role's policies and
 * this one, so it can only narrow the role.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html (Policy)
 */
export function destinationSessionPolicy(roleArn: string, actions: readonly string[]): string {
  const [, partition, , , account] = roleArn.split(':');
  const repositoryActions = actions.filter((action) => !REGISTRY_LEVEL_ACTIONS.includes(action));
  const registryActions = actions.filter((action) => REGISTRY_LEVEL_ACTIONS.includes(action));
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ThisStepOnly',
        Effect: 'Allow',
        Action: repositoryActions,
        Resource: `arn:${partition ?? 'aws'}:ecr:*:${account ?? '*'}:repository/*`,
      },
      // A session of the role reads only the registry of the role's own account.
      ...(registryActions.length > 0
        ? [{ Sid: 'ThisStepRegistryReads', Effect: 'Allow', Action: registryActions, Resource: '*' }]
        : []),
    ],
  });
}

/**
 * Registry-level ECR actions: they have no resource type, so IAM only matches them on `*`.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
 */
export const REGISTRY_LEVEL_ACTIONS: readonly string[] = ['ecr:GetRegistryPolicy'];

const ROLE_SESSION_NAME = 'ecr-backfill';

/**
 * One ECRClient per (Region, role), created on first use and kept for the life of the process, so a
 * warm Lambda reuses connections and assumed-role credentials across invocations.
 */
export function createEcrClientProvider(options: EcrClientProviderOptions = {}): EcrClientProvider {
  const clients = new Map<string, ECRClient>();
  const assumeRole =
    options.credentialsForRole ??
    ((roleArn: string, region: string, sessionPolicy: string | undefined) =>
      fromTemporaryCredentials({
        params: {
          RoleArn: roleArn,
          RoleSessionName: ROLE_SESSION_NAME,
          ...(sessionPolicy !== undefined ? { Policy: sessionPolicy } : {}),
        },
        clientConfig: { region },
      }));
  return (target: EcrTarget) => {
    const key = `${target.region} ${target.roleArn ?? ''}`;
    let client = clients.get(key);
    if (!client) {
      const sessionPolicy =
        target.roleArn && options.sessionActions
          ? destinationSessionPolicy(target.roleArn, options.sessionActions)
          : undefined;
      const credentials = target.roleArn
        ? assumeRole(target.roleArn, target.region, sessionPolicy)
        : options.credentials;
      client = new ECRClient({
        region: target.region,
        maxAttempts: options.maxAttempts ?? SDK_MAX_ATTEMPTS,
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(credentials ? { credentials } : {}),
      });
      clients.set(key, client);
    }
    return client;
  };
}

/** A repository in a registry: `registryId` omitted = the caller's own account. */
export interface RepositoryRef {
  registryId?: string;
  repositoryName: string;
}

const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
};

/** The repository does not exist: for a read, it holds nothing. */
export const isRepositoryNotFound = (error: unknown): boolean =>
  awsErrorName(error) === 'RepositoryNotFoundException';

const isNotFound = (error: unknown): boolean =>
  isRepositoryNotFound(error) || awsErrorName(error) === 'ImageNotFoundException';

/** A per-id failure we cannot interpret (KMS, upstream) — worth a retry, never a silent "absent". */
function unexpectedFailure(operation: string, failure: ImageFailure): TransientError {
  return new TransientError(
    `${operation} failed for ${JSON.stringify(failure.imageId)}: ${failure.failureCode} ${failure.failureReason ?? ''}`,
  );
}

export interface StoredManifest {
  imageDigest: string;
  /** The exact manifest string: never parsed and re-serialized, or its digest would change. */
  manifest: string;
  mediaType: string | undefined;
}

/** What one batched read found: where each requested tag points, and each requested digest's manifest. */
export interface ImageReads {
  /** `undefined`: the tag does not exist (or the repository does not). */
  tags: Map<string, string | undefined>;
  /** Absent digests (or a missing repository) are simply not in the map. */
  manifests: Map<string, StoredManifest>;
}

/**
 * Tags and digests of one repository read together: BatchGetImage takes up to 100 image ids, each a
 * tag or a digest, so a step reads everything it needs about a repository in one call per 100 ids
 * instead of one per image. Every manifest media type is accepted, so ECR returns the bytes as pushed
 * (no conversion, same digest) and a tag resolves to the stored digest; missing ids are reported per
 * id instead of failing the call as DescribeImages does.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchGetImage.html
 */
export async function readImages(
  client: ECRClient,
  ref: RepositoryRef,
  request: { tags?: readonly string[]; digests?: readonly string[] },
): Promise<ImageReads> {
  const tags = new Map<string, string | undefined>();
  for (const tag of request.tags ?? []) tags.set(tag, undefined);
  const digests = new Set(request.digests ?? []);
  const reads: ImageReads = { tags, manifests: new Map() };
  const ids: ImageIdentifier[] = [
    ...[...tags.keys()].map((imageTag) => ({ imageTag })),
    ...[...digests].map((imageDigest) => ({ imageDigest })),
  ];
  for (const chunk of chunks(ids, MAX_BATCH_IMAGE_IDS)) {
    let output;
    try {
      output = await client.send(
        new BatchGetImageCommand({
          ...ref,
          imageIds: chunk,
          acceptedMediaTypes: [...ACCEPTED_MANIFEST_MEDIA_TYPES],
        }),
      );
    } catch (error) {
      if (isRepositoryNotFound(error)) return reads;
      throw error;
    }
    for (const failure of output.failures ?? []) {
      if (failure.failureCode !== 'ImageNotFound') throw unexpectedFailure('BatchGetImage', failure);
    }
    for (const image of output.images ?? []) {
      const tag = image.imageId?.imageTag;
      const imageDigest = image.imageId?.imageDigest;
      if (tag !== undefined && tags.has(tag)) tags.set(tag, imageDigest);
      // Same digest, same bytes: whichever id returned the image, its manifest is the stored one.
      if (imageDigest && digests.has(imageDigest) && image.imageManifest !== undefined) {
        reads.manifests.set(imageDigest, {
          imageDigest,
          manifest: image.imageManifest,
          mediaType: image.imageManifestMediaType,
        });
      }
    }
  }
  return reads;
}

/** The stored manifests of `digests`, fetched **by digest** (see readImages). */
export async function getManifestsByDigest(
  client: ECRClient,
  ref: RepositoryRef,
  digests: readonly string[],
): Promise<Map<string, StoredManifest>> {
  return (await readImages(client, ref, { digests })).manifests;
}

export async function getManifestByDigest(
  client: ECRClient,
  ref: RepositoryRef,
  imageDigest: string,
): Promise<StoredManifest | undefined> {
  return (await getManifestsByDigest(client, ref, [imageDigest])).get(imageDigest);
}

/** Which digest each tag points to now (see readImages). */
export async function resolveTags(
  client: ECRClient,
  ref: RepositoryRef,
  tags: readonly string[],
): Promise<Map<string, string | undefined>> {
  return (await readImages(client, ref, { tags })).tags;
}

export async function resolveTag(
  client: ECRClient,
  ref: RepositoryRef,
  tag: string,
): Promise<string | undefined> {
  return (await resolveTags(client, ref, [tag])).get(tag);
}

/**
 * - `created`: the tag now points to the manifest (the push replicates).
 * - `already`: ImageAlreadyExistsException — the tag already pointed to this manifest; nothing changed.
 * - `tag-exists`: ImageTagAlreadyExistsException — an immutable tag exists (maybe on another digest);
 *   the caller re-reads the tag and classifies.
 */
export type PutResult = 'created' | 'already' | 'tag-exists';

export interface PutManifestInput {
  manifest: string;
  mediaType: string | undefined;
  imageDigest: string;
  tag: string;
}

/**
 * PutImage with the exact manifest string, its media type (OCI manifests without a top-level
 * `mediaType` need it) and its digest (ECR then refuses any byte change with
 * ImageDigestDoesNotMatchException instead of storing a different image).
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html
 */
export async function putManifest(
  client: ECRClient,
  ref: RepositoryRef,
  input: PutManifestInput,
  limiter?: RateLimiter,
): Promise<PutResult> {
  await limiter?.take();
  try {
    await client.send(
      new PutImageCommand({
        ...ref,
        imageManifest: input.manifest,
        ...(input.mediaType ? { imageManifestMediaType: input.mediaType } : {}),
        imageDigest: input.imageDigest,
        imageTag: input.tag,
      }),
    );
    return 'created';
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'ImageAlreadyExistsException') return 'already';
    if (name === 'ImageTagAlreadyExistsException') return 'tag-exists';
    throw error;
  }
}

export interface DeleteTagsResult {
  deleted: string[];
  /** Tags that did not exist (already deleted: a retry's success). */
  absent: string[];
}

/**
 * Removes tags, **by tag only**. The image stays as long as it keeps another tag ("when you remove
 * the last tag from an image, the image is deleted", botocore ECR model), so every caller first checks
 * that it does. The digest is deliberately not sent along: ECR documents identifiers as "imageTag or
 * imageDigest" and that deleting by digest removes the image with all its tags; what it does with both
 * is not documented, and in the source a wrong guess would delete the image.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchDeleteImage.html
 */
export async function deleteTags(
  client: ECRClient,
  ref: RepositoryRef,
  tags: readonly string[],
): Promise<DeleteTagsResult> {
  const result: DeleteTagsResult = { deleted: [], absent: [] };
  for (const chunk of chunks([...new Set(tags)], MAX_BATCH_IMAGE_IDS)) {
    let output;
    try {
      output = await client.send(
        new BatchDeleteImageCommand({
          ...ref,
          imageIds: chunk.map((imageTag): ImageIdentifier => ({ imageTag })),
        }),
      );
    } catch (error) {
      if (isRepositoryNotFound(error)) {
        result.absent.push(...chunk);
        continue;
      }
      throw error;
    }
    for (const failure of output.failures ?? []) {
      if (failure.failureCode !== 'ImageNotFound') throw unexpectedFailure('BatchDeleteImage', failure);
      if (failure.imageId?.imageTag !== undefined) result.absent.push(failure.imageId.imageTag);
    }
    for (const id of output.imageIds ?? []) if (id.imageTag !== undefined) result.deleted.push(id.imageTag);
  }
  return result;
}

/** The tags an image carries now, or `undefined` when the image (or repository) does not exist. */
export async function describeImageTags(
  client: ECRClient,
  ref: RepositoryRef,
  imageDigest: string,
): Promise<string[] | undefined> {
  try {
    const output = await client.send(new DescribeImagesCommand({ ...ref, imageIds: [{ imageDigest }] }));
    const detail = output.imageDetails?.find((d) => d.imageDigest === imageDigest);
    return detail ? (detail.imageTags ?? []) : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * The tags of several images of one repository, read together: one DescribeImages per 100 digests
 * instead of one per image (DescribeImages has a low, unpublished quota). A digest that does not
 * exist maps to `undefined`. ECR fails the whole call with ImageNotFoundException when one requested
 * image is missing, so such a chunk is probed image by image, and the images that exist are then
 * read together again.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImages.html
 */
export async function describeImagesTags(
  client: ECRClient,
  ref: RepositoryRef,
  imageDigests: readonly string[],
): Promise<Map<string, string[] | undefined>> {
  const details = await describeImagesDetails(client, ref, imageDigests);
  return new Map([...details].map(([digest, detail]) => [digest, detail?.tags]));
}

/** What DescribeImages says of an image: its tags and its imagePushedAt (epoch ms). */
export interface ImageDetails {
  tags: string[];
  pushedAt?: number;
}

/** As describeImagesTags, with each image's imagePushedAt. */
export async function describeImagesDetails(
  client: ECRClient,
  ref: RepositoryRef,
  imageDigests: readonly string[],
): Promise<Map<string, ImageDetails | undefined>> {
  const found = new Map<string, ImageDetails | undefined>();
  for (const chunk of chunks([...new Set(imageDigests)], MAX_BATCH_IMAGE_IDS)) {
    if (chunk.length === 0) continue;
    try {
      const output = await client.send(
        new DescribeImagesCommand({ ...ref, imageIds: chunk.map((imageDigest) => ({ imageDigest })) }),
      );
      const details = new Map(
        (output.imageDetails ?? []).map((d): [string | undefined, ImageDetails] => [
          d.imageDigest,
          {
            tags: d.imageTags ?? [],
            ...(d.imagePushedAt !== undefined && { pushedAt: d.imagePushedAt.getTime() }),
          },
        ]),
      );
      for (const digest of chunk) found.set(digest, details.get(digest));
    } catch (error) {
      if (isRepositoryNotFound(error)) {
        for (const digest of chunk) found.set(digest, undefined);
      } else if (isNotFound(error) && chunk.length > 1) {
        // Find the missing ones image by image, then read the others together once more: callers
        // decide "is this the image's last tag?" on these answers right before deleting, so they
        // must be as fresh as one batched read, not up to 100 calls old.
        const gone = new Set<string>();
        for (const digest of chunk) {
          if ((await describeImageTags(client, ref, digest)) === undefined) gone.add(digest);
        }
        const fresh = await describeImagesDetails(
          client,
          ref,
          chunk.filter((digest) => !gone.has(digest)),
        );
        for (const digest of chunk) found.set(digest, gone.has(digest) ? undefined : fresh.get(digest));
      } else if (isNotFound(error)) {
        found.set(chunk[0]!, undefined);
      } else {
        throw error;
      }
    }
  }
  return found;
}

export type TagMutability = 'MUTABLE' | 'IMMUTABLE' | 'MUTABLE_WITH_EXCLUSION' | 'IMMUTABLE_WITH_EXCLUSION';

export interface RepositorySettings {
  mutability: TagMutability;
  /** Wildcard filters (`*` = any run of characters) that invert the mutability for matching tags. */
  exclusionFilters: string[];
}

/** A repository's tag-mutability settings, or `undefined` when it does not exist. */
export async function describeRepository(
  client: ECRClient,
  ref: RepositoryRef,
): Promise<RepositorySettings | undefined> {
  try {
    const output = await client.send(
      new DescribeRepositoriesCommand({
        ...(ref.registryId ? { registryId: ref.registryId } : {}),
        repositoryNames: [ref.repositoryName],
      }),
    );
    const repository = output.repositories?.[0];
    if (!repository) return undefined;
    return {
      mutability: repository.imageTagMutability ?? 'MUTABLE',
      exclusionFilters: (repository.imageTagMutabilityExclusionFilters ?? []).flatMap((f) =>
        f.filter ? [f.filter] : [],
      ),
    };
  } catch (error) {
    if (isRepositoryNotFound(error)) return undefined;
    throw error;
  }
}

/** `*` is any run of characters, the rest literal: the linear matcher, never a backtracking regex. */
const wildcardMatches = (filter: string, tag: string): boolean => compileStarGlob(filter)(tag);

/**
 * Whether ECR refuses to move `tag` once set. The *_WITH_EXCLUSION modes invert the base setting for
 * tags matching one of the filters.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageTagMutabilityExclusionFilter.html
 */
export function isTagImmutable(settings: RepositorySettings | undefined, tag: string): boolean {
  if (!settings) return false;
  const excluded = settings.exclusionFilters.some((filter) => wildcardMatches(filter, tag));
  switch (settings.mutability) {
    case 'MUTABLE':
      return false;
    case 'IMMUTABLE':
      return true;
    case 'MUTABLE_WITH_EXCLUSION':
      return excluded;
    case 'IMMUTABLE_WITH_EXCLUSION':
      return !excluded;
  }
}

export interface DestinationReplicationStatus {
  region: string;
  registryId: string;
  /** IN_PROGRESS | COMPLETE | FAILED (kept as a string: ECR may add states). */
  status: string;
  failureCode?: string;
}

/**
 * Replication status of one source digest, per destination; `undefined` when the source image is
 * gone. https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImageReplicationStatus.html
 */
export async function describeReplicationStatus(
  client: ECRClient,
  ref: RepositoryRef,
  imageDigest: string,
): Promise<DestinationReplicationStatus[] | undefined> {
  try {
    const output = await client.send(
      new DescribeImageReplicationStatusCommand({ ...ref, imageId: { imageDigest } }),
    );
    return (output.replicationStatuses ?? []).map((s) => ({
      region: s.region ?? '',
      registryId: s.registryId ?? '',
      status: s.status ?? 'IN_PROGRESS',
      ...(s.failureCode ? { failureCode: s.failureCode } : {}),
    }));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export interface ReplicationRule {
  destinations: { region: string; registryId: string }[];
  repositoryFilters: { filter: string; filterType: string }[];
}

/**
 * The source registry's replication rules (DescribeRegistry): where a push to a repository is
 * replicated, whichever destinations the run selected.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeRegistry.html
 */
export async function describeReplicationRules(client: ECRClient): Promise<ReplicationRule[]> {
  const output = await client.send(new DescribeRegistryCommand({}));
  return (output.replicationConfiguration?.rules ?? []).map((rule) => ({
    destinations: (rule.destinations ?? []).map((d) => ({
      region: d.region ?? '',
      registryId: d.registryId ?? '',
    })),
    repositoryFilters: (rule.repositoryFilters ?? []).map((f) => ({
      filter: f.filter ?? '',
      filterType: f.filterType ?? 'PREFIX_MATCH',
    })),
  }));
}
