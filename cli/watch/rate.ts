/**
 * Throughput and ETA from successive (time, finished) samples over a sliding window: recent enough
 * to follow a change of pace (throttling, a redrive), long enough not to jump with every poll.
 */
export class RateEstimator {
  private samples: { at: number; done: number }[] = [];

  constructor(private readonly windowMs = 5 * 60_000) {}

  /** Records a sample; a drop in `done` (a new map run, a redrive) starts the estimate over. */
  add(at: number, done: number): void {
    const last = this.samples.at(-1);
    if (last && done < last.done) this.samples = [];
    this.samples.push({ at, done });
    const horizon = at - this.windowMs;
    // Keep one sample at or before the horizon so the window always spans windowMs once it can.
    while (this.samples.length > 2 && (this.samples[1]?.at ?? at) <= horizon) this.samples.shift();
  }

  /** Finished items per second, or undefined until there is progress over some time. */
  ratePerSecond(): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at <= first.at || last.done <= first.done) return undefined;
    return ((last.done - first.done) * 1000) / (last.at - first.at);
  }

  etaSeconds(total: number): number | undefined {
    const rate = this.ratePerSecond();
    const last = this.samples.at(-1);
    if (rate === undefined || !last) return undefined;
    return Math.max(0, total - last.done) / rate;
  }
}
