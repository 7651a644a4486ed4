/**
 * Bounded read-ahead: reads the next few items concurrently while the current one is consumed, and
 * hands the results over strictly in the items' order. A step that reads one ECR resource per item
 * (PlanSlice: DescribeImages pages per repository and destination; CheckReplication: one
 * DescribeImageReplicationStatus per digest, as ECR's API is) would otherwise spend its time waiting
 * on latency, one round trip after the other; its output must stay deterministic (PlanSlice is
 * idempotent: a rerun writes the same items file), so the reads overlap and the writes do not.
 */

/**
 * Calls `read` for every item, at most `window` of them started and not yet consumed at any time,
 * and `consume` for each result in the items' order, one at a time. At most `window` results are
 * held at once (the one being consumed included), which bounds memory by the window, not by the
 * number of items.
 *
 * Errors keep the order too: the failure reported is that of the first item in order whose read or
 * consume fails; every item before it has been consumed, none after it. Reads still running then are
 * aborted through their signal (a read stops at its next call) and awaited, so no call outlives the
 * failure: a step that has failed sends nothing more.
 */
export async function readAheadInOrder<T, R>(
  items: readonly T[],
  window: number,
  read: (item: T, signal: AbortSignal) => Promise<R>,
  consume: (result: R, item: T) => void | Promise<void>,
): Promise<void> {
  if (!Number.isInteger(window) || window < 1) {
    throw new RangeError(`read-ahead window must be an integer >= 1, got ${String(window)}`);
  }
  const abort = new AbortController();
  // Reads started and not yet consumed, in item order.
  const pending: Promise<R>[] = [];
  let nextIndex = 0;
  const startNext = () => {
    if (nextIndex >= items.length) return;
    const reading = read(items[nextIndex] as T, abort.signal);
    nextIndex += 1;
    // A read that fails while an earlier item is pending is reported in its turn (or never, if an
    // earlier item fails first): not an unhandled rejection meanwhile.
    reading.catch(() => undefined);
    pending.push(reading);
  };

  while (pending.length < window && nextIndex < items.length) startNext();
  try {
    for (const item of items) {
      const result = await (pending.shift() as Promise<R>);
      await consume(result, item);
      startNext();
    }
  } catch (error) {
    abort.abort();
    await Promise.allSettled(pending);
    throw error;
  }
}

/** A read's outcome kept for its turn: what it returned, or what it failed with. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Keeps a read's failure for its turn instead of failing the read-ahead: for a step that records
 * errors per item and goes on with the others (its `consume` rethrows `error` where it records it).
 */
export function settle<R>(read: Promise<R>): Promise<Settled<R>> {
  return read.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/**
 * Runs every task concurrently and resolves with their results in order, once all have settled. A
 * failure is reported after the others have finished (none keeps calling on its own) and, when
 * several fail, it is the first in order, as reading them one after the other would have reported.
 */
export async function allInOrder<R>(tasks: readonly Promise<R>[]): Promise<R[]> {
  const settled = await Promise.allSettled(tasks);
  const failed = settled.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<R>).value);
}
