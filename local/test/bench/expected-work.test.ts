/**
 * The ground truth on the case that made the scale run report 0.999 source PutImage per digest: an
 * image whose destination lacks it but holds every one of its tags on another digest (CONFLICT) needs
 * no copy there, as the planner decides (test/functions/plan/planning-rules.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { expectedWork, putImageNeeds } from '../../bench/expected-work.ts';
import {
  benchDestinations,
  resolveShape,
  type DestinationContent,
  type GeneratedRegistry,
} from '../../bench/registry-generator.ts';

const IMAGE = 'sha256:1111';
const OTHER = 'sha256:2222';

/** One repository with one single-tag image `v1`, covered by `coveredBy`, with the given contents. */
function registryWith(coveredBy: number[], destinations: DestinationContent[]): GeneratedRegistry {
  const shape = resolveShape({
    seed: 1,
    repositories: 1,
    imagesPerRepository: 1,
    tagsPerImage: 1,
    destinations: 2,
  });
  return {
    shape,
    sourceAccount: shape.sourceAccount,
    sourceRegion: shape.sourceRegion,
    destinations: benchDestinations(2),
    rules: [],
    repositories: [
      {
        name: 'svc/service-0001',
        coveredBy,
        images: [
          {
            digest: IMAGE,
            mediaType: 'm',
            kind: 'image',
            format: 'docker',
            tags: ['v1'],
            status: 'ACTIVE',
            referrers: [],
          },
        ],
        destinations,
      },
    ],
  };
}
const conflictIn = (destination: number): DestinationContent => ({
  destination,
  tags: new Map([['v1', OTHER]]),
  digests: new Set([OTHER]),
});

describe('expectedWork', () => {
  it('needs no source push for a digest whose every tag is a CONFLICT in the only destination lacking it', () => {
    const registry = registryWith([0], [conflictIn(0)]);

    const work = expectedWork(registry);

    expect(work).toMatchObject({
      conflicts: 1,
      deliveries: 0,
      tags: 0,
      digestsToReplicate: 0,
      digestsWithWork: 0,
    });
    expect(
      putImageNeeds(registry, work, 'promote')[`${registry.sourceAccount}/${registry.sourceRegion}`],
    ).toBe(0);
  });

  it('needs one source push when another destination lacking the digest receives the tag', () => {
    const work = expectedWork(registryWith([0, 1], [conflictIn(0)]));

    expect(work).toMatchObject({ conflicts: 1, deliveries: 1, digestsToReplicate: 1, digestsWithWork: 1 });
  });

  it('needs no source push when the destination receiving the tag already holds the digest', () => {
    const holdsDigest: DestinationContent = { destination: 1, tags: new Map(), digests: new Set([IMAGE]) };

    const work = expectedWork(registryWith([0, 1], [conflictIn(0), holdsDigest]));

    expect(work).toMatchObject({ conflicts: 1, deliveries: 1, digestsToReplicate: 0, digestsWithWork: 1 });
  });
});
