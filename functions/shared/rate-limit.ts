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
    const now = this.timing.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond);
    this.updatedAt = now;
    this.tokens -= 1;
    if (this.tokens >= 0) return;
    // A negative balance is a queue of reservations: this caller's turn comes when it is paid back.
    await this.timing.sleep((-this.tokens / this.ratePerSecond) * 1000);
  }
}

/** The limiter a step uses; `undefined` rate (or Infinity) means unlimited. */
export interface RateLimiter {
  take(): Promise<void>;
}

const unlimited: RateLimiter = { take: () => Promise.resolve() };

// Module scope: a warm Lambda container keeps its buckets across invocations, as the quota does.
const putImageLimiters = new Map<string, TokenBucket>();

/** The PutImage limiter of a Region, shared by every step in this process. */
export function putImageLimiter(region: string, ratePerSecond: number): RateLimiter {
  if (!Number.isFinite(ratePerSecond)) return unlimited;
  const key = `${region} ${ratePerSecond}`;
  let bucket = putImageLimiters.get(key);
  if (!bucket) {
    bucket = new TokenBucket(ratePerSecond);
    putImageLimiters.set(key, bucket);
  }
  return bucket;
}
