/**
 * `ecr-backfill local`: the whole backfill, offline. The synthesized state machine runs in the
 * local runner with the real Lambda code, against an ECR emulator and a local S3; without
 * `--ecr-endpoint` an emulator is started with the demo registry (local/demo-registry.ts).
 *
 * Shows progress (a bar on a terminal, one line per change otherwise), then the report. Exits 0
 * only when the execution succeeded (3 when it failed, like `watch`).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { EcrEmulator } from '../../ecr-emulator/index.ts';
import { buildDemoRegistry, DEMO_SOURCE_ACCOUNT, DEMO_SOURCE_REGION } from '../../demo-registry.ts';
import { DEFAULT_SOURCE_REGION, DEFAULT_TIME_SCALE } from '../../runner/defaults.ts';
import type { BackfillRunResult, BackfillSnapshot } from '../../runner/run-backfill.ts';
import { runCommand, writeJson } from '../../../cli/shared/command-kit.ts';
import type { CliContext, OutputStream } from '../../../cli/shared/context.ts';
import { EXIT_CODES } from '../../../cli/shared/exit-codes.ts';
import { formatUsd, renderTable, type Cell } from '../../../cli/shared/format.ts';
import { readInputOption } from '../../../cli/shared/input-flags.ts';
import { createProgressView, type ProgressSnapshot } from '../../../cli/shared/progress.ts';

export interface LocalOptions {
  ecrEndpoint?: string;
  input?: string;
  sourceRegion?: string;
  lambdaCrashRate: number;
  seed: number;
  maxRedrives: number;
  timeScale: number;
  apiLatencyMs: number;
  json?: boolean;
}

/** What the embedded emulator runs with: quick replication, quotas high enough for a demo. */
const EMBEDDED_REPLICATION_LATENCY_MS = 300;
const EMBEDDED_QUOTA_SCALE = 20;
/** ECR's default PutImage quota per Region, per second. */
const PUT_IMAGE_QUOTA = 10;
/** Rows of the report printed; the full report is in report.csv. */
const MAX_ROWS_SHOWN = 60;
/** Step Functions Standard, us-east-1: $0.025 per 1,000 state transitions (aws-facts.md). */
const USD_PER_TRANSITION = 0.025 / 1000;

function parseProbability(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !(number >= 0 && number <= 1)) {
    throw new InvalidArgumentError('expected a probability between 0 and 1.');
  }
  return number;
}

function parseCount(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new InvalidArgumentError('expected an integer >= 0.');
  return number;
}

function parseScale(value: string): number {
  const number = Number(value);
  if (!(number >= 0) || !Number.isFinite(number)) throw new InvalidArgumentError('expected a number >= 0.');
  return number;
}

/** Adds the `local` options to a command (`demo` shares them). */
export function addLocalOptions(command: Command): Command {
  return command
    .option(
      '--ecr-endpoint <url>',
      'an ECR endpoint (emulator) to use; default: start one with the demo registry',
    )
    .option('--input <json|@file>', 'execution input as JSON, or @path to a JSON file (default: {})')
    .option(
      '--source-region <region>',
      `the source registry's Region (default: ${DEMO_SOURCE_REGION} for the demo registry, else AWS_REGION or ${DEFAULT_SOURCE_REGION})`,
    )
    .option(
      '--lambda-crash-rate <p>',
      'probability that a Lambda invocation dies part-way, after some ECR calls (0-1)',
      parseProbability,
      0,
    )
    .option('--seed <n>', 'seed of the crash injection', parseCount, 0)
    .option(
      '--max-redrives <n>',
      'redrive a failed execution up to n times, as from the console',
      parseCount,
      0,
    )
    .option(
      '--time-scale <x>',
      `multiplies Wait durations and retry intervals (order and attempts unchanged)`,
      parseScale,
      DEFAULT_TIME_SCALE,
    )
    .option(
      '--api-latency-ms <n>',
      'embedded emulator: mean delay of every ECR API call, ±50 % seeded jitter (real calls take tens of ms)',
      parseScale,
      0,
    )
    .option('--json', 'print the result as one JSON document instead of progress and tables');
}

export function registerLocalCommand(program: Command): void {
  addLocalOptions(
    program
      .command('local')
      .description(
        'Run the backfill workflow offline: the synthesized state machine and the real Lambda code, against an ECR emulator and a local S3.',
      ),
  ).action(async (options: LocalOptions, command: Command) => {
    await runCommand(command, (context) => runLocal(context, options));
  });
}

