/**
 * `ecr-backfill bench`: generates a registry in the ECR emulator and runs the strategies side by side
 * under the same quotas and replication latency — `promote` and `retag-source` through the local
 * runner (the synthesized state machine with the real Lambda code), and the classic single-loop
 * trick as a baseline — then plans a large registry. Prints a table per topic (or `--json` with every
 * figure, or `--markdown` for docs/benchmarks.md) and how each target fared. A performance target
 * missed still exits 0 (the bench measures); a correctness check failed (a safety invariant broken,
 * a source referrer missing in a destination) exits 1: the figures of a wrong run mean nothing.
 */
import { InvalidArgumentError, type Command } from 'commander';
import {
  BENCH_DEFAULTS,
  BENCH_STRATEGIES,
  DEFAULT_STRATEGIES,
  runBench,
  type BenchResult,
  type StrategyFigures,
} from '../../bench/run-bench.ts';
import type { BenchStrategy } from '../../bench/expected-work.ts';
import { isLambdaStepName, stepOf } from 'ecr-backfill/core';
import { runCommand, writeJson } from 'ecr-backfill/cli';
import type { CliContext } from 'ecr-backfill/cli';
import { renderMarkdownTable, renderTable, type Cell } from 'ecr-backfill/cli';

interface BenchCliOptions {
  json?: boolean;
  markdown?: boolean;
  seed: number;
  repos: number;
  images: number;
  tagsPerImage: number;
  destinations: number;
  conflictShare?: number;
  signedShare: number;
  sbomShare: number;
  quotaScale: number;
  replicationLatencyMs: number;
  apiLatencyMs: number;
  strategies: BenchStrategy[];
  plannerImages: number;
  plannerRepos: number;
  batchSize?: number;
  maxConcurrency?: number;
  timeScale?: number;
}

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer between ${min} and ${max}.`);
    }
    return n;
  };
}

/**
 * `--quota-scale`: a finite multiplier. A bench at infinite quota measures nothing (its quota bound
 * and the throughput judged against it would be infinite), so `inf` is refused by name.
 */
function quotaScale(value: string): number {
  if (/^\s*[+]?(inf|infinity)\s*$/i.test(value)) {
    throw new InvalidArgumentError(
      'a bench at infinite quota is meaningless (it measures throughput against the quota); give a finite number > 0, e.g. 20.',
    );
  }
  return positive(value);
}

function positive(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0) || !Number.isFinite(n))
    throw new InvalidArgumentError('expected a number > 0.');
  return n;
}

function share(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1))
    throw new InvalidArgumentError('expected a number between 0 and 1.');
  return n;
}

function strategyList(value: string): BenchStrategy[] {
  // `none`: only the planner-scale run.
  if (value.trim() === 'none') return [];
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(BENCH_STRATEGIES as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(
      `expected none or a comma-separated list of ${BENCH_STRATEGIES.join(', ')}.`,
    );
  }
  return [...new Set(names)] as BenchStrategy[];
}

export function registerBenchCommand(program: Command): void {
  const d = BENCH_DEFAULTS;
  program
    .command('bench')
    .description(
      'Benchmark the strategies side by side on a generated registry in the ECR emulator (same quotas and replication latency), against the quota lower bound and the classic single-loop trick; then plan a large registry.',
    )
    .option('--json', 'print every figure as one JSON document')
    .option('--markdown', 'print Markdown tables (docs/benchmarks.md)')
    .option('--seed <n>', 'seed of the generated registry', integer(0), d.seed)
    .option(
      '--repos <n>',
      'repositories (about one in six is outside the replication rules)',
      integer(1, 10_000),
      d.repositories,
    )
    .option('--images <n>', 'images per repository', integer(1, 100_000), d.imagesPerRepository)
    .option('--tags-per-image <n>', 'average tags per image', integer(1, 5), d.tagsPerImage)
    .option(
      '--destinations <n>',
      'replication destinations (Regions; every second one in another account)',
      integer(1, 8),
      d.destinations,
    )
    .option(
      '--conflict-share <x>',
      'share of covered images with a tag on another digest in a destination (default 0.03; the native engine refuses to run with any)',
      share,
    )
    .option(
      '--signed-share <x>',
      'share of images with a signature (an untagged OCI 1.1 referrer: Notation or Cosign)',
      share,
      d.signedShare,
    )
    .option(
      '--sbom-share <x>',
      'share of images with an SBOM referrer (an SBOM is itself signed as often as an image)',
      share,
      d.sbomShare,
    )
    .option(
      '--quota-scale <x>',
      'multiplies ECR’s API quotas (PutImage 10/s → 10·x/s); finite (inf is for the emulator command)',
      quotaScale,
      d.quotaScale,
    )
    .option(
      '--replication-latency-ms <n>',
      'emulated replication latency',
      integer(0, 600_000),
      d.replicationLatencyMs,
    )
    .option(
      '--api-latency-ms <n>',
      'mean delay of every emulated ECR API call (±50 % seeded jitter; assumed 25 ms in AWS)',
      integer(0, 60_000),
      d.apiLatencyMs,
    )
    .option(
      '--strategies <list>',
      `strategies to run, of ${BENCH_STRATEGIES.join(',')}, or none (default ${DEFAULT_STRATEGIES.join(',')})`,
      strategyList,
      [...d.strategies],
    )
    .option(
      '--planner-images <n>',
      'images of the planner-scale run (0 skips it)',
      integer(0, 1_000_000),
      d.plannerImages,
    )
    .option(
      '--planner-repos <n>',
      'repositories of the planner-scale run',
      integer(1, 100_000),
      d.plannerRepositories,
    )
    .option('--batch-size <n>', 'execution input batchSize for the runner strategies', integer(1, 100))
    .option(
      '--max-concurrency <n>',
      'execution input maxConcurrency for the runner strategies',
      integer(1, 10_000),
    )
    .option(
      '--time-scale <x>',
      'Wait/retry multiplier (default: the replication latency over the 30 s default wait)',
      positive,
    )
    .action(async (options: BenchCliOptions, command: Command) => {
      await runCommand(command, (context) => bench(context, options));
    });
}

async function bench(context: CliContext, options: BenchCliOptions): Promise<number> {
  const input: Record<string, unknown> = {
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.maxConcurrency !== undefined ? { maxConcurrency: options.maxConcurrency } : {}),
  };
  const result = await runBench({
    seed: options.seed,
    repositories: options.repos,
    imagesPerRepository: options.images,
    tagsPerImage: options.tagsPerImage,
    destinations: options.destinations,
    ...(options.conflictShare !== undefined ? { conflictShare: options.conflictShare } : {}),
    signedShare: options.signedShare,
    sbomShare: options.sbomShare,
    quotaScale: options.quotaScale,
    replicationLatencyMs: options.replicationLatencyMs,
    apiLatencyMs: options.apiLatencyMs,
    strategies: options.strategies,
    plannerImages: options.plannerImages,
    plannerRepositories: Math.min(options.plannerRepos, Math.max(1, options.plannerImages)),
    ...(Object.keys(input).length > 0 ? { input } : {}),
    ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
    onProgress: (line) => {
      if (!options.json) context.stderr.write(`${line}\n`);
    },
  });
  if (options.json) writeJson(context, result);
  else context.stdout.write(renderBenchReport(result, options.markdown ? 'markdown' : 'text'));
  const failed = result.targets.filter((t) => t.correctness && !t.met);
  for (const t of failed) context.stderr.write(`bench failed: ${t.target}: ${t.measured}\n`);
  return failed.length > 0 ? 1 : 0;
}

const fixed = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const shortRegistry = (key: string): string => key.replace(/^(\d{4})\d{8}\//, '$1…/');

function strategyRows(strategies: StrategyFigures[]): Cell[][] {
  const per = (pick: (s: StrategyFigures) => Cell): Cell[] => strategies.map(pick);
  const destinations = [...new Set(strategies.flatMap((s) => Object.keys(s.putImage.perDestinationPerTag)))];
  return [
    ['Status', ...per((s) => s.status)],
    ['Wall time (s)', ...per((s) => fixed(s.wallSeconds))],
    ['Tags/s', ...per((s) => fixed(s.tagsPerSecond, 1))],
    ['Engine', ...per((s) => s.engine ?? 'single loop')],
    ['Quota bound (s)', ...per((s) => (s.quotaBound ? fixed(s.quotaBound.seconds) : 'n/a'))],
    [
      '  busiest registry (PutImage calls)',
      ...per((s) =>
        s.quotaBound
          ? `${shortRegistry(s.quotaBound.busiestRegistry)} (${s.quotaBound.busiestCalls})`
          : 'n/a',
      ),
    ],
    ['Bound / actual', ...per((s) => (s.boundRatio === null ? 'n/a' : fixed(s.boundRatio)))],
    ['Source PutImage per tag', ...per((s) => fixed(s.putImage.sourcePerTag, 3))],
    ['Source PutImage per digest', ...per((s) => fixed(s.putImage.sourcePerDigest, 3))],
    ...destinations.map((key): Cell[] => [
      `PutImage per tag in ${shortRegistry(key)}`,
      ...per((s) => fixed(s.putImage.perDestinationPerTag[key] ?? 0, 3)),
    ]),
    ['PutImage throttled', ...per((s) => s.putImage.throttled)],
    ['API calls per tag (all)', ...per((s) => fixed(s.apiCalls.perTag))],
    ['State transitions per tag', ...per((s) => fixed(s.stateTransitionsPerTag, 3))],
    ['Lambda invocations', ...per((s) => s.lambda.invocations)],
    ['Lambda GB-s', ...per((s) => fixed(s.lambda.gbSeconds, 1))],
    ['USD per 10,000 tags', ...per((s) => `$${fixed(s.usdPer10kTags, 3)}`)],
    ['Source unavailability max (ms)', ...per((s) => fixed(s.sourceUnavailability.maxMs, 1))],
    ['Source unavailability total (ms)', ...per((s) => fixed(s.sourceUnavailability.totalMs, 0))],
    ['  windows (tags made unpullable)', ...per((s) => s.sourceUnavailability.windows)],
    ['Temp tags left after the run', ...per((s) => s.tempTagsLeft)],
    [
      'Invariants 1–6 (docs/architecture.md §3.2)',
      ...per((s) =>
        s.invariantViolations === undefined
          ? 'not checked'
          : s.invariantViolations.length === 0
            ? 'hold'
            : `${s.invariantViolations.length} violated`,
      ),
    ],
    [
      'Referrers in every destination (by digest)',
      ...per((s) =>
        s.referrers === undefined
          ? 'not copied'
          : s.referrers.missing.length === 0
            ? 'match'
            : `${s.referrers.missing.length} missing`,
      ),
    ],
    ['CPU share of this process', ...per((s) => fixed(s.cpuShare))],
  ];
}

/** The referrer calls per referrer the run had to copy (promote and native; the others copy none). */
function referrerRows(strategies: StrategyFigures[]): Cell[][] {
  const operations = [...new Set(strategies.flatMap((s) => Object.keys(s.referrers?.perReferrer ?? {})))];
  return [
    [
      'Referrers to copy (referrer × destination)',
      ...strategies.map((s) => s.referrers?.referrersToCopy ?? '-'),
    ],
    ...operations.map((op): Cell[] => [
      op,
      ...strategies.map((s) => {
        const per = s.referrers?.perReferrer[op];
        return per === undefined ? '-' : `${fixed(per, 3)} (${s.referrers?.calls[op] ?? 0})`;
      }),
    ]),
  ];
}

/** The longest invocation of each step against its configured timeout (the step table, core/steps.ts). */
function timeoutMarginRows(strategies: StrategyFigures[]): Cell[][] {
  const steps = [...new Set(strategies.flatMap((s) => Object.keys(s.lambda.maxMsByStep)))].filter(
    isLambdaStepName,
  );
  return steps.map((step): Cell[] => {
    const timeoutMs = stepOf(step).timeoutSeconds * 1000;
    return [
      `${step} (timeout ${timeoutMs / 1000} s)`,
      ...strategies.map((s) => {
        const ms = s.lambda.maxMsByStep[step];
        return ms === undefined ? '-' : `${ms} ms (${fixed((100 * ms) / timeoutMs, 2)} %)`;
      }),
    ];
  });
}

function operationRows(strategies: StrategyFigures[]): Cell[][] {
  const operations = [
    ...new Set(strategies.flatMap((s) => Object.keys(s.apiCalls.perTagByOperation))),
  ].sort();
  return operations.map((op): Cell[] => [
    op,
    ...strategies.map((s) => fixed(s.apiCalls.perTagByOperation[op] ?? 0, 3)),
  ]);
}

function phaseRows(strategies: StrategyFigures[]): Cell[][] {
  const runner = strategies.filter((s) => s.phasesSeconds);
  const states = [...new Set(runner.flatMap((s) => Object.keys(s.phasesSeconds ?? {})))];
  const windows = [...new Set(strategies.flatMap((s) => Object.keys(s.putImage.windows)))];
  return [
    ...states.map((state): Cell[] => [
      `${state} entered (s)`,
      ...strategies.map((s) =>
        s.phasesSeconds?.[state] !== undefined ? fixed(s.phasesSeconds[state] ?? 0) : '-',
      ),
    ]),
    ...windows.map((key): Cell[] => [
      `PutImage in ${shortRegistry(key)} (s)`,
      ...strategies.map((s) => {
        const w = s.putImage.windows[key];
        return w ? `${fixed(w.first)}–${fixed(w.last)}` : '-';
      }),
    ]),
  ];
}

export function renderBenchReport(result: BenchResult, format: 'text' | 'markdown'): string {
  const table = format === 'markdown' ? renderMarkdownTable : renderTable;
  const heading = (text: string) => (format === 'markdown' ? `\n#### ${text}\n\n` : `\n${text}\n`);
  const o = result.options;
  const r = result.registry;
  const names = result.strategies.map((s) => s.strategy);
  let out = '';
  out += heading('Setup');
  const measuredStrategies = result.strategies.length > 0;
  out += table(
    ['', ''],
    [
      [
        'Machine',
        `${result.machine.cpus} CPUs (${result.machine.cpuModel}), Node ${result.machine.node}, ${result.machine.platform}`,
      ],
      ['Load average at the end (1/5/15 min)', result.machine.loadAverage.join(' / ')],
      ...(measuredStrategies
        ? ([
            [
              'Registry',
              `${r.repositories} repositories (${r.coveredRepositories} covered), ${r.images} images and ${r.referrers} referrers (signed share ${o.signedShare}, SBOM share ${o.sbomShare}), seed ${o.seed}, ${o.tagsPerImage} tags per image on average`,
            ],
            ['Destinations', r.destinations.join(', ')],
            [
              'To backfill',
              `${r.tags} tags (${r.deliveries} tag × destination deliveries), ${r.digestsToReplicate} digests to replicate, ${r.referrersToCopy} referrer copies; ${r.alreadyPresent} already present, ${r.conflicts} conflicts`,
            ],
            ['Replication latency', `${o.replicationLatencyMs} ms (workflow waits × ${o.timeScale})`],
            ['ECR API latency', `${o.apiLatencyMs} ms per call (±50 % jitter)`],
          ] satisfies Cell[][])
        : []),
      ['Quotas', `×${o.quotaScale} (PutImage ${o.putImageRatePerSecond}/s per account and Region)`],
      ['Total bench time', `${fixed(result.totalSeconds, 1)} s`],
    ],
  );
  if (result.strategies.length > 0) {
    out += heading('Strategies');
    out += table(['', ...names], strategyRows(result.strategies));
    out += heading('Longest Lambda invocation per step (share of its timeout)');
    out += table(['Step', ...names], timeoutMarginRows(result.strategies));
    out += heading('API calls per tag, by operation (emulator call log)');
    out += table(['Operation', ...names], operationRows(result.strategies));
    if (result.strategies.some((s) => s.referrers)) {
      out += heading('Referrer calls per referrer copied (emulator call log; count in brackets)');
      out += table(['', ...names], referrerRows(result.strategies));
    }
    out += heading('Timeline (seconds from the start of each run)');
    out += table(['', ...names], phaseRows(result.strategies));
    const violations = result.strategies.flatMap((s) =>
      (s.invariantViolations ?? []).map((v) => `${s.strategy}: ${v}`),
    );
    if (violations.length > 0)
      out += heading('Invariant violations') + violations.slice(0, 20).join('\n') + '\n';
    const missing = result.strategies.flatMap((s) =>
      (s.referrers?.missing ?? []).map((m) => `${s.strategy}: ${m}`),
    );
    if (missing.length > 0) out += heading('Missing referrers') + missing.slice(0, 20).join('\n') + '\n';
  }
  const planner = result.planner;
  if (planner) {
    const rows = [result.plannerReference, planner].filter((p) => p !== undefined);
    out += heading('Planner scale (dryRun through the runner; emulator in a child process)');
    out += table(
      ['', ...rows.map((p) => `${p.images} images`)],
      [
        ['Status', ...rows.map((p) => p.status)],
        ['Repositories × destinations', ...rows.map((p) => `${p.repositories} × ${p.destinations}`)],
        ['Wall time (s)', ...rows.map((p) => fixed(p.wallSeconds))],
        ['Items planned', ...rows.map((p) => p.plannedItems ?? '-')],
        ['ECR calls (minimum possible)', ...rows.map((p) => `${p.calls.total} (${p.calls.minimum})`)],
        [
          '  by operation',
          ...rows.map((p) =>
            Object.entries(p.calls.byOperation)
              .map(([op, n]) => `${op} ${n}`)
              .join(', '),
          ),
        ],
        ['  throttled', ...rows.map((p) => p.calls.throttled)],
        [
          'Retained heap growth (MB)',
          ...rows.map((p) =>
            fixed((p.memory.peakRetainedHeapBytes - p.memory.baselineHeapBytes) / 1048576, 1),
          ),
        ],
        ['Peak heap used (MB)', ...rows.map((p) => fixed(p.memory.peakHeapBytes / 1048576, 1))],
        ['Peak RSS (MB)', ...rows.map((p) => fixed(p.memory.peakRssBytes / 1048576, 1))],
      ],
    );
  }
  if (result.targets.length > 0) {
    out += heading('Targets');
    out += table(
      ['Target', 'Met', 'Measured'],
      result.targets.map((t): Cell[] => [t.target, t.met ? 'yes' : 'NO', t.measured]),
    );
  }
  return out;
}
