import { describe, expect, it } from 'vitest';
import {
  CLIENT_BURST_SHARE,
  putImageLimiter,
  TokenBucket,
  type LimiterTiming,
} from '../../../core/ecr/rate-limit.ts';

/** Virtual time: sleeping advances the clock, so pacing is measured without waiting. */
class VirtualTiming implements LimiterTiming {
  time = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    return Promise.resolve();
  }
}

describe('TokenBucket', () => {
  it('lets a burst through, then paces calls at the rate', async () => {
    // Prepare
    const timing = new VirtualTiming();
    const bucket = new TokenBucket(10, 10, timing);

    // Act
    for (let i = 0; i < 15; i += 1) await bucket.take();

    // Assess: 10 free, then the 11th..15th wait 100, 200, …, 500 ms for their reserved tokens.
    expect(timing.sleeps.map(Math.round)).toEqual([100, 200, 300, 400, 500]);
  });

  it('serves concurrent callers in call order at the rate', async () => {
    // Prepare
    const timing = new VirtualTiming();
    const bucket = new TokenBucket(2, 1, timing);

    // Act
    await Promise.all([bucket.take(), bucket.take(), bucket.take()]);

    // Assess
    expect(timing.sleeps.map(Math.round)).toEqual([500, 1000]);
  });

  it('refills with time', async () => {
    // Prepare
    const timing = new VirtualTiming();
    const bucket = new TokenBucket(10, 1, timing);
    await bucket.take();

    // Act
    timing.time += 100;
    await bucket.take();

    // Assess
    expect(timing.sleeps).toEqual([]);
  });

  it('reserves consecutive tokens: no other caller gets one between them', async () => {
    // Prepare: an empty bucket at 10/s, and another caller queued right after the reservation.
    const timing = new VirtualTiming();
    const bucket = new TokenBucket(10, 1, timing);
    await bucket.take();

    // Act
    const reservation = await bucket.reserve(3);
    const other = bucket.take();
    await other;
    const otherWaited = timing.sleeps.map(Math.round);
    await reservation.next();
    await reservation.next();
    await reservation.next();

    // Assess: the reservation's tokens are due at 100, 200, 300 ms; the other caller's only at 400 ms.
    expect(otherWaited).toEqual([400]);
    expect(timing.sleeps.map(Math.round).slice(1)).toEqual([100, 200, 300]);
  });

  it('rejects a rate that is not positive', () => {
    expect(() => new TokenBucket(0)).toThrow(/positive/);
  });
});

describe('putImageLimiter', () => {
  it('shares one bucket per Region and rate across steps', () => {
    expect(putImageLimiter('ap-south-1', 5)).toBe(putImageLimiter('ap-south-1', 5));
    expect(putImageLimiter('ap-south-1', 5)).not.toBe(putImageLimiter('us-west-2', 5));
  });

  it('does not limit an infinite rate', async () => {
    const limiter = putImageLimiter('ap-south-1', Number.POSITIVE_INFINITY);
    const started = performance.now();
    for (let i = 0; i < 1000; i += 1) await limiter.take();
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('keeps a tenth of a second of rate unspent, so network jitter does not meet an empty ECR bucket', () => {
    // Prepare: a rate no other test uses, so the bucket is fresh (module scope).
    const limiter = putImageLimiter('eu-north-1', 200) as TokenBucket;

    // Assess: a burst of 180 of the 200 a second of rate would allow; never below one token.
    expect(CLIENT_BURST_SHARE).toBe(0.9);
    expect(limiter.burst).toBe(180);
    expect((putImageLimiter('eu-north-1', 1) as TokenBucket).burst).toBe(1);
  });
});
