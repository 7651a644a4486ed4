/**
 * What BatchGetImage returns, fetched *by tag*, when the stored manifest's media type is not among
 * the caller's accepted ones. The user guide's conversion table: an image pushed as Docker V2
 * schema 2 converts to OCI; one pushed as OCI converts to Docker V2 schema 2; nothing converts to or
 * from schema 1 except schema 2 → schema 1 (not emulated: the emulator builds no signed schema 1),
 * and "when you pull an image by digest, there is no conversion available".
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-manifest-formats.html
 *
 * The guide does not say how a converted manifest is written; the emulator rewrites the media types
 * (manifest, config, layers) and keeps every other field, so the converted bytes — hence their
 * sha256 — differ from the stored manifest's. Indexes (manifest lists) are not in the table: one in
 * an unaccepted type fails with `ImageNotFound` (no manifest the caller accepts exists).
 */
import {
  DOCKER_CONFIG,
  DOCKER_LAYER,
  DOCKER_MANIFEST_V2,
  OCI_CONFIG,
  OCI_LAYER,
  OCI_MANIFEST,
} from './media-types.ts';

/** The stored image's media type → the types it converts to, with the media-type mapping used. */
const CONVERSIONS: Readonly<Record<string, { to: string; types: Readonly<Record<string, string>> }>> = {
  [OCI_MANIFEST]: {
    to: DOCKER_MANIFEST_V2,
    types: { [OCI_MANIFEST]: DOCKER_MANIFEST_V2, [OCI_CONFIG]: DOCKER_CONFIG, [OCI_LAYER]: DOCKER_LAYER },
  },
  [DOCKER_MANIFEST_V2]: {
    to: OCI_MANIFEST,
    types: { [DOCKER_MANIFEST_V2]: OCI_MANIFEST, [DOCKER_CONFIG]: OCI_CONFIG, [DOCKER_LAYER]: OCI_LAYER },
  },
};

export interface ConvertedManifest {
  manifest: string;
  mediaType: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The manifest converted to a type in `accepted`, or undefined when no conversion is available (or
 * the stored manifest cannot be read as its type).
 */
export function convertManifest(
  manifest: string,
  mediaType: string,
  accepted: readonly string[],
): ConvertedManifest | undefined {
  const conversion = CONVERSIONS[mediaType];
  if (!conversion || !accepted.includes(conversion.to)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(manifest);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed)) return undefined;
  const retype = (descriptor: unknown): unknown =>
    isRecord(descriptor) && typeof descriptor.mediaType === 'string'
      ? { ...descriptor, mediaType: conversion.types[descriptor.mediaType] ?? descriptor.mediaType }
      : descriptor;
  const converted: Record<string, unknown> = {
    ...parsed,
    mediaType: conversion.to,
    ...(parsed.config !== undefined ? { config: retype(parsed.config) } : {}),
    ...(Array.isArray(parsed.layers) ? { layers: parsed.layers.map(retype) } : {}),
  };
  return { manifest: JSON.stringify(converted, null, 2), mediaType: conversion.to };
}
