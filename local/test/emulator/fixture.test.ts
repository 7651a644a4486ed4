import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRegistryCommand,
  GetRegistryPolicyCommand,
  ListImagesCommand,
} from '@aws-sdk/client-ecr';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  allBlobs,
  buildArtifact,
  buildDockerImage,
  buildImage,
  buildOciIndex,
  FixtureError,
  fixtureJsonSchema,
  loadFixture,
  mediaTypes,
  parseFixture,
} from '../../ecr-emulator/index.ts';
import { replicationPermission } from 'ecr-backfill/core';
import { startHarness, type Harness } from './helpers.ts';

const EXAMPLE = fileURLToPath(
  new URL('../../../test/fixtures/registry/example-registry.json', import.meta.url),
);
const sha = (data: string | Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

describe('image builders', () => {
  it('are deterministic per seed, and every digest is the sha256 of the bytes it names', () => {
    // Act
    const a = buildOciIndex('builders/a');
    const again = buildOciIndex('builders/a');
    const b = buildOciIndex('builders/b');

    // Assess
    expect(again.manifest).toBe(a.manifest);
    expect(b.digest).not.toBe(a.digest);
    expect(a.digest).toBe(sha(a.manifest));
    for (const child of a.children) expect(child.digest).toBe(sha(child.manifest));
    for (const blob of allBlobs(a)) expect(sha(blob.content())).toBe(blob.digest);
  });

  it('build buildx-style attestation manifests and OCI artifacts without a top-level mediaType', () => {
    // Act
    const index = JSON.parse(buildOciIndex('builders/attest').manifest) as {
      manifests: { platform: { os: string }; annotations?: Record<string, string> }[];
    };
    const artifact = buildArtifact('builders/artifact');
    const docker = buildDockerImage('builders/docker');

    // Assess
    const attestations = index.manifests.filter(
      (m) => m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest',
    );
    expect(attestations).toHaveLength(2);
    expect(attestations.every((m) => m.platform.os === 'unknown')).toBe(true);
    expect(JSON.parse(artifact.manifest)).not.toHaveProperty('mediaType');
    expect(artifact.mediaType).toBe(mediaTypes.OCI_MANIFEST);
    expect(docker.manifest).toContain('\n   "schemaVersion": 2'); // Docker's 3-space indentation
    expect(buildImage({ seed: 'builders/docker' }).digest).toBe(docker.digest);
  });
});

describe('registry fixture', () => {
  let h: Harness | undefined;
  afterEach(() => h?.close());

  it('seeds the example registry with every kind of image it describes', async () => {
    // Prepare
    const fixture = await loadFixture(EXAMPLE);
    h = await startHarness({ fixture });
    const ecr = h.client('ap-south-1');
    const rawManifest = fixture.accounts[0]?.regions[0]?.repositories[0]?.images[0]?.manifest;

    // Act
    const registry = await ecr.send(new DescribeRegistryCommand({}));
    const api = await ecr.send(new DescribeImagesCommand({ repositoryName: 'shop/api' }));
    const archived = await ecr.send(
      new ListImagesCommand({ repositoryName: 'shop/api', filter: { imageStatus: 'ARCHIVED' } }),
    );
    const stable = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: 'shop/api',
        imageIds: [{ imageTag: 'stable' }],
        acceptedMediaTypes: [mediaTypes.DOCKER_MANIFEST_V2],
      }),
    );
    const web = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'shop/web', filter: { tagStatus: 'TAGGED' } }),
    );
    const charts = await ecr.send(new DescribeImagesCommand({ repositoryName: 'shop/charts' }));
    const otherPolicy = await h
      .client('eu-west-1', { account: '222222222222' })
      .send(new GetRegistryPolicyCommand({}));

    // Assess
    expect(registry.replicationConfiguration?.rules).toHaveLength(2);
    expect(stable.images?.[0]?.imageManifest).toBe(rawManifest);
    const apiTypes = api.imageDetails?.map((d) => d.imageManifestMediaType).sort();
    expect(apiTypes).toContain(mediaTypes.OCI_INDEX);
    expect(api.imageDetails?.some((d) => d.imageTags === undefined)).toBe(true); // untagged images
    expect(archived.imageIds?.map((i) => i.imageTag)).toEqual(['v0.9.0']);
    expect(Math.max(...(web.imageDetails ?? []).map((d) => d.imageTags?.length ?? 0))).toBe(40);
    expect(
      web.imageDetails?.some((d) => d.imageManifestMediaType === mediaTypes.DOCKER_MANIFEST_LIST_V2),
    ).toBe(true);
    expect(charts.imageDetails?.map((d) => d.artifactMediaType).sort()).toEqual([
      'application/spdx+json',
      'application/vnd.cncf.helm.config.v1+json',
      mediaTypes.DOCKER_CONFIG,
    ]);
    expect(
      charts.imageDetails?.find((d) => d.artifactMediaType === 'application/spdx+json')
        ?.subjectManifestDigest,
    ).toMatch(/^sha256:/);
    expect(h.emulator.world.getRepository('111111111111', 'ap-northeast-2', 'shop/web')?.mutability).toBe(
      'IMMUTABLE',
    );
    // The other account's registry lets the source replicate into it, as AWS requires.
    expect(
      replicationPermission(otherPolicy.policyText, '111111111111', {
        registryId: '222222222222',
        region: 'eu-west-1',
      }),
    ).toEqual({ replicate: true, createRepository: true });
  });

  it('explains what is wrong with an invalid fixture', () => {
    // Act
    const attempt = () =>
      parseFixture({
        accounts: [
          {
            id: '123',
            regions: [{ region: 'eu-west-1', repositories: [{ name: 'x/y', images: [{ tags: ['a'] }] }] }],
          },
        ],
      });

    // Assess
    expect(attempt).toThrow(FixtureError);
    expect(attempt).toThrow(/accounts\[0\]\.id/);
    expect(attempt).toThrow(/exactly one of manifest or build/);
  });

  it('publishes a JSON Schema for the fixture format', () => {
    // Act
    const schema = fixtureJsonSchema() as { properties?: Record<string, unknown> };

    // Assess
    expect(Object.keys(schema.properties ?? {})).toEqual(
      expect.arrayContaining(['accounts', 'defaultAccount']),
    );
  });
});
