import { createHash } from 'node:crypto';
import {
  DOCKER_CONFIG,
  DOCKER_LAYER,
  DOCKER_MANIFEST_LIST_V2,
  DOCKER_MANIFEST_V2,
  OCI_CONFIG,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_LAYER,
  OCI_MANIFEST,
} from './media-types.ts';
import { sha256Digest } from './validation.ts';

/**
 * Deterministic image builders: the same spec always gives the same manifest bytes and digests, so
 * tests, the demo and registry generators can create realistic images without hand-written JSON.
 * Blob contents are generated on demand (`content()`), so a 100,000-image registry keeps only digests
 * and sizes in memory.
 */

export interface BuiltBlob {
  digest: string;
  size: number;
  mediaType: string;
  /** The blob's bytes (sha256 of them is `digest`), regenerated on each call. */
  content(): Buffer;
}

export interface BuiltImage {
  /** The exact manifest string to push. */
  manifest: string;
  digest: string;
  /** The manifest's media type (pass it as imageManifestMediaType: artifacts have no top-level mediaType). */
  mediaType: string;
  kind: 'image' | 'index';
  /** Blobs of this manifest (config first); empty for an index. */
  blobs: BuiltBlob[];
  /** Manifests an index references, in order (platform images, then attestations). */
  children: BuiltImage[];
  /** Sum of the blob sizes (image) or of the children's sizes (index). */
  sizeInBytes: number;
  artifactMediaType?: string;
}

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export type ImageFormat = 'docker' | 'oci' | 'docker-list' | 'oci-index' | 'artifact';

export interface ImageSpec {
  /** Default 'docker'. */
  format?: ImageFormat;
  /** Everything is derived from it: two different seeds give different digests. */
  seed: string;
  /** Layers per image manifest; default 2. */
  layers?: number;
  /** Bytes per layer; default 512 (contents are real, keep it small for big registries). */
  layerSize?: number;
  /** Platforms of an index; default linux/amd64 and linux/arm64/v8. */
  platforms?: Platform[];
  /** oci-index only: add one buildx-style attestation manifest per platform. Default true. */
  attestations?: boolean;
  /** oci: leave out the top-level mediaType (it must then be given to PutImage). Default false. */
  omitMediaType?: boolean;
  /** artifact: the OCI 1.1 artifactType (default `application/vnd.example.sbom.v1+json`; null for none). */
  artifactType?: string | null;
  /** artifact: the config media type (default the OCI empty descriptor's). */
  configMediaType?: string;
  /** artifact: the manifest this artifact refers to (OCI referrers). */
  subject?: { digest: string; size: number; mediaType: string };
  /** JSON indentation of the manifest; Docker writes 3 spaces. Default 3 (0 = compact). */
  indent?: number;
}

const DEFAULT_PLATFORMS: Platform[] = [
  { architecture: 'amd64', os: 'linux' },
  { architecture: 'arm64', os: 'linux', variant: 'v8' },
];

function deterministicBytes(seed: string, size: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (let i = 0; total < size; i += 1) {
    const chunk = createHash('sha256').update(`${seed}:${i}`).digest();
    chunks.push(chunk);
    total += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, size);
}

function blobFrom(mediaType: string, make: () => Buffer): BuiltBlob {
  const bytes = make();
  return { digest: sha256Digest(bytes), size: bytes.length, mediaType, content: make };
}

const descriptor = (blob: BuiltBlob) => ({ mediaType: blob.mediaType, size: blob.size, digest: blob.digest });
const serialize = (value: unknown, indent: number) =>
  JSON.stringify(value, null, indent > 0 ? indent : undefined);

function finish(
  document: Record<string, unknown>,
  mediaType: string,
  blobs: BuiltBlob[],
  children: BuiltImage[],
  indent: number,
  artifactMediaType?: string,
): BuiltImage {
  const manifest = serialize(document, indent);
  const kind =
    children.length > 0 || mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST_V2
      ? 'index'
      : 'image';
  const sizeInBytes =
    kind === 'index'
      ? children.reduce((sum, c) => sum + c.sizeInBytes, 0)
      : blobs.reduce((sum, b) => sum + b.size, 0);
  return {
    manifest,
    digest: sha256Digest(manifest),
    mediaType,
    kind,
    blobs,
    children,
    sizeInBytes,
    ...(artifactMediaType ? { artifactMediaType } : {}),
  };
}

