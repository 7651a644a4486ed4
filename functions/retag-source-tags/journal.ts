/**
 * The retag journal: one small run file (an S3 object in production) per (repository, digest, tag) that `retag-source` is
 * re-tagging, in the run's prefix. The source registry cannot tell "we deleted this tag and put it
 * back" from "we never touched it" (both leave the tag on the digest), so without a record a rerun
 * would delete and re-put a finished tag again: a second PutImage and a second unavailability window.
 *
 * Phases, written in this order around the source writes:
 * - `intent` before the delete (holds the per-destination classification made beforehand);
 * - `deleted` right after the delete, before the re-put;
 * - `gone` when the tag's owner deleted it meanwhile (the last look found it absent, our delete found
 *   nothing to delete, or the image went and our re-put re-created it): owners' deletes win.
 * On a rerun: `deleted` + tag on the digest → done; `intent`/`deleted` + tag absent → we deleted it:
 * re-put (recovery); no record or `gone` + tag absent → someone else deleted it: never resurrected;
 * `gone` + tag present → its owner pushed it again: a fresh start. What no record can tell apart: an
 * attempt that dies between its `intent` and its delete, and an owner who deletes the tag before the
 * rerun; the rerun takes the absent tag for ours and restores it.
 * S3 gives strong read-after-write consistency, so a rerun always sees the last phase written.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel
 */
import { z } from 'zod';
import { TAG_OUTCOMES } from '../../core/contracts/contracts.ts';
import { getJson, isNotFound, putJson, type RunStore } from '../../core/run-files/run-store.ts';

export const RetagJournalEntrySchema = z.object({
  phase: z.enum(['intent', 'deleted', 'gone']),
  /** Per destination (`registryId/region`): what the re-put does for this tag there. */
  outcomes: z.record(z.string(), z.enum(TAG_OUTCOMES)),
  /** Epoch ms at which the delete succeeded (phase `deleted`). */
  deletedAt: z.number().optional(),
});
export type RetagJournalEntry = z.infer<typeof RetagJournalEntrySchema>;

export interface RetagJournal {
  get(repositoryName: string, imageDigest: string, tag: string): Promise<RetagJournalEntry | undefined>;
  put(repositoryName: string, imageDigest: string, tag: string, entry: RetagJournalEntry): Promise<void>;
}

/** `<runPrefix>/retag-journal/<repository>/<digest hex>/<tag>.json` (repository names and tags are S3-safe). */
export function retagJournalKey(
  runPrefix: string,
  repositoryName: string,
  imageDigest: string,
  tag: string,
): string {
  const prefix = runPrefix.replace(/\/+$/, '');
  const hex = imageDigest.slice(imageDigest.indexOf(':') + 1);
  return `${prefix ? `${prefix}/` : ''}retag-journal/${repositoryName}/${hex}/${tag}.json`;
}

export function createRetagJournal(store: RunStore, bucket: string, runPrefix: string): RetagJournal {
  return {
    async get(repositoryName, imageDigest, tag) {
      try {
        const key = retagJournalKey(runPrefix, repositoryName, imageDigest, tag);
        return await getJson(store, bucket, key, RetagJournalEntrySchema);
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async put(repositoryName, imageDigest, tag, entry) {
      await putJson(store, bucket, retagJournalKey(runPrefix, repositoryName, imageDigest, tag), entry);
    },
  };
}
