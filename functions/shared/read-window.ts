/**
 * How stale a check may be when the write it guards goes out (docs/architecture.md §3.2, invariant 3).
 *
 * ECR has no conditional put, so a step reads (where does the source tag point? what is in the
 * destination?) and then writes. Reading once per write costs two BatchGetImage per tag; reading a
 * window of writes at once costs two per window, and is just as safe as long as the read is younger
 * than MAX_READ_TO_WRITE_MS when each write of the window is sent. The steps measure that age right
 * before every write and re-read what is left of the window when it is exceeded, so the bound holds
 * whatever the quota share, the call latency or a throttling retry did to the timing.
 *
 * Why 250 ms is safe. A newer push to a source tag that lands inside the window is missed by the
 * read, and our destination put (the older digest) can then land after it. The newer push still
 * wins as long as *its* replication reaches the destination after our put: replication is an
 * asynchronous cross-Region copy of the image that ECR starts after the push completes (layers first,
 * then the manifest and its tag), and AWS documents it in minutes ("the majority of images
 * replicate in less than 30 minutes", https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html),
 * not in fractions of a second. For the case where it is faster anyway, PromoteTags re-reads the
 * source tags after its puts and makes the destination follow any tag that moved (see
 * promote-tags.ts), so the window bounds how often that repair is needed, not whether invariant 3
 * holds.
 */
import { MAX_BATCH_IMAGE_IDS } from './ecr.ts';
import type { RateLimiter } from './rate-limit.ts';

export const MAX_READ_TO_WRITE_MS = 250;

/**
 * How many writes one read may guard: the PutImage tokens of one window (`rate × 250 ms`, the
 * tokens being reserved together, see TokenBucket.reserve), at least one, at most what one
 * BatchGetImage can read.
 */
export function writesPerRead(limiter: RateLimiter): number {
  const perWindow = Math.floor((limiter.ratePerSecond * MAX_READ_TO_WRITE_MS) / 1000);
  return Math.max(1, Math.min(MAX_BATCH_IMAGE_IDS, perWindow));
}

/** A monotonic clock for the window (not the business clock: a compressed or fake clock must not stretch it). */
export const windowClock = (): number => performance.now();

/** The age of a read that started at `readAt`, in milliseconds. */
export const readAge = (readAt: number): number => windowClock() - readAt;
