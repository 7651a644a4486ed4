/** Bounded read-ahead: overlap up to the window, results in order, failures in order, nothing left running. */
import { describe, expect, it } from 'vitest';
import { allInOrder, readAheadInOrder, settle } from '../../../core/ecr/read-ahead.ts';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every already-settled promise's continuations run. */
const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Reads the test settles by hand, recording which started, which are unconsumed, and their signals. */
function controlledReads(items: readonly string[]) {
  const reads = new Map(items.map((item) => [item, deferred<string>()]));
  const signals = new Map<string, AbortSignal>();
  const started: string[] = [];
  const consumed: string[] = [];
  let maxUnconsumed = 0;
  return {
    started,
    consumed,
    signals,
    get maxUnconsumed() {
      return maxUnconsumed;
    },
    settle(item: string, outcome: 'ok' | Error = 'ok') {
      const read = reads.get(item);
      if (outcome === 'ok') read?.resolve(`read ${item}`);
      else read?.reject(outcome);
    },
    read: (item: string, signal: AbortSignal) => {
      started.push(item);
      signals.set(item, signal);
      maxUnconsumed = Math.max(maxUnconsumed, started.length - consumed.length);
      return reads.get(item)?.promise ?? Promise.reject(new Error(`no read for ${item}`));
    },
    consume: (result: string, item: string) => {
      expect(result).toBe(`read ${item}`);
      consumed.push(item);
      return Promise.resolve();
    },
  };
}

describe('readAheadInOrder', () => {
  it('reads up to the window at once and consumes in item order, whatever order the reads finish in', async () => {
    const items = ['a', 'b', 'c', 'd', 'e'];
    const reads = controlledReads(items);

    const run = readAheadInOrder(items, 3, reads.read, reads.consume);
    await drain();
    expect(reads.started).toEqual(['a', 'b', 'c']);

    // The later reads finish first: nothing is consumed before 'a', and no further read starts.
    reads.settle('c');
    reads.settle('b');
    await drain();
    expect(reads.consumed).toEqual([]);
    expect(reads.started).toEqual(['a', 'b', 'c']);

    reads.settle('a');
    await drain();
    expect(reads.consumed).toEqual(['a', 'b', 'c']);
    expect(reads.started).toEqual(items);

    reads.settle('e');
    reads.settle('d');
    await run;
    expect(reads.consumed).toEqual(items);
    expect(reads.maxUnconsumed).toBe(3);
  });

  it('holds at most the window of results: a read starts only once an earlier result is consumed', async () => {
    const items = ['a', 'b', 'c'];
    const reads = controlledReads(items);
    const consuming = deferred<void>();
    const consumed: string[] = [];

    const run = readAheadInOrder(items, 2, reads.read, async (_result, item) => {
      consumed.push(item);
      if (item === 'a') await consuming.promise;
    });
    reads.settle('a');
    reads.settle('b');
    await drain();
    // 'a' is being consumed and 'b' is read: the window is full, 'c' waits.
    expect(consumed).toEqual(['a']);
    expect(reads.started).toEqual(['a', 'b']);

    consuming.resolve();
    await drain();
    expect(reads.started).toEqual(items);
    reads.settle('c');
    await run;
    expect(consumed).toEqual(items);
  });

  it('reports the first failure in item order, after consuming every item before it and none after', async () => {
    const items = ['a', 'b', 'c', 'd'];
    const reads = controlledReads(items);

    const run = readAheadInOrder(items, 4, reads.read, reads.consume);
    const outcome = run.catch((error: unknown) => error);
    // 'd' fails first in time, 'b' fails later but comes first in order.
    reads.settle('d', new Error('d failed'));
    reads.settle('c');
    await drain();
    reads.settle('b', new Error('b failed'));
    reads.settle('a');

    expect(((await outcome) as Error).message).toBe('b failed');
    expect(reads.consumed).toEqual(['a']);
  });

  it('aborts the reads still running after a failure and settles them before rejecting', async () => {
    const items = ['a', 'b', 'c'];
    const reads = controlledReads(items);
    let rejected = false;

    const run = readAheadInOrder(items, 3, reads.read, reads.consume).catch((error: unknown) => {
      rejected = true;
      return error;
    });
    reads.settle('a', new Error('a failed'));
    await drain();

    // 'b' and 'c' are told to stop, and the failure waits until they have.
    expect(reads.signals.get('b')?.aborted).toBe(true);
    expect(reads.signals.get('c')?.aborted).toBe(true);
    expect(rejected).toBe(false);
    reads.settle('b');
    await drain();
    expect(rejected).toBe(false);
    reads.settle('c', new Error('aborted'));

    expect(((await run) as Error).message).toBe('a failed');
    expect(reads.consumed).toEqual([]);
  });

  it('fails with the error of consume, without reading further', async () => {
    const items = ['a', 'b', 'c'];
    const reads = controlledReads(items);
    for (const item of items) reads.settle(item);

    const error = await readAheadInOrder(items, 1, reads.read, (_result, item) =>
      item === 'b' ? Promise.reject(new Error('write failed')) : Promise.resolve(),
    ).catch((e: unknown) => e);

    expect((error as Error).message).toBe('write failed');
    expect(reads.started).toEqual(['a', 'b']);
  });

  it('rejects a window that is not a positive integer', async () => {
    for (const window of [0, -1, 1.5, Number.NaN]) {
      await expect(
        readAheadInOrder(
          ['a'],
          window,
          () => Promise.resolve(1),
          () => Promise.resolve(),
        ),
      ).rejects.toThrow(/window must be an integer >= 1/);
    }
  });
});

describe('allInOrder', () => {
  it('resolves with every result in order', async () => {
    const first = deferred<number>();
    const all = allInOrder([first.promise, Promise.resolve(2)]);
    first.resolve(1);
    expect(await all).toEqual([1, 2]);
  });

  it('reports the first failure in order, once every task has settled', async () => {
    const slow = deferred<number>();
    let rejected = false;
    const all = allInOrder([Promise.resolve(1), slow.promise, Promise.reject(new Error('third'))]).catch(
      (error: unknown) => {
        rejected = true;
        return error;
      },
    );
    await drain();
    expect(rejected).toBe(false);

    slow.reject(new Error('second'));
    expect(((await all) as Error).message).toBe('second');
  });
});

describe('settle', () => {
  it('keeps a failed read for its turn: the items after it are still read and consumed', async () => {
    // Prepare
    const consumed: string[] = [];

    // Act
    await readAheadInOrder(
      [1, 2, 3],
      2,
      (n) => settle(n === 2 ? Promise.reject(new Error('two')) : Promise.resolve(n * 10)),
      (read, n) => {
        consumed.push(read.ok ? `${n}:${read.value}` : `${n}:${(read.error as Error).message}`);
      },
    );

    // Assess
    expect(consumed).toEqual(['1:10', '2:two', '3:30']);
  });
});
