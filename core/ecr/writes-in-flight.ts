/**
 * Pipelined writes: a paced step sends each PutImage when its token is due (rate-limit.ts), without
 * waiting for the previous one's answer. Sent one after the other, an invocation could make at most
 * one put per call latency (40/s at 25 ms, 10/s at 100 ms) whatever its share of the quota; in flight
 * together, the share is what binds.
 */

/**
 * Writes an invocation may have outstanding in one repository. Each is still sent only when its
 * PutImage token is due, so this bounds sockets and memory, not the rate.
 */
export const MAX_WRITES_IN_FLIGHT = 8;

/**
 * Writes sent but not answered yet. `send` waits while `limit` are outstanding; the first failure is
 * kept and rethrown by the next `send` or `drain` (after every outstanding write has settled), so the
 * caller stops as it did when writes were sequential. A caller that handles its errors per write
 * catches them inside the write it sends.
 */
export class WritesInFlight {
  private readonly pending = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit: number = MAX_WRITES_IN_FLIGHT) {}

  /**
   * Resolves once a write may go out (fewer than `limit` outstanding); rethrows a failure as `send`
   * does. A caller whose write relies on a read checks that read's age *after* this, so the check is
   * made when the write leaves, not before it waits for a slot (read-window.ts): the next `send`
   * then goes out without waiting, as long as nothing else is sent in between.
   */
  async ready(): Promise<void> {
    while (this.pending.size >= this.limit) await Promise.race(this.pending);
    if (this.failure) await this.drain();
  }

  async send(write: () => Promise<void>): Promise<void> {
    await this.ready();
    const running: Promise<void> = write()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.pending.delete(running));
    this.pending.add(running);
  }

  /** Resolves once every write sent has settled; rethrows the first failure. */
  async drain(): Promise<void> {
    await Promise.all(this.pending);
    if (this.failure) throw this.failure.error;
  }
}
