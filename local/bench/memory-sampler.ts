/**
 * Samples this process's memory while something runs. Two figures:
 * - raw peaks of `heapUsed` and `rss` (what a Lambda's memory limit would see, garbage included);
 * - the peak *retained* heap: `heapUsed` right after a forced full GC, sampled at a coarser
 *   interval, i.e. what the code actually holds on to. That is the figure that must not grow with
 *   the registry (a planner holding every image would show it; garbage would not).
 * `heapUsed` is this thread's V8 heap only, so an emulator in a child process does not count.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let forcedGc: (() => void) | undefined;

/** V8's gc(), exposed at run time (the process need not start with --expose-gc). */
function gc(): () => void {
  if (!forcedGc) {
    setFlagsFromString('--expose-gc');
    forcedGc = runInNewContext('gc') as () => void;
  }
  return forcedGc;
}

export interface MemoryReport {
  /** Retained heap before the measured work started. */
  baselineHeapBytes: number;
  peakHeapBytes: number;
  peakRetainedHeapBytes: number;
  peakRssBytes: number;
  samples: number;
}

export interface MemorySampler {
  stop(): MemoryReport;
}

export function retainedHeapBytes(): number {
  gc()();
  return process.memoryUsage().heapUsed;
}

export function startMemorySampler(
  options: { intervalMs?: number; retainedEveryMs?: number } = {},
): MemorySampler {
  const baselineHeapBytes = retainedHeapBytes();
  const report: MemoryReport = {
    baselineHeapBytes,
    peakHeapBytes: baselineHeapBytes,
    peakRetainedHeapBytes: baselineHeapBytes,
    peakRssBytes: process.memoryUsage().rss,
    samples: 0,
  };
  const sample = () => {
    const usage = process.memoryUsage();
    report.peakHeapBytes = Math.max(report.peakHeapBytes, usage.heapUsed);
    report.peakRssBytes = Math.max(report.peakRssBytes, usage.rss);
    report.samples += 1;
  };
  const raw = setInterval(sample, options.intervalMs ?? 20);
  const retained = setInterval(() => {
    report.peakRetainedHeapBytes = Math.max(report.peakRetainedHeapBytes, retainedHeapBytes());
  }, options.retainedEveryMs ?? 250);
  return {
    stop() {
      clearInterval(raw);
      clearInterval(retained);
      sample();
      return { ...report };
    },
  };
}