function singleImage(
  spec: ImageSpec,
  oci: boolean,
  platform: Platform = DEFAULT_PLATFORMS[0] as Platform,
): BuiltImage {
  const layerCount = spec.layers ?? 2;
  const layerSize = spec.layerSize ?? 512;
  const layers = Array.from({ length: layerCount }, (_, i) =>
    blobFrom(oci ? OCI_LAYER : DOCKER_LAYER, () =>
      deterministicBytes(`${spec.seed}/${platformKey(platform)}/layer/${i}`, layerSize),
    ),
  );
  const configMediaType = oci ? OCI_CONFIG : DOCKER_CONFIG;
  const config = blobFrom(configMediaType, () =>
    Buffer.from(
      JSON.stringify({
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        config: { Labels: { 'org.example.seed': spec.seed } },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      }),
    ),
  );
  const mediaType = oci ? OCI_MANIFEST : DOCKER_MANIFEST_V2;
  const document = {
    schemaVersion: 2,
    ...(oci && spec.omitMediaType ? {} : { mediaType }),
    config: descriptor(config),
    layers: layers.map(descriptor),
  };
  return finish(document, mediaType, [config, ...layers], [], spec.indent ?? 3, configMediaType);
}

const platformKey = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

function attestation(spec: ImageSpec, subject: BuiltImage): BuiltImage {
  const statement = blobFrom('application/vnd.in-toto+json', () =>
    Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v0.1',
        predicateType: 'https://spdx.dev/Document',
        subject: [{ name: spec.seed, digest: { sha256: subject.digest.slice('sha256:'.length) } }],
        predicate: { spdxVersion: 'SPDX-2.3', name: spec.seed },
      }),
    ),
  );
  const config = blobFrom(OCI_CONFIG, () =>
    Buffer.from(
      JSON.stringify({
        architecture: 'unknown',
        os: 'unknown',
        config: {},
        rootfs: { type: 'layers', diff_ids: [statement.digest] },
      }),
    ),
  );
  const document = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: descriptor(config),
    layers: [
      { ...descriptor(statement), annotations: { 'in-toto.io/predicate-type': 'https://spdx.dev/Document' } },
    ],
  };
  return finish(document, OCI_MANIFEST, [config, statement], [], spec.indent ?? 3, OCI_CONFIG);
}

function index(spec: ImageSpec, oci: boolean): BuiltImage {
  const platforms = spec.platforms ?? DEFAULT_PLATFORMS;
  const images = platforms.map((platform) => singleImage({ ...spec, omitMediaType: false }, oci, platform));
  const attestations =
    oci && (spec.attestations ?? true) ? images.map((image) => attestation(spec, image)) : [];
  const childMediaType = oci ? OCI_MANIFEST : DOCKER_MANIFEST_V2;
  const mediaType = oci ? OCI_INDEX : DOCKER_MANIFEST_LIST_V2;
  const manifests = [
    ...images.map((image, i) => ({
      mediaType: childMediaType,
      digest: image.digest,
      size: Buffer.byteLength(image.manifest),
      platform: platforms[i],
    })),
    // buildx attestation manifests: platform unknown/unknown, pointing at their image by annotation.
    ...attestations.map((att, i) => ({
      mediaType: OCI_MANIFEST,
      digest: att.digest,
      size: Buffer.byteLength(att.manifest),
      annotations: {
        'vnd.docker.reference.digest': images[i]?.digest,
        'vnd.docker.reference.type': 'attestation-manifest',
      },
      platform: { architecture: 'unknown', os: 'unknown' },
    })),
  ];
  return finish(
    { schemaVersion: 2, mediaType, manifests },
    mediaType,
    [],
    [...images, ...attestations],
    spec.indent ?? 3,
  );
}