/** The progress display's view of a snapshot: the map's item counts, outcomes in the phase. */
function progressSnapshot(snapshot: BackfillSnapshot): ProgressSnapshot {
  const outcomes = Object.entries(snapshot.outcomes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([outcome, n]) => `${outcome} ${n}`)
    .join(', ');
  const phase = outcomes ? `${snapshot.phase} [${outcomes}]` : snapshot.phase;
  if (!snapshot.map) return { phase };
  const counts = snapshot.map.counts;
  return {
    phase,
    map: {
      label: snapshot.map.label,
      items: {
        pending: counts.itemsPending,
        running: counts.itemsRunning,
        succeeded: counts.itemsSucceeded,
        failed: counts.itemsFailed,
        timedOut: 0,
        aborted: 0,
        total: counts.itemsTotal,
      },
    },
  };
}

/** Which engine ran and why (FinalizePlan's choice, carried into the report's plan summary). */
function engineOf(report: BackfillRunResult['report']): { method: string; reason: string } | undefined {
  const plan = (report?.summary as { plan?: { engine?: { method?: unknown; reason?: unknown } } } | undefined)
    ?.plan;
  const { method, reason } = plan?.engine ?? {};
  return typeof method === 'string' && typeof reason === 'string' ? { method, reason } : undefined;
}

const shortDigest = (digest: string): string => digest.replace(/^sha256:/, '').slice(0, 12);

function writeReport(out: OutputStream, result: BackfillRunResult, elapsedMs: number): void {
  const seconds = (elapsedMs / 1000).toFixed(1);
  const redrives = result.redrives > 0 ? `, ${result.redrives} redrive${result.redrives > 1 ? 's' : ''}` : '';
  out.write(`\nExecution ${result.executionName}: ${result.status} in ${seconds} s${redrives}\n`);
  if (result.status === 'FAILED') {
    const failedState = result.execution.failedState?.name;
    out.write(`  failed${failedState ? ` in ${failedState}` : ''}: ${result.error ?? 'unknown error'}\n`);
    if (result.cause) out.write(`  ${result.cause.slice(0, 500)}\n`);
  }
  const report = result.report;
  const engine = engineOf(report);
  if (engine) out.write(`Engine: ${engine.method} (${engine.reason})\n`);
  if (report) {
    const counts = Object.entries(report.summary.counts).sort(([a], [b]) => a.localeCompare(b));
    if (counts.length > 0) {
      out.write('\n');
      out.write(
        renderTable(
          ['Outcome', 'Count'],
          counts.map(([outcome, n]): Cell[] => [outcome, n]),
        ),
      );
    }
    const rows = [...report.rows].sort(
      (a, b) =>
        a.repositoryName.localeCompare(b.repositoryName) ||
        a.tag.localeCompare(b.tag) ||
        a.destinationRegion.localeCompare(b.destinationRegion),
    );
    if (rows.length > 0) {
      out.write('\n');
      out.write(
        renderTable(
          ['Repository', 'Tag', 'Destination', 'Outcome', 'Digest'],
          rows
            .slice(0, MAX_ROWS_SHOWN)
            .map((row): Cell[] => [
              row.repositoryName,
              row.tag,
              `${row.destinationRegistryId}/${row.destinationRegion}`,
              row.outcome,
              shortDigest(row.imageDigest),
            ]),
        ),
      );
      if (rows.length > MAX_ROWS_SHOWN)
        out.write(`… ${rows.length - MAX_ROWS_SHOWN} more rows in report.csv\n`);
    }
    const csv = report.summary.reportCsv;
    out.write(`\nReport: s3://${csv.bucket}/${csv.key} (local S3, removed on exit)\n`);
  } else if (result.status === 'SUCCEEDED' && result.output !== undefined) {
    // A dry run ends with the plan.
    out.write(`\nPlan:\n${JSON.stringify(result.output, null, 2)}\n`);
  }
  const invocations = Object.entries(result.invocations)
    .map(([state, n]) => `${state} ${n}`)
    .join(', ');
  out.write(
    `\nStep Functions: ${result.transitions} state transitions (${formatUsd(result.transitions * USD_PER_TRANSITION)} at Standard pricing)\n`,
  );
  out.write(`Lambda: ${result.totalInvocations} invocations (${invocations})`);
  out.write(result.metrics.crashes > 0 ? `, ${result.metrics.crashes} crashed\n` : '\n');
}

