/**
 * The IAM decisions a part of the local world made, aggregated under a key its owner chooses (the
 * ECR emulator per registry, the local S3 per folder), so a long run (the bench) keeps a bounded log
 * while the least-privilege test can still tell which grants something used.
 */
export class AggregatedDecisionLog<D extends object> {
  private readonly byKey = new Map<string, D & { count: number }>();

  /** `keyOf` names the group a decision counts in; the first decision of a group stands for it. */
  constructor(private readonly keyOf: (decision: D) => string) {}

  record(decision: D): void {
    const key = this.keyOf(decision);
    const entry = this.byKey.get(key);
    if (entry) entry.count += 1;
    else this.byKey.set(key, { ...decision, count: 1 });
  }

  entries(): (D & { count: number })[] {
    return [...this.byKey.values()].map((entry) => ({ ...entry }));
  }

  clear(): void {
    this.byKey.clear();
  }
}
