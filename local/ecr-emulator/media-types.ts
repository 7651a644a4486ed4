/**
 * Manifest media types ECR stores, and what a manifest of each kind references. Deliberately not
 * imported from core/ecr/media-types.ts: an emulator that shared the product's tables would
 * agree with its bugs.
 */
export const DOCKER_MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST_V2 = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_MANIFEST_V1 = 'application/vnd.docker.distribution.manifest.v1+json';
export const DOCKER_MANIFEST_V1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

export const INDEX_MEDIA_TYPES: readonly string[] = [DOCKER_MANIFEST_LIST_V2, OCI_INDEX];
export const IMAGE_MEDIA_TYPES: readonly string[] = [
  DOCKER_MANIFEST_V2,
  OCI_MANIFEST,
  DOCKER_MANIFEST_V1,
  DOCKER_MANIFEST_V1_SIGNED,
];
/** Every manifest media type the emulator accepts in PutImage. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [...IMAGE_MEDIA_TYPES, ...INDEX_MEDIA_TYPES];

/**
 * What BatchGetImage accepts when the request names no `acceptedMediaTypes`. AWS does not document
 * the default; a Docker client that sends no Accept header gets the Docker types, so the emulator
 * is conservative and accepts only those (clients that need OCI types must ask for them, which is
 * what docs/aws-facts.md tells every caller to do anyway).
 */
export const DEFAULT_ACCEPTED_MEDIA_TYPES: readonly string[] = [
  DOCKER_MANIFEST_V2,
  DOCKER_MANIFEST_V1,
  DOCKER_MANIFEST_V1_SIGNED,
];

export const isIndexMediaType = (mediaType: string): boolean => INDEX_MEDIA_TYPES.includes(mediaType);

export interface BlobRef {
  digest: string;
  size: number;
  mediaType?: string;
}

/** What a parsed manifest needs to exist before it can be stored, and what DescribeImages reports. */
export interface ManifestInfo {
  kind: 'image' | 'index';
  /** config + layers of an image manifest (schema 1: fsLayers, sizes unknown → 0). */
  blobs: BlobRef[];
  /** manifests[] of an index / manifest list. */
  children: BlobRef[];
  /** The top-level `mediaType` field, if the manifest carries one. */
  declaredMediaType?: string;
  /** OCI 1.1 `artifactType`, else the config media type (ECR's `artifactMediaType`). */
  artifactMediaType?: string;
  subjectDigest?: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function descriptor(value: unknown): BlobRef | undefined {
  if (!isRecord(value) || typeof value.digest !== 'string') return undefined;
  return {
    digest: value.digest,
    size: typeof value.size === 'number' ? value.size : 0,
    ...(typeof value.mediaType === 'string' ? { mediaType: value.mediaType } : {}),
  };
}

/**
 * Reads the references out of a manifest. `mediaType` is the effective media type (the request's
 * `imageManifestMediaType` or the manifest's own). Throws a plain Error with a reason when the
 * document does not have the shape its media type requires.
 */
export function inspectManifest(parsed: unknown, mediaType: string): ManifestInfo {
  if (!isRecord(parsed)) throw new Error('the manifest is not a JSON object');
  const declaredMediaType = typeof parsed.mediaType === 'string' ? parsed.mediaType : undefined;
  const subjectDigest = descriptor(parsed.subject)?.digest;
  const base = {
    ...(declaredMediaType ? { declaredMediaType } : {}),
    ...(subjectDigest ? { subjectDigest } : {}),
  };
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(parsed.manifests)) throw new Error('an index needs a manifests array');
    const children = parsed.manifests.map((entry) => {
      const ref = descriptor(entry);
      if (!ref) throw new Error('every manifests[] entry needs a digest');
      return ref;
    });
    const artifactType = typeof parsed.artifactType === 'string' ? parsed.artifactType : undefined;
    return {
      kind: 'index',
      blobs: [],
      children,
      ...base,
      ...(artifactType ? { artifactMediaType: artifactType } : {}),
    };
  }
  if (mediaType === DOCKER_MANIFEST_V1 || mediaType === DOCKER_MANIFEST_V1_SIGNED) {
    const fsLayers = Array.isArray(parsed.fsLayers) ? parsed.fsLayers : [];
    const blobs = fsLayers.flatMap((layer) =>
      isRecord(layer) && typeof layer.blobSum === 'string' ? [{ digest: layer.blobSum, size: 0 }] : [],
    );
    return { kind: 'image', blobs: dedupe(blobs), children: [], ...base };
  }
  const config = descriptor(parsed.config);
  if (!config) throw new Error('an image manifest needs a config descriptor');
  if (!Array.isArray(parsed.layers)) throw new Error('an image manifest needs a layers array');
  const layers = parsed.layers.map((entry) => {
    const ref = descriptor(entry);
    if (!ref) throw new Error('every layers[] entry needs a digest');
    return ref;
  });
  const artifactMediaType = typeof parsed.artifactType === 'string' ? parsed.artifactType : config.mediaType;
  return {
    kind: 'image',
    blobs: dedupe([config, ...layers]),
    children: [],
    ...base,
    ...(artifactMediaType ? { artifactMediaType } : {}),
  };
}

function dedupe(refs: BlobRef[]): BlobRef[] {
  const seen = new Map<string, BlobRef>();
  for (const ref of refs) if (!seen.has(ref.digest)) seen.set(ref.digest, ref);
  return [...seen.values()];
}