function artifact(spec: ImageSpec): BuiltImage {
  const artifactType =
    spec.artifactType === undefined ? 'application/vnd.example.sbom.v1+json' : spec.artifactType;
  const configMediaType = spec.configMediaType ?? OCI_EMPTY;
  const config = blobFrom(configMediaType, () =>
    configMediaType === OCI_EMPTY ? Buffer.from('{}') : Buffer.from(JSON.stringify({ name: spec.seed })),
  );
  const layers = Array.from({ length: spec.layers ?? 1 }, (_, i) =>
    blobFrom('application/vnd.oci.image.layer.v1.tar', () =>
      deterministicBytes(`${spec.seed}/artifact/${i}`, spec.layerSize ?? 256),
    ),
  );
  // OCI 1.1 artifact: no top-level mediaType, so PutImage needs imageManifestMediaType.
  const document = {
    schemaVersion: 2,
    ...(artifactType ? { artifactType } : {}),
    config: { ...descriptor(config), ...(configMediaType === OCI_EMPTY ? { data: 'e30=' } : {}) },
    layers: layers.map((l, i) => ({
      ...descriptor(l),
      annotations: { 'org.opencontainers.image.title': `part-${i}` },
    })),
    ...(spec.subject ? { subject: spec.subject } : {}),
    annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
  };
  return finish(
    document,
    OCI_MANIFEST,
    [config, ...layers],
    [],
    spec.indent ?? 0,
    artifactType ?? configMediaType,
  );
}

/** Builds an image from a spec (see ImageSpec). */
export function buildImage(spec: ImageSpec): BuiltImage {
  switch (spec.format ?? 'docker') {
    case 'docker':
      return singleImage(spec, false);
    case 'oci':
      return singleImage(spec, true);
    case 'docker-list':
      return index(spec, false);
    case 'oci-index':
      return index(spec, true);
    case 'artifact':
      return artifact(spec);
  }
}

export const buildDockerImage = (
  seed: string,
  options: Omit<ImageSpec, 'seed' | 'format'> = {},
): BuiltImage => buildImage({ ...options, seed, format: 'docker' });
export const buildOciImage = (seed: string, options: Omit<ImageSpec, 'seed' | 'format'> = {}): BuiltImage =>
  buildImage({ ...options, seed, format: 'oci' });
export const buildOciIndex = (seed: string, options: Omit<ImageSpec, 'seed' | 'format'> = {}): BuiltImage =>
  buildImage({ ...options, seed, format: 'oci-index' });
export const buildDockerManifestList = (
  seed: string,
  options: Omit<ImageSpec, 'seed' | 'format'> = {},
): BuiltImage => buildImage({ ...options, seed, format: 'docker-list' });
export const buildArtifact = (seed: string, options: Omit<ImageSpec, 'seed' | 'format'> = {}): BuiltImage =>
  buildImage({ ...options, seed, format: 'artifact' });

/** Every blob of an image and its children, without duplicates. */
export function allBlobs(image: BuiltImage): BuiltBlob[] {
  const seen = new Map<string, BuiltBlob>();
  const visit = (img: BuiltImage) => {
    for (const child of img.children) visit(child);
    for (const blob of img.blobs) if (!seen.has(blob.digest)) seen.set(blob.digest, blob);
  };
  visit(image);
  return [...seen.values()];
}

/** Well-known OCI 1.1 referrer artifact types (Notation and Cosign signatures, an SPDX SBOM). */
export const ARTIFACT_TYPES = {
  notationSignature: 'application/vnd.cncf.notary.signature',
  cosignSignature: 'application/vnd.dev.cosign.artifact.sig.v1+json',
  spdxSbom: 'application/spdx+json',
} as const;

/** The descriptor of a built image, as a referrer's `subject` names it. */
export const subjectOf = (image: BuiltImage): { digest: string; size: number; mediaType: string } => ({
  digest: image.digest,
  size: Buffer.byteLength(image.manifest),
  mediaType: image.mediaType,
});

/** An OCI 1.1 referrer of `subject` (an artifact manifest with `artifactType` and `subject`), untagged by nature. */
export const buildReferrer = (seed: string, subject: BuiltImage, artifactType: string): BuiltImage =>
  buildImage({ seed, format: 'artifact', artifactType, subject: subjectOf(subject) });
