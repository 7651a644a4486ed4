import { describe, expect, it } from 'vitest';
import {
  buildArtifact,
  buildDockerImage,
  buildDockerManifestList,
  buildOciIndex,
} from '../../../local/ecr-emulator/index.ts';
import { indexChildDigests, isIndexMediaType } from '../../../core/ecr/media-types.ts';

describe('indexChildDigests', () => {
  it('lists every manifest an OCI index references, attestation manifests included', () => {
    const index = buildOciIndex('children');
    expect(indexChildDigests(index.manifest, index.mediaType)).toEqual(index.children.map((c) => c.digest));
    expect(index.children).toHaveLength(4);
  });

  it('lists the platform manifests of a Docker manifest list', () => {
    const list = buildDockerManifestList('children-docker');
    expect(indexChildDigests(list.manifest, undefined)).toEqual(list.children.map((c) => c.digest));
  });

  it('returns nothing for an image, an artifact or unparseable bytes', () => {
    const image = buildDockerImage('plain');
    const artifact = buildArtifact('sbom');
    expect(indexChildDigests(image.manifest, image.mediaType)).toEqual([]);
    expect(indexChildDigests(artifact.manifest, artifact.mediaType)).toEqual([]);
    expect(indexChildDigests('not json', 'application/vnd.oci.image.index.v1+json')).toEqual([]);
  });

  it('knows the index media types', () => {
    expect(isIndexMediaType('application/vnd.oci.image.index.v1+json')).toBe(true);
    expect(isIndexMediaType('application/vnd.docker.distribution.manifest.list.v2+json')).toBe(true);
    expect(isIndexMediaType('application/vnd.oci.image.manifest.v1+json')).toBe(false);
    expect(isIndexMediaType(undefined)).toBe(false);
  });
});
