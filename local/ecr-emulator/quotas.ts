/**
 * API rate quotas: one token bucket per (account, Region, operation), refilled continuously at the
 * operation's rate with a burst of one second of rate (at least one token), all scaled by `quotaScale`.
 *
 * Published defaults (per account per Region):
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html
 * AWS publishes no rate for the List/Describe calls, BatchDeleteImage or the replication and
 * repository management calls; users report low limits, so the emulator uses conservative values
 * (20/s, and 1/s for the registry-wide configuration calls) that a well-behaved client must survive.
 *
 * `quotaScale: Infinity` disables throttling entirely. A scale must be > 0.
 */
export const DEFAULT_RATES: Readonly<Record<string, number>> = {
  PutImage: 10,
  BatchGetImage: 2_000,
  BatchCheckLayerAvailability: 1_000,
  InitiateLayerUpload: 100,
  CompleteLayerUpload: 100,
  UploadLayerPart: 500,
  GetDownloadUrlForLayer: 3_000,
  GetAuthorizationToken: 500,
};

/** Rate for operations AWS publishes no quota for (unpublished: conservative). */
export const UNPUBLISHED_RATE = 20;
const REGISTRY_CONFIGURATION_RATE = 1;
const REGISTRY_CONFIGURATION_OPERATIONS = new Set([
  'PutReplicationConfiguration',
  'StartReplicationBackfill',
]);

export function defaultRate(operation: string): number {
  return (
    DEFAULT_RATES[operation] ??
    (REGISTRY_CONFIGURATION_OPERATIONS.has(operation) ? REGISTRY_CONFIGURATION_RATE : UNPUBLISHED_RATE)
  );
}

class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

export interface QuotaOptions {
  /** Multiplies every rate (and burst). Infinity disables throttling. Default 1. */
  scale?: number;
  /** Per-operation rates (calls per second, before scaling) replacing the defaults. */
  rates?: Record<string, number>;
  now?: () => number;
}

export class Quotas {
  private scaleValue: number;
  private readonly rates: Record<string, number>;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly now: () => number;

  constructor(options: QuotaOptions = {}) {
    this.scaleValue = checkScale(options.scale ?? 1);
    this.rates = { ...options.rates };
    this.now = options.now ?? Date.now;
  }

  get scale(): number {
    return this.scaleValue;
  }

  /** Effective rate (calls/s) for an operation after scaling. */
  rateOf(operation: string): number {
    return (this.rates[operation] ?? defaultRate(operation)) * this.scaleValue;
  }

  /** Consumes one token; false means the call is throttled. */
  tryAcquire(account: string, region: string, operation: string): boolean {
    if (this.scaleValue === Infinity) return true;
    const id = `${account}/${region}/${operation}`;
    let bucket = this.buckets.get(id);
    if (!bucket) {
      const rate = this.rateOf(operation);
      bucket = new TokenBucket(rate, Math.max(1, rate), this.now());
      this.buckets.set(id, bucket);
    }
    return bucket.take(this.now());
  }

  /** Changes the scale (and refills every bucket). */
  setScale(scale: number): void {
    this.scaleValue = checkScale(scale);
    this.buckets.clear();
  }

  /** Overrides one operation's rate (calls/s before scaling) and refills its buckets. */
  setRate(operation: string, rate: number): void {
    if (!(rate > 0)) throw new Error(`quota rate for ${operation} must be > 0`);
    this.rates[operation] = rate;
    this.buckets.clear();
  }

  /** Refills every bucket. */
  reset(): void {
    this.buckets.clear();
  }
}

function checkScale(scale: number): number {
  if (!(scale > 0)) throw new Error(`quotaScale must be > 0 (Infinity disables quotas), got ${scale}`);
  return scale;
}
