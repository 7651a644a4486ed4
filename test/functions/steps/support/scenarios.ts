/** Registries the step tests seed: small, but with every kind of image the backfill must carry. */
import {
  buildArtifact,
  buildDockerImage,
  buildOciImage,
  buildOciIndex,
  type BuiltImage,
} from '../../../../local/ecr-emulator/index.ts';
import { expect } from 'vitest';
import type { BatchInput, WorkItem } from '../../../../core/contracts/contracts.ts';
import { tempTagFor } from '../../../../core/ecr/temp-tags.ts';
import {
  DESTINATIONS,
  imageExists,
  seedSource,
  tagsOf,
  TEMP_TAG_PREFIX,
  workItem,
  type Harness,
} from './harness.ts';

export interface SeededImage {
  repository: string;
  image: BuiltImage;
  tags: string[];
}

export interface Scenario {
  images: SeededImage[];
  items: WorkItem[];
}

/**
 * Docker v2 (two tags: one temp tag for both), OCI image, multi-arch OCI index with attestation
 * manifests, OCI artifact without top-level mediaType, untagged image (marker tag).
 */
export function seedMixedRegistry(h: Harness, options: { untagged?: boolean } = {}): Scenario {
  const images: SeededImage[] = [
    { repository: 'app/api', image: buildDockerImage('api-1'), tags: ['v1', 'latest'] },
    { repository: 'app/api', image: buildOciImage('api-oci'), tags: ['oci-1'] },
    { repository: 'app/web', image: buildOciIndex('web-multi'), tags: ['multi'] },
    { repository: 'app/web', image: buildArtifact('web-sbom'), tags: ['sbom'] },
  ];
  if (options.untagged ?? true)
    images.push({ repository: 'app/web', image: buildDockerImage('web-untagged'), tags: [] });
  for (const seeded of images) seedSource(h, seeded.repository, seeded.image, seeded.tags);
  return { images, items: images.map((seeded) => workItem(seeded)) };
}

/** Two images, one with two tags, one multi-arch index: small enough to crash after every call. */
export function seedCrashRegistry(h: Harness, prefix = ''): Scenario {
  const images: SeededImage[] = [
    { repository: `${prefix}svc/a`, image: buildDockerImage('crash-a'), tags: ['v1', 'stable'] },
    {
      repository: `${prefix}svc/b`,
      image: buildOciIndex('crash-b', { platforms: [{ architecture: 'amd64', os: 'linux' }] }),
      tags: ['v2'],
    },
  ];
  for (const seeded of images) seedSource(h, seeded.repository, seeded.image, seeded.tags);
  return { images, items: images.map((seeded) => workItem(seeded)) };
}

/** Asserts every image of the scenario stands in every destination with all its tags and index children. */
export function expectInEveryDestination(h: Harness, scenario: Scenario): void {
  for (const { repository, image, tags } of scenario.images) {
    for (const destination of DESTINATIONS) {
      const inDestination = tagsOf(h, destination, repository);
      for (const tag of tags)
        expect(inDestination.get(tag), `${repository}:${tag} in ${destination.region}`).toBe(image.digest);
      for (const child of image.children)
        expect(imageExists(h, destination, repository, child.digest)).toBe(true);
    }
  }
}

/** `repository:tag` of the temp tags the scenario's untagged images keep as their marker after the run. */
export function markerTagsOf(scenario: Scenario, input: BatchInput): string[] {
  return scenario.images
    .filter((s) => s.tags.length === 0)
    .map((s) => `${s.repository}:${tempTagFor(TEMP_TAG_PREFIX, input.runId, s.image.digest)}`);
}
