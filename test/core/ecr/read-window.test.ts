import { describe, expect, it } from 'vitest';
import { MAX_READ_TO_WRITE_MS, WindowSizer } from '../../../core/ecr/read-window.ts';
import { TokenBucket } from '../../../core/ecr/rate-limit.ts';

describe('WindowSizer', () => {
  it('starts small, then guards as many writes as fit in the window at the measured write latency', () => {
    // Prepare: a fast PutImage share (1,000/s), so the write latency is what limits the window.
    const sizer = new WindowSizer(new TokenBucket(1000));

    // Act
    const first = sizer.next(500);
    for (let i = 0; i < 20; i += 1) sizer.recordWrite(50);
    const measured = sizer.next(500);

    // Assess: 1 s / 50 ms = 20 writes per read.
    expect(first).toBe(10);
    expect(measured).toBe(MAX_READ_TO_WRITE_MS / 50);
  });

  it('never plans more writes than the rate allows in the window, nor more than one read can cover', () => {
    // Prepare
    const slow = new WindowSizer(new TokenBucket(2));
    const unlimited = new WindowSizer({
      ratePerSecond: Infinity,
      take: () => Promise.resolve(),
      reserve: () => Promise.resolve({ next: () => Promise.resolve() }),
    });
    for (let i = 0; i < 20; i += 1) unlimited.recordWrite(1);

    // Act / Assess: 2/s × 1 s = 2; BatchGetImage takes 100 ids; never more than what is left; at least one.
    expect(slow.next(50)).toBe(2);
    expect(unlimited.next(500)).toBe(100);
    expect(unlimited.next(3)).toBe(3);
    expect(new WindowSizer(new TokenBucket(0.5)).next(10)).toBe(1);
  });

  it('sizes a pipelined writer by its pace, the write latency divided among the writes in flight', () => {
    // Prepare: the same fast share, 8 writes kept in flight, 50 ms per write.
    const sizer = new WindowSizer(new TokenBucket(1000), 8);

    // Act
    const first = sizer.next(500);
    for (let i = 0; i < 20; i += 1) sizer.recordWrite(50);
    const measured = sizer.next(500);
    const byRate = new WindowSizer(new TokenBucket(30), 8);
    byRate.recordWrite(50);

    // Assess: 8 × 10 before any write is timed; 8 × 1 s / 50 ms = 160 writes, capped at one read's 100
    // ids; a slower rate (30/s) still bounds the window, pipelined or not.
    expect(first).toBe(80);
    expect(measured).toBe(100);
    expect(byRate.next(500)).toBe(30);
  });
});
