import { mulberry32 } from '../random.ts';

/**
 * Per-call service latency. Real ECR API calls take tens of milliseconds (network round trip plus
 * service time), so per-call costs that dominate in AWS (a Lambda's duration, a step's time) stay
 * invisible against an emulator that answers in 0 ms. AWS publishes no latency figure for ECR's API;
 * the default is 0 (unit tests), and the bench and the latency workflow tests assume 25 ms, a
 * typical in-Region round trip, stated as an assumption in local/ecr-emulator/README.md and
 * docs/benchmarks.md.
 *
 * Each call waits `meanMs × (1 + jitter × (2u − 1))` with `u` uniform in [0, 1) from a seeded
 * mulberry32 stream of its own, so latencies are reproducible for a seed and do not shift the random
 * fault sequence (which draws from another stream).
 */
export interface ApiLatencyOptions {
  /** Mean delay per call, in ms. Default 0 (no delay). */
  meanMs?: number;
  /** Half-width of the uniform jitter as a share of the mean, in [0, 1]. Default 0.5 (±50 %). */
  jitter?: number;
  seed?: number;
}

export const DEFAULT_API_LATENCY_JITTER = 0.5;
/** Keeps the latency stream apart from the fault stream when both use the emulator's seed. */
const LATENCY_STREAM = 0x4c41_5459;

export class ApiLatency {
  readonly meanMs: number;
  readonly jitter: number;
  private readonly random: () => number;

  constructor(options: ApiLatencyOptions = {}) {
    const meanMs = options.meanMs ?? 0;
    const jitter = options.jitter ?? DEFAULT_API_LATENCY_JITTER;
    if (!(meanMs >= 0) || !Number.isFinite(meanMs)) {
      throw new RangeError(`apiLatencyMs must be a finite number >= 0, got ${String(options.meanMs)}`);
    }
    if (!(jitter >= 0 && jitter <= 1)) {
      throw new RangeError(`apiLatencyJitter must be within [0, 1], got ${String(options.jitter)}`);
    }
    this.meanMs = meanMs;
    this.jitter = jitter;
    this.random = mulberry32((options.seed ?? 0) ^ LATENCY_STREAM);
  }

  /** The delay of the next call, in ms (0 without a latency: no draw is made then). */
  next(): number {
    if (this.meanMs === 0) return 0;
    return this.meanMs * (1 + this.jitter * (2 * this.random() - 1));
  }
}
