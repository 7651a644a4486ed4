import { mulberry32 } from '../random.ts';
import { EcrError, serverError, throttling } from './errors.ts';

/** What a fault does to the call. `NetworkError` destroys the connection without any response. */
export type FaultError = 'ThrottlingException' | 'ServerException' | 'NetworkError' | EcrError;

export interface CallInfo {
  operation: string;
  region: string;
  account: string;
  repository?: string;
  input: Record<string, unknown>;
}

export interface FaultRule {
  /** Operation name(s) to match; all when absent. */
  operation?: string | string[];
  region?: string;
  account?: string;
  repository?: string;
  /** Any further condition on the call. */
  match?: (call: CallInfo) => boolean;
  /** Let this many matching calls through first ("fail after N successful calls"). Default 0. */
  after?: number;
  /** How many matching calls fail; default 1, Infinity for all. */
  times?: number;
  /** Default ThrottlingException. */
  error?: FaultError;
  /**
   * 'before' (default): the call fails before it has any effect. 'after': the operation takes effect,
   * then the response is replaced by the error (a lost response, for idempotency tests).
   */
  when?: 'before' | 'after';
  /** Delay the response by this many ms (with or without an error; `times` still counts). */
  delayMs?: number;
}

export interface FaultHandle {
  /** How many calls this rule has failed (or delayed) so far. */
  readonly hits: number;
  /** How many matching calls it has seen. */
  readonly seen: number;
  remove(): void;
}

interface ActiveRule {
  rule: FaultRule;
  hits: number;
  seen: number;
}

export interface FaultDecision {
  error?: FaultError;
  when: 'before' | 'after';
  delayMs: number;
  /** True when the random fault rate (not a scripted rule) chose this fault. */
  random: boolean;
}

export interface RandomFaultOptions {
  /** Share of calls in [0, 1] failing with ThrottlingException or ServerException (half each). */
  rate?: number;
  seed?: number;
  /** Restrict random faults to these operations (default: every operation). */
  operations?: string[];
}

/**
 * Fault injection: scripted rules (first matching rule wins) and a seeded random rate. A random draw
 * is made for every call (when the rate is > 0), so the faults depend only on the seed and the order
 * of calls.
 */
export class Faults {
  private readonly rules: ActiveRule[] = [];
  private random: () => number;
  private rate: number;
  private operations: Set<string> | undefined;

  constructor(options: RandomFaultOptions = {}) {
    this.rate = checkRate(options.rate ?? 0);
    this.random = mulberry32(options.seed ?? 0);
    this.operations = options.operations ? new Set(options.operations) : undefined;
  }

  /** Scripts a fault; returns a handle to inspect or remove it. */
  add(rule: FaultRule): FaultHandle {
    const active: ActiveRule = { rule, hits: 0, seen: 0 };
    this.rules.push(active);
    return {
      get hits() {
        return active.hits;
      },
      get seen() {
        return active.seen;
      },
      remove: () => {
        const index = this.rules.indexOf(active);
        if (index >= 0) this.rules.splice(index, 1);
      },
    };
  }

  /** Removes every scripted rule (the random rate stays). */
  clear(): void {
    this.rules.length = 0;
  }

  /** Sets the random fault rate and restarts the PRNG from `seed`. */
  setRandom(options: RandomFaultOptions): void {
    this.rate = checkRate(options.rate ?? 0);
    this.random = mulberry32(options.seed ?? 0);
    this.operations = options.operations ? new Set(options.operations) : undefined;
  }

  /** Decides the fate of one call. Called once per call, in arrival order. */
  decide(call: CallInfo): FaultDecision | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (!matches(rule, call)) continue;
      active.seen += 1;
      if (active.seen <= (rule.after ?? 0)) continue;
      if (active.hits >= (rule.times ?? 1)) continue;
      active.hits += 1;
      return {
        ...(rule.error !== undefined || rule.delayMs === undefined
          ? { error: rule.error ?? 'ThrottlingException' }
          : {}),
        when: rule.when ?? 'before',
        delayMs: rule.delayMs ?? 0,
        random: false,
      };
    }
    if (this.rate > 0 && (!this.operations || this.operations.has(call.operation))) {
      if (this.random() < this.rate) {
        return {
          error: this.random() < 0.5 ? 'ThrottlingException' : 'ServerException',
          when: 'before',
          delayMs: 0,
          random: true,
        };
      }
    }
    return undefined;
  }
}

function matches(rule: FaultRule, call: CallInfo): boolean {
  if (rule.operation !== undefined) {
    const operations = Array.isArray(rule.operation) ? rule.operation : [rule.operation];
    if (!operations.includes(call.operation)) return false;
  }
  if (rule.region !== undefined && rule.region !== call.region) return false;
  if (rule.account !== undefined && rule.account !== call.account) return false;
  if (rule.repository !== undefined && rule.repository !== call.repository) return false;
  return rule.match ? rule.match(call) : true;
}

function checkRate(rate: number): number {
  if (!(rate >= 0 && rate <= 1)) throw new Error(`faultRate must be between 0 and 1, got ${rate}`);
  return rate;
}

/** The error object a fault answers with (NetworkError has none: the socket is destroyed). */
export function faultToError(error: Exclude<FaultError, 'NetworkError'>, operation: string): EcrError {
  if (error instanceof EcrError) return error;
  return error === 'ThrottlingException' ? throttling(operation) : serverError();
}