function jsonResult(result: BackfillRunResult, emulator: EcrEmulator | undefined): Record<string, unknown> {
  return {
    status: result.status,
    executionId: result.executionId,
    executionName: result.executionName,
    ...(result.error !== undefined ? { error: result.error, cause: result.cause } : {}),
    ...(result.execution.failedState ? { failedState: result.execution.failedState.name } : {}),
    redrives: result.redrives,
    transitions: result.transitions,
    invocations: result.invocations,
    totalInvocations: result.totalInvocations,
    lambdaCrashes: result.metrics.crashes,
    ...(emulator ? { ecrCalls: emulator.callLog.size } : {}),
    output: result.output ?? null,
    report: result.report ?? null,
  };
}

export interface LocalRunExtras {
  /** Input used when `--input` is not given. */
  defaultInput?: Record<string, unknown>;
  /** A line printed before the run starts (not with --json). */
  banner?: string;
}

export async function runLocal(
  context: CliContext,
  options: LocalOptions,
  extras: LocalRunExtras = {},
): Promise<number> {
  const input =
    options.input !== undefined ? await readInputOption(context, options.input) : (extras.defaultInput ?? {});
  // Loaded here, not at the top: they bring the CDK, the interpreter and every handler, which the
  // other commands do not need (about 1.5 s of start-up).
  const [{ startEcrEmulator }, { runBackfillLocally }] = await Promise.all([
    import('../../ecr-emulator/index.ts'),
    import('../../runner/run-backfill.ts'),
  ]);
  const embedded = options.ecrEndpoint === undefined;
  const emulator = embedded
    ? await startEcrEmulator({
        fixture: buildDemoRegistry(),
        replicationLatencyMs: EMBEDDED_REPLICATION_LATENCY_MS,
        quotaScale: EMBEDDED_QUOTA_SCALE,
        apiLatencyMs: options.apiLatencyMs,
        seed: options.seed,
      })
    : undefined;
  const endpoint = emulator?.endpoint ?? options.ecrEndpoint ?? '';
  const sourceRegion =
    options.sourceRegion ??
    (embedded ? DEMO_SOURCE_REGION : (process.env.AWS_REGION ?? DEFAULT_SOURCE_REGION));
  const out = context.stdout;
  const view = options.json ? undefined : createProgressView(out);
  try {
    if (!options.json) {
      if (extras.banner) out.write(`${extras.banner}\n`);
      out.write(
        embedded
          ? `ECR emulator with the demo registry at ${endpoint} (source ${DEMO_SOURCE_ACCOUNT}/${sourceRegion})\n`
          : `ECR endpoint ${endpoint} (source Region ${sourceRegion})\n`,
      );
      out.write(`Input: ${JSON.stringify(input)}\n\n`);
    }
    const started = context.clock.now();
    const result = await runBackfillLocally({
      ecrEndpoint: endpoint,
      input,
      sourceRegion,
      ...(embedded ? { account: DEMO_SOURCE_ACCOUNT } : {}),
      lambdaCrashRate: options.lambdaCrashRate,
      seed: options.seed,
      maxRedrives: options.maxRedrives,
      timeScale: options.timeScale,
      // The local "Lambdas" share one process, hence one PutImage limiter: give it the emulator's quota.
      ...(embedded ? { putImageRatePerSecond: PUT_IMAGE_QUOTA * EMBEDDED_QUOTA_SCALE } : {}),
      onProgress: (snapshot, event) => {
        if (!view) return;
        if (event.type === 'redrive')
          view.note(
            `Execution failed; redrive ${event.redrive}/${event.maxRedrives} from ${event.fromState}`,
          );
        view.update(progressSnapshot(snapshot));
      },
    });
    view?.finish();
    if (options.json) writeJson(context, jsonResult(result, emulator));
    else {
      writeReport(out, result, context.clock.now() - started);
      if (emulator) out.write(`ECR: ${emulator.callLog.size} API calls to the emulator\n`);
    }
    return result.status === 'SUCCEEDED' ? EXIT_CODES.ok : EXIT_CODES.executionFailed;
  } finally {
    view?.finish();
    await emulator?.close();
  }
}
