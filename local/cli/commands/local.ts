/**
 * `ecr-backfill local`: the whole backfill, offline. The synthesized state machine runs in the
 * local runner with the real Lambda code, against an ECR emulator and a local S3; without
 * `--ecr-endpoint` an emulator is started with the demo registry (local/demo-registry.ts).
 *
 * Shows progress (a bar on a terminal, one line per change otherwise), then the report. Exits 0
 * only when the execution succeeded (3 when it failed, like `watch`).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { EcrEmulator } from '../../ecr-emulator/index.ts';
import { buildDemoRegistry, DEMO_SOURCE_ACCOUNT, DEMO_SOURCE_REGION } from '../../demo-registry.ts';
import { DEFAULT_SOURCE_REGION, DEFAULT_TIME_SCALE, LOCAL_DEPLOYMENT } from '../../runner/defaults.ts';
import type { BackfillRunResult, BackfillSnapshot } from '../../runner/run-backfill.ts';
import type { S3Client } from '@aws-sdk/client-s3';
import { ERROR_NAMES } from 'ecr-backfill/core';
import { runIdFromExecutionName, runPrefixFor } from 'ecr-backfill/core';
import { PlannedRunSchema, S3RunStore, silentLogger, type RunReportSummary } from 'ecr-backfill/core';
import { buildRunReport } from 'ecr-backfill/functions';
import { STATE_NAMES } from 'ecr-backfill/core';
import { parseEndpointUrl, runCommand, writeJson } from 'ecr-backfill/cli';
import { assertEndpointReachable } from './endpoint-probe.ts';
import type { CliContext, OutputStream } from 'ecr-backfill/cli';
import { CliError } from 'ecr-backfill/cli';
import { parseExecutionOutput, renderPlanSummary } from 'ecr-backfill/cli';
import { EXIT_CODES } from 'ecr-backfill/cli';
import { failureParagraph } from 'ecr-backfill/cli';
import { formatUsd, renderTable, type Cell } from 'ecr-backfill/cli';
import { addSelectionFlags, inputFromFlags } from 'ecr-backfill/cli';
import type { RunLocation } from 'ecr-backfill/cli';
import { createProgressView, type ProgressSnapshot, type ProgressView } from 'ecr-backfill/cli';
import { RateEstimator } from 'ecr-backfill/cli';
import { anchoredEtaSeconds, RunProgressReader, type RunProgress } from 'ecr-backfill/cli';
import { DEFAULT_REPORT_DIR, keepReport, type KeptReport } from './local-reports.ts';
import { collectContext, deploymentContext, type DeploymentContext } from './deployment-context.ts';

export interface LocalOptions extends Record<string, unknown> {
  ecrEndpoint?: string;
  input?: string;
  region?: string;
  /** The pre-`--region` name of the flag, kept as a hidden alias. */
  sourceRegion?: string;
  lambdaCrashRate: number;
  seed: number;
  maxRedrives: number;
  timeScale: number;
  apiLatencyMs: number;
  json?: boolean;
  verbose?: boolean;
  out?: string;
  /** `-c/--context key=value` flags: the deployment's CDK context (with ./cdk.json's). */
  context?: Record<string, string>;
}

/** What the embedded emulator runs with: quick replication, quotas high enough for a demo. */
const EMBEDDED_REPLICATION_LATENCY_MS = 300;
const EMBEDDED_QUOTA_SCALE = 20;
/** ECR's default PutImage quota per Region, per second. */
const PUT_IMAGE_QUOTA = 10;
/** Rows of the report printed; the full report is in report.csv. */
const MAX_ROWS_SHOWN = 60;
/** Step Functions Standard, us-east-1: $0.025 per 1,000 state transitions (docs/aws-facts.md). */
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

/**
 * Adds the `local` options to a command (`demo` shares them). `defaultInput` is the input the
 * command runs without --input, as its help shows it (demo's is not `{}`).
 */
