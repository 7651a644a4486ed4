import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OperationHandler } from '../context.ts';
import { EcrError, invalidParameter } from '../errors.ts';
import {
  isSha256Digest,
  isValidDigest,
  requireArray,
  requireRepositoryName,
  requireString,
  sha256Digest,
} from '../validation.ts';
import type { World } from '../world.ts';

/**
 * The layer upload API a `docker push` uses: InitiateLayerUpload → UploadLayerPart (consecutive byte
 * ranges) → CompleteLayerUpload (digest check), and BatchCheckLayerAvailability. Blobs belong to one
 * repository: a layer uploaded to `a` does not satisfy a manifest pushed to `b`.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_UploadLayerPart.html
 */

/**
 * partSize is documented only as "the size, in bytes, that Amazon ECR expects future layer part
 * uploads to be"; the emulator answers 10 MiB and accepts any part size.
 */
export const PART_SIZE = 10 * 1024 * 1024;
/** Smallest part but the last of a multi-part upload (LayerPartTooSmallException, CompleteLayerUpload). */
export const MIN_LAYER_PART_BYTES = 5 * 1024 * 1024;

const initiateLayerUpload: OperationHandler = (ctx, input) => {
  const name = requireRepositoryName(input.repositoryName);
  const repository = ctx.world.requireRepository(ctx.account, ctx.region, name);
  const id = randomUUID();
  repository.uploads.set(id, { id, parts: [], received: 0, createdAt: ctx.world.now() });
  return { uploadId: id, partSize: PART_SIZE };
};

const uploadNotFound = (uploadId: string) =>
  new EcrError('UploadNotFoundException', `The upload with id '${uploadId}' could not be found`);

const uploadLayerPart: OperationHandler = (ctx, input) => {
  const name = requireRepositoryName(input.repositoryName);
  const uploadId = requireString(input.uploadId, 'uploadId');
  const repository = ctx.world.requireRepository(ctx.account, ctx.region, name);
  const upload = repository.uploads.get(uploadId);
  if (!upload) throw uploadNotFound(uploadId);
  const first = input.partFirstByte;
  const last = input.partLastByte;
  if (
    typeof first !== 'number' ||
    typeof last !== 'number' ||
    !Number.isInteger(first) ||
    !Number.isInteger(last)
  ) {
    throw invalidParameter('partFirstByte and partLastByte must be integers');
  }
  // awsJson1_1 carries blobs as base64 strings.
  const blob =
    typeof input.layerPartBlob === 'string' ? Buffer.from(input.layerPartBlob, 'base64') : undefined;
  if (!blob || blob.length === 0)
    throw invalidParameter("Invalid parameter at 'layerPartBlob': must not be empty");
  const invalidPart = (message: string) =>
    new EcrError('InvalidLayerPartException', message, 400, {
      registryId: ctx.account,
      repositoryName: name,
      uploadId,
      // The model's minimum is 0 (botocore ECR model, PartSize); before any byte it says 0.
      lastValidByteReceived: Math.max(0, upload.received - 1),
    });
  if (first !== upload.received) {
    throw invalidPart(`The part starts at byte ${first}; the next expected byte is ${upload.received}`);
  }
  if (last - first + 1 !== blob.length) {
    throw invalidPart(`The part range ${first}-${last} does not match the ${blob.length} bytes sent`);
  }
  upload.parts.push(blob);
  upload.received += blob.length;
  return { registryId: ctx.account, repositoryName: name, uploadId, lastByteReceived: last };
};

const completeLayerUpload: OperationHandler = (ctx, input) => {
  const name = requireRepositoryName(input.repositoryName);
  const uploadId = requireString(input.uploadId, 'uploadId');
  const digests = requireArray(input.layerDigests, 'layerDigests', 1, 100).map(String);
  const repository = ctx.world.requireRepository(ctx.account, ctx.region, name);
  const upload = repository.uploads.get(uploadId);
  if (!upload) throw uploadNotFound(uploadId);
  if (upload.received === 0) {
    throw new EcrError('EmptyUploadException', `The upload with id '${uploadId}' contains no layer parts`);
  }
  // "Layer parts must be at least 5 MiB in size" — every part but the last.
  // https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CompleteLayerUpload.html
  const small = upload.parts.slice(0, -1).findIndex((part) => part.length < MIN_LAYER_PART_BYTES);
  if (small >= 0) {
    throw new EcrError(
      'LayerPartTooSmallException',
      `Layer parts must be at least 5 MiB in size: part ${small + 1} of ${upload.parts.length} has ${upload.parts[small]?.length ?? 0} bytes`,
    );
  }
  const bytes = Buffer.concat(upload.parts);
  const actual = sha256Digest(bytes);
  if (!digests.includes(actual)) {
    throw new EcrError(
      'InvalidLayerException',
      `The layer digest calculated for the upload (${actual}) does not match the digests provided (${digests.join(', ')})`,
    );
  }
  repository.uploads.delete(uploadId);
  if (repository.blobs.has(actual)) {
    throw new EcrError(
      'LayerAlreadyExistsException',
      `The layer '${actual}' already exists in the repository '${name}'`,
    );
  }
  ctx.world.addBlob(repository, { digest: actual, size: bytes.length, bytes });
  return { registryId: ctx.account, repositoryName: name, uploadId, layerDigest: actual };
};

