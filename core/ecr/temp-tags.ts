/**
 * The run's temporary tags.
 *
 * One temp tag per image *digest* (not per tag), deterministic from the run id and the digest: a
 * retry, a crash-rerun or a redrive of the same run computes the same tag, so a second PutImage is
 * recognised as already done instead of leaving a second tag behind.
 *
 * Shape: `<prefix><run hash>-<digest hex>`, e.g. `ecr-backfill-3f2a9c01b2e4-0f1e…` (≤ 128 characters,
 * Docker's tag grammar `[A-Za-z0-9_][A-Za-z0-9_.-]*`, which ECR accepts). The run id is hashed so
 * any execution name fits; the digest hex is kept whole when the prefix leaves room, and never
 * shortened below 32 hex characters (128 bits), so two digests of one run never share a tag.
 *
 * For an untagged image (selected with `includeUntagged`), the temp tag is the image's *marker tag*
 * (docs/architecture.md §3.2, invariant 7): removing an image's last tag deletes the image, so the marker stays on
 * the image in the source and in every destination. Users find those images by the prefix.
 */
import { createHash } from 'node:crypto';

/** Docker/OCI distribution tags are at most 128 characters; stay within that although ECR allows 300. */
export const TEMP_TAG_MAX_LENGTH = 128;
const RUN_HASH_LENGTH = 12;
const MIN_DIGEST_HEX_LENGTH = 32;
/** The longest prefix that still leaves room for the run hash and 32 digest hex characters. */
export const TEMP_TAG_PREFIX_MAX_LENGTH = TEMP_TAG_MAX_LENGTH - RUN_HASH_LENGTH - 1 - MIN_DIGEST_HEX_LENGTH;

const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Why a temp-tag prefix is unusable (empty list: usable). Shared with the input schema. */
export function tempTagPrefixProblems(prefix: string): string[] {
  const problems: string[] = [];
  if (prefix.length === 0) problems.push('tempTagPrefix must not be empty');
  if (prefix.length > TEMP_TAG_PREFIX_MAX_LENGTH) {
    problems.push(`tempTagPrefix must be at most ${TEMP_TAG_PREFIX_MAX_LENGTH} characters`);
  }
  if (prefix.length > 0 && !TAG_PATTERN.test(prefix)) {
    problems.push(
      'tempTagPrefix may only contain letters, digits, "_", "." and "-", and must not start with "." or "-"',
    );
  }
  return problems;
}

const runHash = (runId: string): string =>
  createHash('sha256').update(runId, 'utf8').digest('hex').slice(0, RUN_HASH_LENGTH);

/** The hex part of `sha256:<hex>` (any algorithm), lower-cased. */
const digestHex = (imageDigest: string): string => {
  const hex = (imageDigest.includes(':') ? imageDigest.slice(imageDigest.indexOf(':') + 1) : imageDigest)
    .toLowerCase()
    .replace(/[^0-9a-f]/g, '');
  if (hex.length < MIN_DIGEST_HEX_LENGTH) throw new Error(`not an image digest: ${imageDigest}`);
  return hex;
};

/** The run's temp tag for one image digest. Throws on a prefix `tempTagPrefixProblems` rejects. */
export function tempTagFor(prefix: string, runId: string, imageDigest: string): string {
  const problems = tempTagPrefixProblems(prefix);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const head = `${prefix}${runHash(runId)}-`;
  return head + digestHex(imageDigest).slice(0, TEMP_TAG_MAX_LENGTH - head.length);
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');

/**
 * Whether `tag` is a temp tag written by this tool with `prefix` (of any run, or of `runId` when
 * given). Cleanup tools use it to find leftovers; it never matches a tag that merely starts with the
 * prefix, because the run hash and digest hex parts must be there too.
 */
export function isTempTag(tag: string, prefix: string, runId?: string): boolean {
  const run = runId === undefined ? `[0-9a-f]{${RUN_HASH_LENGTH}}` : runHash(runId);
  const pattern = new RegExp(`^${escapeRegExp(prefix)}${run}-[0-9a-f]{${MIN_DIGEST_HEX_LENGTH},}$`);
  return tag.length <= TEMP_TAG_MAX_LENGTH && pattern.test(tag);
}

/**
 * Whether `tag` is a temp tag this tool wrote **for this image**: the shape of `isTempTag`, and its
 * digest part is the image's own digest (and its run part the run's, with `runId`). A real tag that
 * merely has the shape — a user's `<prefix><12 hex>-<32+ hex>` — never passes, so cleanup cannot
 * delete it.
 */
export function isTempTagOf(tag: string, prefix: string, imageDigest: string, runId?: string): boolean {
  if (!isTempTag(tag, prefix, runId)) return false;
  const head = tag.slice(0, prefix.length + RUN_HASH_LENGTH + 1);
  let hex: string;
  try {
    hex = digestHex(imageDigest);
  } catch {
    return false;
  }
  return tag === head + hex.slice(0, TEMP_TAG_MAX_LENGTH - head.length);
}
