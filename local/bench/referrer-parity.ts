/**
 * Referrer parity, checked from the emulator's own state after a run (issue 21): in every covering
 * destination that holds a selected source image, each of the image's OCI 1.1 referrers in the source
 * (signatures, SBOMs, attestations; transitively, so a signature of an SBOM too) is there, by digest.
 * A referrer is content-addressed and names its subject in its manifest, so the same digest is the
 * same referrer of the same subject. Only ACTIVE referrers count, as ListImageReferrers lists only
 * those by default (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ListImageReferrers.html).
 *
 * Like invariant 4 it applies to a run that SUCCEEDED: a failed run may have stopped before copying.
 * Nothing here reads what the workflow reports about itself.
 */
import type { EmulatorSnapshot, RepositorySnapshot } from '../ecr-emulator/index.ts';
import { isTempTag } from 'ecr-backfill/core';
import { coveringDestinations, registryOf } from './invariants.ts';

export interface ReferrerParityInput {
  before: EmulatorSnapshot;
  after: EmulatorSnapshot;
  source: { account: string; region: string };
  tempTagPrefix: string;
  succeeded: boolean;
}

export interface MissingReferrer {
  repository: string;
  /** The selected image whose referrer it is (directly or through another referrer). */
  image: string;
  referrer: string;
  artifactType: string;
  destination: string;
}

/** subject digest → its ACTIVE referrers in one repository. */
function referrersBySubject(
  repository: RepositorySnapshot,
): Map<string, { digest: string; artifactType: string }[]> {
  const bySubject = new Map<string, { digest: string; artifactType: string }[]>();
  for (const image of repository.images) {
    if (image.subject === undefined || image.status !== 'ACTIVE') continue;
    const list = bySubject.get(image.subject) ?? [];
    list.push({ digest: image.digest, artifactType: image.artifactMediaType ?? image.mediaType });
    bySubject.set(image.subject, list);
  }
  return bySubject;
}

/** Every referrer of `digest`, transitively (each digest once, cycles impossible but guarded). */
function transitiveReferrers(
  bySubject: Map<string, { digest: string; artifactType: string }[]>,
  digest: string,
): { digest: string; artifactType: string }[] {
  const found = new Map<string, { digest: string; artifactType: string }>();
  const pending = [digest];
  while (pending.length > 0) {
    const subject = pending.pop() as string;
    for (const referrer of bySubject.get(subject) ?? []) {
      if (found.has(referrer.digest)) continue;
      found.set(referrer.digest, referrer);
      pending.push(referrer.digest);
    }
  }
  return [...found.values()];
}

export function checkReferrerParity(input: ReferrerParityInput): MissingReferrer[] {
  if (!input.succeeded) return [];
  const { account, region } = input.source;
  const sourceBefore = registryOf(input.before, account, region);
  const missing: MissingReferrer[] = [];
  for (const repository of sourceBefore?.repositories ?? []) {
    const covering = coveringDestinations(sourceBefore, repository.name);
    if (covering.length === 0) continue;
    const bySubject = referrersBySubject(repository);
    if (bySubject.size === 0) continue;
    // Selected by default: an ACTIVE image with a tag of its own (a referrer is never selected itself).
    const selected = repository.images.filter(
      (image) =>
        image.status === 'ACTIVE' &&
        image.subject === undefined &&
        image.tags.some((tag) => !isTempTag(tag, input.tempTagPrefix)),
    );
    for (const d of covering) {
      const destination = `${d.registryId}/${d.region}`;
      const there = registryOf(input.after, d.registryId, d.region)?.repositories.find(
        (r) => r.name === repository.name,
      );
      const active = new Set(there?.images.filter((i) => i.status === 'ACTIVE').map((i) => i.digest));
      for (const image of selected) {
        // An image the destination does not hold (its tags all conflict there) takes no referrer.
        if (!active.has(image.digest)) continue;
        for (const referrer of transitiveReferrers(bySubject, image.digest)) {
          if (active.has(referrer.digest)) continue;
          missing.push({
            repository: repository.name,
            image: image.digest,
            referrer: referrer.digest,
            artifactType: referrer.artifactType,
            destination,
          });
        }
      }
    }
  }
  return missing;
}

/** One line per missing referrer, for the bench output and assertion messages. */
export const formatMissingReferrer = (m: MissingReferrer): string =>
  `referrer ${m.referrer} (${m.artifactType}) of ${m.repository}@${m.image} missing in ${m.destination}`;
