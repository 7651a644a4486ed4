/**
 * The Lambda invocation a piece of handler code runs in, carried by AsyncLocalStorage so that SDK
 * middleware (crash points) can tell which invocation an ECR or S3 call belongs to, even with many
 * invocations in flight at once.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface Invocation {
  /** The Task state that invoked the function. */
  readonly stateName: string;
  readonly requestId: string;
  /** Calls counted toward a crash point so far (ECR calls, for the backfill). */
  sideEffectCalls: number;
  /** When set, the invocation dies once this many counted calls have returned (or at its end). */
  readonly crashAfterCalls: number | undefined;
  /** True once the invocation has crashed: its code is frozen, nothing it sends goes out. */
  readonly dead: boolean;
  /** Kills the invocation now: its caller gets `Lambda.Unknown`, its code never resumes. */
  die(reason: string): void;
}

const storage = new AsyncLocalStorage<Invocation>();

export function runInInvocation<T>(invocation: Invocation, fn: () => Promise<T>): Promise<T> {
  return storage.run(invocation, fn);
}

export function currentInvocation(): Invocation | undefined {
  return storage.getStore();
}

/** A promise that never settles: how a crashed process's pending call looks from its own code. */
export function frozen<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}
