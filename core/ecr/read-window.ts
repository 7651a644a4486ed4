/**
 * How stale a check may be when the write it guards goes out (docs/architecture.md §3.2, invariant 3).
 *
 * ECR has no conditional put, so a step reads (where does the source tag point? what is in the
 * destination?) and then writes. Reading once per write costs two BatchGetImage per tag; reading a
 * window of writes at once costs two per window, and is just as safe as long as the read is younger
 * than MAX_READ_TO_WRITE_MS when each write of the window is sent. The steps measure that age right
 * before every write, once it has its token and a write slot (writes-in-flight.ts: WritesInFlight.ready),
 * and re-read what is left of the window when it is exceeded, so the bound holds whatever the quota
 * share, the call latency, a full pipeline or a throttling retry did to the timing.
 *
 * Why 1 s is safe. A newer push to a source tag that lands inside the window is missed by the read,
 * and our destination put (the older digest) can then land after it. The newer push still wins when
 * *its* replication reaches the destination after our put: replication is an asynchronous
 * cross-Region copy that ECR starts after the push completes, documented in minutes ("the majority
 * of images replicate in less than 30 minutes",
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html). For the case where it is
 * faster anyway, PromoteTags re-reads the source tags after its puts and makes the destination
 * follow any tag that moved (see promote-tags.ts), so invariant 3 does not rest on replication being
 * slower than the window. What the window does bound is the one race no read-then-write can close
 * without a conditional put: someone else writing the same destination tag between our read and our
 * put (invariant 6). That window was one call (tens of ms) when every put had its own reads; it is
 * now at most 1 s, a deliberate trade for two reads per window instead of two per tag.
 */
import { MAX_BATCH_IMAGE_IDS } from './ecr.ts';
import type { RateLimiter } from './rate-limit.ts';

export const MAX_READ_TO_WRITE_MS = 1000;

/** The first window of an invocation, per write in flight, before any write has been timed. */
const FIRST_WINDOW = 10;

/**
 * How many writes the next read should guard: as many as fit in MAX_READ_TO_WRITE_MS at this
 * invocation's PutImage rate **and** at the pace its writes can go out (a window longer than that
 * would be re-read before its end, and each read returns a manifest per tag), at least one, at most
 * what one BatchGetImage reads. The window's tokens are reserved together (TokenBucket.reserve).
 *
 * The pace is the measured write latency divided among the writes kept in flight
 * (writes-in-flight.ts): 8 pipelined puts at 25 ms each go out at up to 320/s, not 40/s. Sizing a
 * pipelined writer's window by one write's latency would cut its reservations into small pieces,
 * and concurrent invocations sharing one limiter would then interleave their windows token by
 * token: every batch would finish its pushes together, at the end, instead of one after the other.
 * The size never weakens the bound: every write still checks its read's age and re-reads when older.
 */
export class WindowSizer {
  private writeMs = 0;

  constructor(
    private readonly limiter: RateLimiter,
    /** Writes the caller keeps in flight at once (1: each write waits for the previous answer). */
    private readonly writesInFlight: number = 1,
  ) {}

  next(remaining: number): number {
    const byRate = Math.floor((this.limiter.ratePerSecond * MAX_READ_TO_WRITE_MS) / 1000);
    const byPace =
      this.writeMs > 0
        ? Math.floor((MAX_READ_TO_WRITE_MS * this.writesInFlight) / this.writeMs)
        : FIRST_WINDOW * this.writesInFlight;
    return Math.max(1, Math.min(byRate, byPace, MAX_BATCH_IMAGE_IDS, remaining));
  }

  /** Records how long one write took (an exponential moving average, so one slow call does not rule). */
  recordWrite(ms: number): void {
    this.writeMs = this.writeMs === 0 ? ms : 0.7 * this.writeMs + 0.3 * ms;
  }
}

/** A monotonic clock for the window (not the business clock: a compressed or fake clock must not stretch it). */
export const windowClock = (): number => performance.now();

/** The age of a read that started at `readAt`, in milliseconds. */
export const readAge = (readAt: number): number => windowClock() - readAt;