export function addLocalOptions(command: Command, defaultInput: Record<string, unknown> = {}): Command {
  // The same selection flags as `plan` and `start` (--repository, --tag, --latest, …), over --input.
  return (
    addSelectionFlags(command, defaultInput)
      .option(
        '--ecr-endpoint <url>',
        'an ECR endpoint (emulator) to use; default: start one with the demo registry',
        parseEndpointUrl,
      )
      .option(
        '--region <region>',
        `the source registry's Region (default: ${DEMO_SOURCE_REGION} for the demo registry, else AWS_REGION or ${DEFAULT_SOURCE_REGION})`,
      )
      // The flag's name before every command took `--region`; hidden, kept for scripts written then.
      .addOption(new Option('--source-region <region>', 'alias of --region').hideHelp())
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
      .option(
        '--out <dir>',
        `write report.json, report.csv and report.md there (default: ${DEFAULT_REPORT_DIR}, the last run's)`,
      )
      .option(
        '-c, --context <key=value>',
        'the deployment’s CDK context, as for cdk synth (repeatable; ./cdk.json’s context is read too, a flag wins): run with its run policy, quotas and scope, e.g. -c allowedStrategies=promote,retag-source',
        collectContext,
      )
      .option('--verbose', 'print a failure’s whole cause (stack trace included)')
      .option('--json', 'print the result as one JSON document instead of progress and tables')
  );
}

/** The source Region, and how it was chosen when nobody gave it (said on screen). */
export interface SourceRegion {
  name: string;
  /** How the Region was picked when neither --region nor --source-region was given. */
  assumed?: string;
}

export function sourceRegionOf(
  options: Pick<LocalOptions, 'region' | 'sourceRegion'>,
  embedded: boolean,
  env: NodeJS.ProcessEnv = process.env,
): SourceRegion {
  if (options.region && options.sourceRegion && options.region !== options.sourceRegion) {
    throw new CliError(`--region ${options.region} and --source-region ${options.sourceRegion} disagree.`, {
      exitCode: EXIT_CODES.usage,
      hints: ['Pass --region only (--source-region is its old name).'],
    });
  }
  const given = options.region ?? options.sourceRegion;
  if (given) return { name: given };
  if (embedded) return { name: DEMO_SOURCE_REGION, assumed: 'the demo registry’s Region' };
  if (env.AWS_REGION) return { name: env.AWS_REGION, assumed: 'taken from AWS_REGION' };
  return { name: DEFAULT_SOURCE_REGION, assumed: 'assumed: no --region given and AWS_REGION is not set' };
}

export function registerLocalCommand(program: Command): void {
  addLocalOptions(
    program
      .command('local')
      .description(
        'Run the backfill workflow offline: the synthesized state machine and the real Lambda code, against an ECR emulator and a local S3.',
      ),
  )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  # the deployment allows retag-source (the default run policy does not): try it offline',
        `  ecr-backfill local -c allowedStrategies=promote,retag-source --input '{"strategy":"retag-source","method":"repush"}'`,
        '  # only the repositories the deployment is scoped to',
        `  ecr-backfill local -c 'repositoryScope=shop/*'`,
        '  # the execution a deployment with startOnDeploy starts, as its custom resource’s role would start it',
        `  ecr-backfill local -c 'startOnDeploy={"dryRun":true}'`,
      ].join('\n'),
    )
    .action(async (options: LocalOptions, command: Command) => {
      await runCommand(command, (context) => runLocal(context, options));
    });
}

/**
 * The progress display's view of a snapshot: the batches' recorded progress while BackfillImages
 * runs, else the map's item counts with the finished batches' outcomes in the phase.
 */
