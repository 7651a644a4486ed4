/**
 * How many items a batch of this run holds. `batchSize` is the most a batch holds; a run with fewer
 * than `batchSize × maxConcurrency` items is cut into `maxConcurrency` smaller batches instead of a
 * few full ones, because the run's speed comes from its batches running at once:
 * - deployed, every paced invocation spends only its share of the PutImage quota
 *   (`putImageRatePerSecond / concurrentPushers`, docs/architecture.md §3.1), so a 100-image
 *   registry in two batches of 50 would use two shares of ten, a fifth of the quota;
 * - a batch promotes nothing before all its temp tags are pushed and replicated, so the larger the
 *   first batches, the later the first destination put.
 * The cost is bounded: a batch costs ~8 state transitions whatever its size, so a small run pays at
 * most `maxConcurrency × 8` transitions more; a large run (more items than `batchSize ×
 * maxConcurrency`) keeps full batches.
 */
export function batchSizeForRun(items: number, batchSize: number, maxConcurrency: number): number {
  if (items <= 0) return batchSize;
  return Math.min(batchSize, Math.max(1, Math.ceil(items / Math.max(1, maxConcurrency))));
}
