/**
 * OCI 1.1 referrers (signatures, SBOMs, attestations): manifests whose `subject` names another image
 * of the same repository, usually untagged. ECR lists them per subject with ListImageReferrers
 * (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ListImageReferrers.html; "the IAM
 * principal invoking this operation must have the ecr:BatchGetImage permission", so a step that
 * lists them reads ecr:BatchGetImage on that side in its row of the step table).
 *
 * A referrer never gets a tag from us: removing an untagged image's last tag deletes it, and a
 * source referrer counts as a source image (never deleted, never re-tagged). It reaches a destination
 * by a copy: its blobs with the layer APIs (GetDownloadUrlForLayer in the source;
 * BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload in the
 * destination), then PutImage of the exact manifest bytes with its digest and no tag.
 */
import { createHash } from 'node:crypto';
import {
  BatchCheckLayerAvailabilityCommand,
  CompleteLayerUploadCommand,
  GetDownloadUrlForLayerCommand,
  InitiateLayerUploadCommand,
  ListImageReferrersCommand,
  PutImageCommand,
  UploadLayerPartCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import type { PlannedReferrer } from '../contracts/contracts.ts';
import { awsErrorName, TransientError } from '../errors/errors.ts';
import { getManifestByDigest, isRepositoryNotFound, type RepositoryRef } from './ecr.ts';
import { indexChildDigests, isIndexMediaType } from './media-types.ts';
import type { RateLimiter } from './rate-limit.ts';

/** ListImageReferrers' largest page ("This value can be between 1 and 50"). */
const REFERRERS_PAGE = 50;

/** The direct referrers of one subject, every page; none when the repository does not exist. */
export async function listDirectReferrers(
  client: ECRClient,
  ref: RepositoryRef,
  subjectDigest: string,
  signal?: AbortSignal,
): Promise<PlannedReferrer[]> {
  const referrers: PlannedReferrer[] = [];
  let nextToken: string | undefined;
  do {
    signal?.throwIfAborted();
    let page;
    try {
      page = await client.send(
        new ListImageReferrersCommand({
          ...ref,
          subjectId: { imageDigest: subjectDigest },
          maxResults: REFERRERS_PAGE,
          ...(nextToken !== undefined && { nextToken }),
        }),
      );
    } catch (error) {
      if (isRepositoryNotFound(error)) return referrers;
      throw error;
    }
    for (const referrer of page.referrers ?? []) {
      if (referrer.digest === undefined || referrer.mediaType === undefined) continue;
      referrers.push({
        digest: referrer.digest,
        mediaType: referrer.mediaType,
        ...(referrer.artifactType !== undefined && { artifactType: referrer.artifactType }),
      });
    }
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return referrers;
}

/** A referrer as the transitive listing found it: with the subject it refers to. */
export type ListedReferrer = PlannedReferrer & { subject: string };

/**
 * Every referrer of `subjectDigest`, transitively (a signature of an SBOM of the image too), each once,
 * a subject always before its referrers (so a copy in this order never puts a referrer before its
 * subject). One ListImageReferrers call (per 50) per image and per referrer found.
 */
export async function listReferrersTransitively(
  client: ECRClient,
  ref: RepositoryRef,
  subjectDigest: string,
  signal?: AbortSignal,
): Promise<ListedReferrer[]> {
  const found: ListedReferrer[] = [];
  const seen = new Set<string>([subjectDigest]);
  const subjects = [subjectDigest];
  for (let i = 0; i < subjects.length; i++) {
    const subject = subjects[i]!;
    for (const referrer of await listDirectReferrers(client, ref, subject, signal)) {
      if (seen.has(referrer.digest)) continue;
      seen.add(referrer.digest);
      found.push({ ...referrer, subject });
      subjects.push(referrer.digest);
    }
  }
  return found;
}

export interface ReferrerCopyTarget {
  client: ECRClient;
  ref: RepositoryRef;
  /** The destination Region's PutImage pacing (the same limiter the other put steps take). */
  limiter?: RateLimiter;
}

/** - `copied`: PutImage stored it; `already`: it was there; `source-gone`: the source no longer holds it. */
export type ReferrerCopyResult = 'copied' | 'already' | 'source-gone';

/** The blob digests an image manifest references (its config and layers). */
function blobDigestsOf(manifest: string): string[] {
  const parsed = JSON.parse(manifest) as {
    config?: { digest?: unknown };
    layers?: { digest?: unknown }[];
  };
  const digests = [parsed.config?.digest, ...(parsed.layers ?? []).map((layer) => layer.digest)];
  return [...new Set(digests.filter((digest): digest is string => typeof digest === 'string'))];
}

/** ECR asks for parts of at least 5 MiB but the last (CompleteLayerUpload's LayerPartTooSmallException). */
const MIN_PART_BYTES = 5 * 1024 * 1024;

/** The blobs of `digests` the destination repository lacks (BatchCheckLayerAvailability takes 100). */
async function missingBlobs(target: ReferrerCopyTarget, digests: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (let start = 0; start < digests.length; start += 100) {
    const chunk = digests.slice(start, start + 100);
    // https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchCheckLayerAvailability.html
    const output = await target.client.send(
      new BatchCheckLayerAvailabilityCommand({ ...target.ref, layerDigests: chunk }),
    );
    const available = new Set(
      (output.layers ?? [])
        .filter((layer) => layer.layerAvailability === 'AVAILABLE')
        .map((layer) => layer.layerDigest),
    );
    missing.push(...chunk.filter((digest) => !available.has(digest)));
  }
  return missing;
}

/** Downloads one blob from the source through its pre-signed URL, checking its digest. */
async function downloadBlob(client: ECRClient, ref: RepositoryRef, digest: string): Promise<Buffer> {
  // https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetDownloadUrlForLayer.html
  const { downloadUrl } = await client.send(
    new GetDownloadUrlForLayerCommand({ ...ref, layerDigest: digest }),
  );
  if (downloadUrl === undefined) throw new TransientError(`GetDownloadUrlForLayer gave no URL for ${digest}`);
  const response = await fetch(downloadUrl);
  if (!response.ok) {
    throw new TransientError(`Downloading blob ${digest} answered HTTP ${response.status}`);
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (digest.startsWith('sha256:') && actual !== digest) {
    throw new TransientError(`Downloaded blob ${digest} has digest ${actual}`);
  }
  return bytes;
}

/**
 * Uploads one blob to the destination repository: InitiateLayerUpload, UploadLayerPart in consecutive
 * ranges of the part size ECR answers (at least 5 MiB), CompleteLayerUpload. A blob that arrived
 * meanwhile (LayerAlreadyExistsException) is there, which is all that matters.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_InitiateLayerUpload.html
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_UploadLayerPart.html
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CompleteLayerUpload.html
 */
async function uploadBlob(target: ReferrerCopyTarget, digest: string, bytes: Buffer): Promise<void> {
  const { uploadId, partSize } = await target.client.send(new InitiateLayerUploadCommand({ ...target.ref }));
  if (uploadId === undefined) throw new TransientError(`InitiateLayerUpload gave no uploadId for ${digest}`);
  const size = Math.max(partSize ?? MIN_PART_BYTES, MIN_PART_BYTES);
  for (let first = 0; first < bytes.length; first += size) {
    const part = bytes.subarray(first, Math.min(first + size, bytes.length));
    await target.client.send(
      new UploadLayerPartCommand({
        ...target.ref,
        uploadId,
        partFirstByte: first,
        partLastByte: first + part.length - 1,
        layerPartBlob: part,
      }),
    );
  }
  try {
    await target.client.send(
      new CompleteLayerUploadCommand({ ...target.ref, uploadId, layerDigests: [digest] }),
    );
  } catch (error) {
    if (awsErrorName(error) !== 'LayerAlreadyExistsException') throw error;
  }
}

/**
 * PutImage of the exact manifest bytes, its media type and its digest, with no tag: the image stays
 * untagged in the destination, as in the source.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html
 */
async function putUntagged(
  target: ReferrerCopyTarget,
  manifest: string,
  mediaType: string,
  imageDigest: string,
): Promise<'copied' | 'already'> {
  await target.limiter?.take();
  try {
    await target.client.send(
      new PutImageCommand({
        ...target.ref,
        imageManifest: manifest,
        ...(mediaType ? { imageManifestMediaType: mediaType } : {}),
        imageDigest,
      }),
    );
    return 'copied';
  } catch (error) {
    if (awsErrorName(error) === 'ImageAlreadyExistsException') return 'already';
    throw error;
  }
}

/**
 * Copies one referrer (an image manifest, or an index whose child manifests are copied first) from the
 * source repository to the destination's, untagged, at the same digest. Nothing is written in the
 * source. The caller checks the destination first; a copy that finds it there is `already`.
 */
export async function copyReferrer(
  source: { client: ECRClient; ref: RepositoryRef },
  target: ReferrerCopyTarget,
  referrer: Pick<PlannedReferrer, 'digest' | 'mediaType'>,
): Promise<ReferrerCopyResult> {
  const stored = await getManifestByDigest(source.client, source.ref, referrer.digest);
  if (!stored) return 'source-gone';
  const mediaType = stored.mediaType ?? referrer.mediaType;
  if (isIndexMediaType(mediaType)) {
    for (const child of indexChildDigests(stored.manifest, mediaType)) {
      if (await getManifestByDigest(target.client, target.ref, child)) continue;
      const copied = await copyReferrer(source, target, { digest: child, mediaType: '' });
      if (copied === 'source-gone') return 'source-gone';
    }
  } else {
    for (const digest of await missingBlobs(target, blobDigestsOf(stored.manifest))) {
      await uploadBlob(target, digest, await downloadBlob(source.client, source.ref, digest));
    }
  }
  return putUntagged(target, stored.manifest, mediaType, referrer.digest);
}
