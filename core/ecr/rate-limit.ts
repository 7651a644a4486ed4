/**
 * Client-side pacing of PutImage, so a batch spends the Region's quota on work instead of on
 * throttled calls. ECR allows 10 PutImage calls per second per Region by default
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html); each running Lambda
 * is given its share (PUT_IMAGE_RATE). Throttling retries stay the safety net, not the pacing.
 */

export interface LimiterTiming {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realTiming: LimiterTiming = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A token bucket: `ratePerSecond` tokens per second, at most `burst` saved up. `take()` reserves a
 * token and waits until it is due, so concurrent callers are served in call order at the set rate.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number = Math.max(1, Math.floor(ratePerSecond)),
    private readonly timing: LimiterTiming = realTiming,
  ) {
    if (!(ratePerSecond > 0)) throw new Error(`rate must be positive, got ${ratePerSecond}`);
    this.tokens = burst;
    this.updatedAt = timing.now();
  }

  /** Resolves when the caller may make one call. */
  async take(): Promise<void> {
    await (await this.reserve(1)).next();
  }

  /**
   * Reserves `count` consecutive tokens at once, so no other caller's token falls between them: the
   * k-th is due `k / rate` seconds after the first. Resolves when the first is due; each `next()`
   * then waits for the following one. A caller that reads right before its first write thereby knows
   * how long its reads stay in use (`(count - 1) / rate`), whatever else shares the bucket.
   */
  reserve(count: number): Promise<Reservation> {
    const now = this.timing.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond);
    this.updatedAt = now;
    const before = this.tokens;
    this.tokens -= count;
    // A negative balance is a queue of reservations: token k is due when the balance after it is paid back.
    const dueAt = (k: number) => now + (Math.max(0, k + 1 - before) / this.ratePerSecond) * 1000;
    let k = 0;
    const next = async () => {
      const wait = dueAt(Math.min(k, count - 1)) - this.timing.now();
      k += 1;
      if (wait > 0) await this.timing.sleep(wait);
    };
    return Promise.resolve({ next });
  }
}

/** Tokens reserved together (see TokenBucket.reserve): `next()` resolves when the next one is due. */
export interface Reservation {
  next(): Promise<void>;
}

/** The limiter a step uses; `undefined` rate (or Infinity) means unlimited. */
export interface RateLimiter {
  readonly ratePerSecond: number;
  take(): Promise<void>;
  /** `count` consecutive tokens; resolves when the first is due. */
  reserve(count: number): Promise<Reservation>;
}

const unlimited: RateLimiter = {
  ratePerSecond: Infinity,
  take: () => Promise.resolve(),
  reserve: () => Promise.resolve({ next: () => Promise.resolve() }),
};

// Module scope: a warm Lambda container keeps its buckets across invocations, as the quota does.
const putImageLimiters = new Map<string, TokenBucket>();

/**
 * The share of a second of rate the client may spend at once. ECR publishes its rates, not its
 * bucket's burst; the client assumes one second of rate and keeps a tenth of it unspent, because its
 * calls reach ECR jittered by the network: sent exactly on schedule against a bucket drained to
 * zero, every call that arrives a few milliseconds early is throttled, and each throttle costs the
 * SDK's throttling back-off (hundreds of milliseconds) on the call that was due. The reserve absorbs
 * that jitter for the price of a tenth of a second of rate, once.
 */
export const CLIENT_BURST_SHARE = 0.9;

/** The PutImage limiter of a Region, shared by every step in this process. */
export function putImageLimiter(region: string, ratePerSecond: number): RateLimiter {
  if (!Number.isFinite(ratePerSecond)) return unlimited;
  const key = `${region} ${ratePerSecond}`;
  let bucket = putImageLimiters.get(key);
  if (!bucket) {
    bucket = new TokenBucket(ratePerSecond, Math.max(1, Math.floor(ratePerSecond * CLIENT_BURST_SHARE)));
    putImageLimiters.set(key, bucket);
  }
  return bucket;
}