function progressSnapshot(snapshot: BackfillSnapshot, run?: RunProgress): ProgressSnapshot {
  // From BackfillImages on, the batches' records are the progress (the final line shows where it ended).
  if (run) return { phase: snapshot.phase, run };
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

const shortDigest = (digest: string): string => digest.replace(/^sha256:/, '').slice(0, 12);

interface ReportContext {
  elapsedMs: number;
  region: SourceRegion;
  maxRedrives: number;
  verbose: boolean;
  kept?: KeptReport;
  /** Why the report could not be kept on disk. */
  keepProblem?: string;
}

function writeFailure(out: OutputStream, result: BackfillRunResult, how: ReportContext): void {
  if (result.redriveRefused !== undefined) {
    out.write(`Not redriven (--max-redrives ${how.maxRedrives}): ${result.redriveRefused}\n`);
  }
  const failure = {
    error: result.error,
    cause: result.cause,
    failedState: result.execution.failedState?.name,
  };
  out.write(
    failureParagraph(failure, {
      verbose: how.verbose,
      details: how.kept
        ? `${how.kept.directory} (report.md)`
        : how.verbose
          ? 'the execution’s cause above'
          : '--verbose prints the whole cause, --json the whole result',
    }),
  );
  if (result.error === ERROR_NAMES.NotCovered && how.region.assumed) {
    out.write(
      `Source Region ${how.region.name} (${how.region.assumed}): if the registry is in another Region, pass --region <region>.\n`,
    );
  }
}

function writeReport(out: OutputStream, result: BackfillRunResult, how: ReportContext): void {
  const seconds = (how.elapsedMs / 1000).toFixed(1);
  const redrives = result.redrives > 0 ? `, ${result.redrives} redrive${result.redrives > 1 ? 's' : ''}` : '';
  out.write(`\nExecution ${result.executionName}: ${result.status} in ${seconds} s${redrives}\n`);
  if (result.status === 'FAILED') writeFailure(out, result, how);
  const report = result.report;
  // Which engine ran and why (FinalizePlan's choice, carried into the report's plan summary).
  const engine = report?.summary.plan.engine;
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
    if (how.kept) {
      out.write(`\nReport: ${how.kept.files.join(', ')}\n`);
    } else {
      out.write(`\nReport not kept (${how.keepProblem ?? 'unknown reason'}); --out <dir> chooses where.\n`);
    }
  } else if (result.status === 'SUCCEEDED') {
    // A dry run ends with the plan.
    const { plan } = parseExecutionOutput(JSON.stringify(result.output ?? null));
    if (plan) out.write(`\nDry run: nothing was written. The plan:\n${renderPlanSummary(plan)}`);
    if (how.kept) out.write(`\nPlan report: ${how.kept.files.join(', ')}\n`);
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

/** The report of a dry run (Summarize's own logic on the planned run); undefined for any other run. */
async function dryRunReport(
  s3Client: S3Client,
  result: BackfillRunResult,
  clock: { now(): number },
): Promise<RunReportSummary | undefined> {
  if (result.status !== 'SUCCEEDED') return undefined;
  const planned = PlannedRunSchema.safeParse(result.output);
  if (!planned.success || !planned.data.config.dryRun) return undefined;
  return buildRunReport({
    runStore: new S3RunStore(s3Client),
    logger: silentLogger,
    now: () => clock.now(),
    run: planned.data,
  });
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
  /** Text printed after the world's description, before the run starts (not with --json). */
  preamble?: (world: LocalWorld) => Promise<string>;
}

/** The world a local run runs against, as its deployment sees it. */
export interface LocalWorld {
  ecrEndpoint: string;
  sourceRegion: string;
  /** The source account of the embedded demo registry; absent with --ecr-endpoint. */
  account?: string;
  /** The accounts the local deployment reaches directly (LOCAL_DEPLOYMENT and the context's). */
  directAccounts: readonly string[];
  /** The deployment's construct props (from cdk.json and -c). */
  props: DeploymentContext['props'];
}

/** An execution's final statuses (https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html). */
const FINAL_STATUSES = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/** How often the batches' progress records are read during a local run. */
const PROGRESS_POLL_MS = 250;

/**
 * Follows the batches' progress records in the run bucket while BackfillImages runs — the same
 * records, and the same reader, as `ecr-backfill watch` in AWS — and prints each new failure once.
 */
export class LocalProgress {
  private readonly reader: RunProgressReader;
  private readonly rate = new RateEstimator();
  private readonly seenFailures = new Set<string>();
  private inFlight: Promise<void> | undefined;
  private backfillStartedAt: number | undefined;
  run: RunProgress | undefined;
  snapshot: BackfillSnapshot | undefined;

  constructor(
    s3: S3Client,
    location: RunLocation,
    private readonly view: ProgressView,
    private readonly clock: CliContext['clock'],
    /**
     * The plan's quota bound holds in real time only: with scaled waits (--time-scale) and the
     * embedded emulator's scaled quotas it would promise a later end than the run's.
     */
    private readonly anchorOnQuotaBound: boolean,
  ) {
    this.reader = new RunProgressReader(new S3RunStore(s3), location);
  }

  onSnapshot(snapshot: BackfillSnapshot): void {
    this.snapshot = snapshot;
    if (snapshot.phase === STATE_NAMES.BackfillImages) this.backfillStartedAt ??= this.clock.now();
    // The execution's final status is shown once, by finalPoll, with the batches' last records:
    // shown now, it would pair SUCCEEDED with a read taken before the last batches finished
    // ("SUCCEEDED: 85% (promoting)", then "100% (done)").
    if (FINAL_STATUSES.has(snapshot.phase)) return;
    this.render();
  }

  /** One read of the records; a tick while the previous read still runs waits for that one. */
  poll(): Promise<void> {
    if (this.backfillStartedAt === undefined) return Promise.resolve();
    this.inFlight ??= this.read().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** After the run: the last word of every batch, whatever read was still going. */
  async finalPoll(): Promise<void> {
    await this.inFlight;
    await this.poll();
    this.render();
  }

  private async read(): Promise<void> {
    try {
      const run = await this.reader.read();
      if (!run || run.batches === 0) return;
      this.run = run;
      this.rate.add(this.clock.now(), run.settledTags);
      for (const failure of run.failures) {
        const key = `${failure.repositoryName}@${failure.imageDigest}/${failure.destination}/${failure.tag}`;
        if (this.seenFailures.has(key)) continue;
        this.seenFailures.add(key);
        const code = failure.failureCode ? ` (${failure.failureCode})` : '';
        this.view.note(
          `✗ ${failure.repositoryName}:${failure.tag} → ${failure.destination}: ${failure.outcome}${code}`,
        );
      }
      this.render();
    } catch {
      // The records are a display aid: a read that fails is retried at the next poll.
    }
  }

  private render(): void {
    if (!this.snapshot) return;
    const view = progressSnapshot(this.snapshot, this.run);
    if (this.run && this.backfillStartedAt !== undefined) {
      const ratePerSecond = this.rate.ratePerSecond();
      const etaSeconds = anchoredEtaSeconds({
        quotaBoundSeconds: this.anchorOnQuotaBound ? this.run.quotaBoundSeconds : undefined,
        elapsedSeconds: (this.clock.now() - this.backfillStartedAt) / 1000,
        rateEtaSeconds: this.rate.etaSeconds(this.run.plannedTags),
      });
      if (ratePerSecond !== undefined) view.ratePerSecond = ratePerSecond;
      if (etaSeconds !== undefined && this.run.settledTags < this.run.plannedTags)
        view.etaSeconds = etaSeconds;
    }
    this.view.update(view);
  }
}

export async function runLocal(
  context: CliContext,
  options: LocalOptions,
  extras: LocalRunExtras = {},
): Promise<number> {
  const embedded = options.ecrEndpoint === undefined;
  const region = sourceRegionOf(options, embedded);
  if (options.ecrEndpoint !== undefined) await assertEndpointReachable(options.ecrEndpoint);
  const deployment = deploymentContext(options.context);
  // A deployment that starts on deploy: the run is that execution, started as CloudFormation would
  // (the template's custom resource, as its role), with the name and input the template holds.
  const deployTimeStart = deployment.props.startOnDeploy !== undefined;
  // The input the flags (--input and the selection flags over it) give: none may with startOnDeploy.
  const input = await inputFromFlags(context, options, extras.defaultInput);
  const flagged =
    options.input !== undefined || JSON.stringify(input) !== JSON.stringify(extras.defaultInput ?? {});
  if (deployTimeStart && flagged) {
    throw new CliError('--input (or a selection flag) and startOnDeploy both give the execution its input.', {
      exitCode: EXIT_CODES.usage,
      hints: [
        'With startOnDeploy the run is the execution the deployment starts, with the input the deployment gives it (-c startOnDeploy=<json>).',
        'Drop --input, or drop startOnDeploy to run your own input.',
      ],
    });
  }
  // Loaded here, not at the top: they bring the CDK, the interpreter and every handler, which the
  // other commands do not need (about 1.5 s of start-up).
  const [
    { startEcrEmulator },
    { runBackfillLocally, defaultExecutionName },
    { startLocalS3 },
    { synthesizeBackfillStack },
    { DeployTimeStartFailed },
  ] = await Promise.all([
    import('../../ecr-emulator/index.ts'),
    import('../../runner/run-backfill.ts'),
    import('../../s3/index.ts'),
    import('../../synth/synth.ts'),
    import('../../runner/deploy-time-start.ts'),
  ]);
  // The stack as the deployment's context synthesizes it: its run policy, quotas and scope. It also
  // reaches the demo world's other account directly (LOCAL_DEPLOYMENT), as a deployer of that world
  // would; accounts the context names are added to it, not put in its place.
  const directAccounts = [
    ...new Set([...LOCAL_DEPLOYMENT.directAccounts, ...(deployment.props.directAccounts ?? [])]),
  ];
  const template = synthesizeBackfillStack({
    backfill: { ...deployment.props, directAccounts },
    localRun: true,
  });
  const emulator = embedded
    ? await startEcrEmulator({
        fixture: buildDemoRegistry(),
        replicationLatencyMs: EMBEDDED_REPLICATION_LATENCY_MS,
        quotaScale: EMBEDDED_QUOTA_SCALE,
        apiLatencyMs: options.apiLatencyMs,
        seed: options.seed,
      })
    : undefined;
  // Started here rather than by the runner: the progress records and the report are read from it.
  const s3 = await startLocalS3({ buckets: [], region: region.name });
  const s3Client = s3.clientFor(region.name);
  const endpoint = emulator?.endpoint ?? options.ecrEndpoint ?? '';
  // The deploy-time start's name is the template's (the runner reads it); any other run gets a fresh one.
  const executionName = deployTimeStart ? undefined : defaultExecutionName();
  const out = context.stdout;
  const view = options.json ? undefined : createProgressView(out);
  let progress: LocalProgress | undefined;
  const poller = setInterval(() => void progress?.poll(), PROGRESS_POLL_MS);
  try {
    if (!options.json) {
      if (extras.banner) out.write(`${extras.banner}\n`);
      const how = region.assumed ? `, ${region.assumed}` : '';
      out.write(
        embedded
          ? `ECR emulator with the demo registry at ${endpoint} (source ${DEMO_SOURCE_ACCOUNT}/${region.name}${how})\n`
          : `ECR endpoint ${endpoint} (source Region ${region.name}${how})\n`,
      );
      if (deployment.keys.length > 0)
        out.write(`Deployment context: ${deployment.keys.join(', ')} (cdk.json and -c)\n`);
      if (extras.preamble && !deployTimeStart) {
        out.write(
          await extras.preamble({
            ecrEndpoint: endpoint,
            sourceRegion: region.name,
            ...(embedded ? { account: DEMO_SOURCE_ACCOUNT } : {}),
            directAccounts,
            props: deployment.props,
          }),
        );
      }
      out.write(
        deployTimeStart
          ? 'Start on deploy: the execution the deployment starts, as its custom resource’s role, with the name and input of the template\n\n'
          : `Input: ${JSON.stringify(input)}\n\n`,
      );
    }
    const started = context.clock.now();
    const result = await runBackfillLocally({
      ecrEndpoint: endpoint,
      s3,
      ...(executionName === undefined ? { deployTimeStart: true } : { executionName, input }),
      sourceRegion: region.name,
      ...(embedded ? { account: DEMO_SOURCE_ACCOUNT } : {}),
      lambdaCrashRate: options.lambdaCrashRate,
      seed: options.seed,
      maxRedrives: options.maxRedrives,
      timeScale: options.timeScale,
      template,
      // The local "Lambdas" share one process, hence one PutImage limiter: give it the emulator's
      // quota, unless the deployment's context sets the rate.
      ...(embedded && deployment.props.putImageRatePerSecond === undefined
        ? { putImageRatePerSecond: PUT_IMAGE_QUOTA * EMBEDDED_QUOTA_SCALE }
        : {}),
      onProgress: (snapshot, event) => {
        if (!view) return;
        progress ??= new LocalProgress(
          s3Client,
          {
            bucket: snapshot.runBucket,
            runPrefix: runPrefixFor(runIdFromExecutionName(snapshot.executionName)),
          },
          view,
          context.clock,
          !embedded && options.timeScale === 1,
        );
        if (event.type === 'redrive')
          view.note(
            `Execution failed; redrive ${event.redrive}/${event.maxRedrives} from ${event.fromState}`,
          );
        progress.onSnapshot(snapshot);
      },
    }).catch((error: unknown) => {
      // The deployment would fail here, its stack rolled back: nothing started, no report.
      if (error instanceof DeployTimeStartFailed) {
        throw new CliError(`The deployment's start-on-deploy failed: ${error.message}`, {
          exitCode: EXIT_CODES.error,
          cause: error,
          hints: [
            `${error.start.logicalId} starts the execution as ${error.start.role.roleArn}; its policies must allow states:StartExecution on ${error.start.stateMachineArn}.`,
          ],
        });
      }
      throw error;
    });
    clearInterval(poller);
    await progress?.finalPoll();
    view?.finish();
    const how: ReportContext = {
      elapsedMs: context.clock.now() - started,
      region,
      maxRedrives: options.maxRedrives,
      verbose: options.verbose === true,
    };
    // A dry run ends at its plan, without Summarize: its report (a PLANNED row per tag to write,
    // and the rows of what the plan leaves alone) is built here, so --out gets it as any run's.
    const summary = result.report?.summary ?? (await dryRunReport(s3Client, result, context.clock));
    if (summary) {
      try {
        how.kept = await keepReport(context, s3Client, summary, options.out);
      } catch (error) {
        how.keepProblem = error instanceof Error ? error.message : String(error);
        if (options.out !== undefined) {
          throw new CliError(`Could not write the report to ${options.out}: ${how.keepProblem}`, {
            cause: error,
          });
        }
      }
    }
    if (options.json)
      writeJson(context, {
        ...jsonResult(result, emulator),
        ...(how.kept ? { reportFiles: how.kept.files } : {}),
      });
    else {
      writeReport(out, result, how);
      if (emulator) out.write(`ECR: ${emulator.callLog.size} API calls to the emulator\n`);
    }
    return result.status === 'SUCCEEDED' ? EXIT_CODES.ok : EXIT_CODES.executionFailed;
  } finally {
    clearInterval(poller);
    view?.finish();
    s3Client.destroy();
    await s3.close();
    await emulator?.close();
  }
}
