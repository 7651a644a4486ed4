/**
 * Referrer parity after a native backfill (issue 21, "both engines"): in a destination that holds the
 * image, every referrer the plan found for it in the source (signatures, SBOMs, attestations,
 * transitively) must be listed by ListImageReferrers there. AWS does not say whether a replication
 * backfill copies referrers (https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-backfill.html
 * is silent on them), so whatever is missing is copied here, the same way PromoteTags copies them:
 * core/ecr/referrers.ts (blobs through the layer APIs, then PutImage of the exact manifest with no tag,
 * through the destination Region's PutImage limiter). Nothing is written in the source.
 *
 * One transitive listing per image and destination; a copy only for what it lacks. Idempotent: a
 * retry (or a redrive of NativeVerify) lists again and copies only what is still missing. A copy that
 * fails throws, so the step fails (its retriers, then a redrive, run it again) rather than report a
 * referrer that is not there.
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ItemDestination, ReportRow, WorkItem } from '../../../core/contracts/contracts.ts';
import type { RepositoryRef } from '../../../core/ecr/ecr.ts';
import type { RateLimiter } from '../../../core/ecr/rate-limit.ts';
import { copyReferrer, listReferrersTransitively } from '../../../core/ecr/referrers.ts';
import { NATIVE_BACKFILLED } from '../../../core/contracts/contracts.ts';

export interface ReferrerParityTarget {
  client: ECRClient;
  ref: RepositoryRef;
  limiter: RateLimiter;
}

/**
 * Brings the item's referrers to `destination`, whose copy of the image is complete. Returns a report
 * row per referrer the plan found missing there or that this call copied: NATIVE_BACKFILLED (listed
 * there now, the backfill brought it), BACKFILLED (copied here), SOURCE_GONE (its owner deleted it in
 * the source meanwhile). A referrer that was there at plan time and still is has no row, as a tag
 * already present has none.
 */
export async function bringReferrers(
  source: { client: ECRClient; ref: RepositoryRef },
  target: ReferrerParityTarget,
  item: WorkItem,
  destination: ItemDestination,
  backfillId: string | undefined,
): Promise<ReportRow[]> {
  const referrers = item.referrers ?? [];
  if (referrers.length === 0) return [];
  const listed = await listReferrersTransitively(target.client, target.ref, item.imageDigest);
  const there = new Set(listed.map((r) => r.digest));
  const plannedMissing = new Set(destination.referrers ?? []);
  const rows: ReportRow[] = [];
  const row = (digest: string, artifactType: string | undefined, outcome: string, detail: string) =>
    rows.push({
      repositoryName: item.repositoryName,
      imageDigest: digest,
      tag: '',
      destinationRegion: destination.region,
      destinationRegistryId: destination.registryId,
      outcome,
      detail,
      referrerOf: item.imageDigest,
      ...(artifactType !== undefined && { artifactType }),
    });
  // In the item's order: a subject before its referrers, so a signature of an SBOM follows the SBOM.
  for (const referrer of referrers) {
    if (there.has(referrer.digest)) {
      if (plannedMissing.has(referrer.digest)) {
        row(
          referrer.digest,
          referrer.artifactType,
          NATIVE_BACKFILLED,
          backfillId
            ? `listed as a referrer of the image after replication backfill ${backfillId}`
            : 'listed as a referrer of the image',
        );
      }
      continue;
    }
    const copied = await copyReferrer(source, target, referrer);
    if (copied === 'source-gone') {
      row(referrer.digest, referrer.artifactType, 'SOURCE_GONE', 'the referrer was deleted in the source');
    } else {
      row(
        referrer.digest,
        referrer.artifactType,
        copied === 'copied' ? 'BACKFILLED' : 'ALREADY_PRESENT',
        copied === 'copied'
          ? 'copied untagged after the native backfill, which had not brought it'
          : 'found in the destination when copying it',
      );
    }
  }
  return rows;
}