const batchCheckLayerAvailability: OperationHandler = (ctx, input) => {
  const name = requireRepositoryName(input.repositoryName);
  const digests = requireArray(input.layerDigests, 'layerDigests', 1, 100);
  const repository = ctx.world.requireRepository(ctx.account, ctx.region, name);
  const layers: Record<string, unknown>[] = [];
  const failures: Record<string, unknown>[] = [];
  for (const digest of digests) {
    if (typeof digest !== 'string' || !isValidDigest(digest)) {
      failures.push({
        layerDigest: String(digest),
        failureCode: 'InvalidLayerDigest',
        failureReason: 'Invalid layer digest',
      });
      continue;
    }
    const blob = repository.blobs.get(digest);
    if (!blob) {
      // A digest the repository does not hold is reported as a failure, not as UNAVAILABLE.
      failures.push({
        layerDigest: digest,
        failureCode: 'MissingLayerDigest',
        failureReason: 'Could not find layer',
      });
      continue;
    }
    layers.push({
      layerDigest: digest,
      layerAvailability: isSha256Digest(digest) ? 'AVAILABLE' : 'UNAVAILABLE',
      layerSize: blob.size,
      ...(blob.mediaType ? { mediaType: blob.mediaType } : {}),
    });
  }
  return { layers, failures };
};

/**
 * GetDownloadUrlForLayer, as the API reference documents it
 * (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetDownloadUrlForLayer.html):
 * it "retrieves the pre-signed Amazon S3 download URL corresponding to an image layer", and "you can
 * only get URLs for image layers that are referenced in an image". A digest the repository does not
 * hold is LayersNotFoundException; a blob no image of the repository references is
 * LayerInaccessibleException ("not associated with an image"). The response is `downloadUrl` and
 * `layerDigest`.
 *
 * The URL is the emulator's stand-in for a pre-signed S3 URL: a plain GET on the emulator itself
 * (`/layer-downloads/<account>/<region>/<repository>/<digest>`), no credentials, like a pre-signed
 * URL. AWS documents no validity period; the emulator's URLs do not expire. Blobs seeded from sizes
 * only (fixtures, generated registries) have no bytes to serve: their URL answers 404 (a deliberate
 * difference, README), while blobs uploaded through the layer API and the blobs of seeded referrers
 * (fixture.ts) are served.
 */
const getDownloadUrlForLayer: OperationHandler = (ctx, input) => {
  const name = requireRepositoryName(input.repositoryName);
  const digest = requireString(input.layerDigest, 'layerDigest');
  if (!isValidDigest(digest)) throw invalidParameter("Invalid parameter at 'layerDigest'");
  const repository = ctx.world.requireRepository(ctx.account, ctx.region, name);
  if (!repository.blobs.has(digest)) {
    throw new EcrError(
      'LayersNotFoundException',
      `The specified layer '${digest}' could not be found in the repository '${name}'`,
    );
  }
  const referenced = [...repository.images.values()].some((image) => image.blobDigests.includes(digest));
  if (!referenced) {
    throw new EcrError(
      'LayerInaccessibleException',
      `The specified layer '${digest}' is not available because it is not associated with an image`,
    );
  }
  const base = ctx.endpoint ?? 'http://localhost';
  const path = [ctx.account, ctx.region, name, digest].map(encodeURIComponent).join('/');
  return { downloadUrl: `${base}${LAYER_DOWNLOAD_PATH}${path}`, layerDigest: digest };
};

const LAYER_DOWNLOAD_PATH = '/layer-downloads/';

/** A GET of a URL GetDownloadUrlForLayer handed out. */
export const isLayerDownload = (req: IncomingMessage): boolean =>
  req.method === 'GET' && (req.url ?? '').startsWith(LAYER_DOWNLOAD_PATH);

/** Serves a blob's bytes at a download URL; 404 for a blob the world has no bytes of. */
export function serveLayerDownload(world: World, req: IncomingMessage, res: ServerResponse): void {
  const parts = (req.url ?? '').slice(LAYER_DOWNLOAD_PATH.length).split('?')[0]?.split('/') ?? [];
  const [account, region, name, digest] = parts.map((part) => decodeURIComponent(part));
  const blob =
    account && region && name && digest
      ? world.getRepository(account, region, name)?.blobs.get(digest)
      : undefined;
  if (!blob?.bytes) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('NoSuchKey');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.bytes.length });
  res.end(blob.bytes);
}

export const layerOperations: Record<string, OperationHandler> = {
  GetDownloadUrlForLayer: getDownloadUrlForLayer,
  InitiateLayerUpload: initiateLayerUpload,
  UploadLayerPart: uploadLayerPart,
  CompleteLayerUpload: completeLayerUpload,
  BatchCheckLayerAvailability: batchCheckLayerAvailability,
};
