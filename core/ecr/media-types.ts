/**
 * Manifest media types the backfill must carry unchanged.
 *
 * Fetching an image *by tag* in a media type the caller did not accept makes ECR translate the
 * manifest, which changes its digest. The backfill therefore always fetches by digest and accepts
 * every manifest and index type ECR can store, including the legacy Docker schema 1 types.
 * https://github.com/awsdocs/amazon-ecr-user-guide/blob/master/doc_source/image-manifest-formats.md
 */
export const DOCKER_MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST_V2 = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_MANIFEST_V1 = 'application/vnd.docker.distribution.manifest.v1+json';
export const DOCKER_MANIFEST_V1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export const INDEX_MEDIA_TYPES: readonly string[] = [DOCKER_MANIFEST_LIST_V2, OCI_INDEX];

/** Passed as `acceptedMediaTypes` on every BatchGetImage, so ECR never converts a manifest. */
export const ACCEPTED_MANIFEST_MEDIA_TYPES: readonly string[] = [
  DOCKER_MANIFEST_V2,
  DOCKER_MANIFEST_LIST_V2,
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST_V1,
  DOCKER_MANIFEST_V1_SIGNED,
];

export const isIndexMediaType = (mediaType: string | undefined): boolean =>
  mediaType !== undefined && INDEX_MEDIA_TYPES.includes(mediaType);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The digests an index (manifest list) references. ECR replicates them together with the index, so
 * verification checks that each one exists in the destination. Returns [] for a non-index manifest
 * or one that does not parse: the caller treats the manifest as opaque bytes in every other place.
 */
export function indexChildDigests(manifest: string, mediaType: string | undefined): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(manifest);
  } catch {
    return [];
  }
  if (!isRecord(parsed)) return [];
  const declared = typeof parsed.mediaType === 'string' ? parsed.mediaType : undefined;
  if (!isIndexMediaType(mediaType ?? declared) || !Array.isArray(parsed.manifests)) return [];
  const digests = parsed.manifests.flatMap((entry) =>
    isRecord(entry) && typeof entry.digest === 'string' ? [entry.digest] : [],
  );
  return [...new Set(digests)];
}
