/** `ecr-backfill local` and `demo`, driven in-process: the embedded emulator and the demo registry. */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEcrEmulator, type EcrEmulator } from '../../local/ecr-emulator/index.ts';
import { buildDemoRegistry, DEMO_SOURCE_REGION } from '../../local/demo-registry.ts';
import { runCli } from '../cli/cli-harness.ts';

// The CLI measures elapsed time with the context clock: a real one here.
const realTime = () => ({
  now: Date.now(),
  clock: { now: () => Date.now() },
  sleeps: [] as number[],
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
});

/** Real files (the reports the command keeps). */
const realFiles = {
  readTextFile: (path: string) => readFile(path, 'utf8'),
  writeTextFile: async (path: string, text: string) => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text, 'utf8');
  },
};

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ecr-backfill-local-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function emulator(options: Parameters<typeof startEcrEmulator>[0]): Promise<EcrEmulator> {
  const started = await startEcrEmulator(options);
  cleanups.push(() => started.close());
  return started;
}

describe('ecr-backfill local', () => {
  it('runs the workflow on the demo registry and prints one JSON document with --json', async () => {
    // Prepare
    const out = await tempDir();

    // Act
    const run = await runCli(
      ['local', '--json', '--out', out, '--input', '{"batchSize":4,"maxConcurrency":2,"method":"repush"}'],
      { time: realTime(), context: realFiles },
    );

    // Assess
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const result = JSON.parse(run.stdout) as {
      status: string;
      transitions: number;
      invocations: Record<string, number>;
      report: { summary: { counts: Record<string, number> }; rows: unknown[] };
      ecrCalls: number;
      reportFiles: string[];
    };
    expect(result.status).toBe('SUCCEEDED');
    expect(result.report.summary.counts.BACKFILLED).toBeGreaterThan(0);
    expect(result.report.rows.length).toBeGreaterThan(0);
    expect(result.invocations.PushTempTags).toBe(2);
    expect(result.ecrCalls).toBeGreaterThan(0);
    expect(result.reportFiles.map((file) => file.replace(`${out}/`, ''))).toEqual([
      'report.json',
      'report.csv',
      'report.md',
    ]);
  });

  it('draws a progress bar on a terminal, then the report table, and exits 3 when the run fails', async () => {
    // Prepare
    const out = await tempDir();

    // Act
    const ok = await runCli(['demo', '--out', out], { tty: true, time: realTime(), context: realFiles });
    const failed = await runCli(['local', '--input', '{"batchSize":0}'], { time: realTime() });

    // Assess
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain('\r\u001b[2K');
    expect(ok.stdout).toMatch(/\[█+\] 100% \(done\)/);
    expect(ok.stdout).toMatch(/Outcome\s+Count/);
    // The demo says, before it runs, which engine `{}` picks in its world and why (its signed images'
    // referrers keep `auto` off the native backfill); its run, `{}` in small batches, takes that engine.
    const preview =
      'With the input {} a run here uses the repush engine: method auto: 7 referrer copies (signatures, SBOMs, attestations) are missing in the destinations';
    expect(ok.stdout).toContain(preview);
    expect(ok.stdout.indexOf(preview)).toBeLessThan(
      ok.stdout.indexOf('Input: {"batchSize":3,"maxConcurrency":2}'),
    );
    expect(ok.stdout).toContain('Engine: repush (method auto: 7 referrer copies');
    expect(ok.stdout).toMatch(/shop\/api\s+v1\.5\.1\s+222222222222\/eu-west-1\s+BACKFILLED/);
    expect(failed.exitCode).toBe(3);
    expect(failed.stdout).toMatch(/FAILED/);
    expect(failed.stdout).toContain('Error: InvalidInput in Plan');
    expect(failed.stdout).toContain('The input has these problems:');
  });

  it('runs what the deployment allows: -c allowedStrategies widens the run policy to retag-source', async () => {
    // Prepare
    const out = await tempDir();
    const input = '{"strategy":"retag-source","method":"repush"}';

    // Act
    const refused = await runCli(['local', '--out', out, '--input', input], { time: realTime() });
    const allowed = await runCli(
      [
        'local',
        '--json',
        '--out',
        out,
        '--context',
        'allowedStrategies=promote,retag-source',
        '--input',
        input,
      ],
      { time: realTime(), context: realFiles },
    );

    // Assess: the default policy refuses it, as one whole problem…
    expect(refused.exitCode).toBe(3);
    expect(refused.stdout).toContain(
      `  - strategy: "retag-source" is not allowed by this deployment's run policy (allowed: promote - the construct's allowedStrategies)\n`,
    );
    // …and the deployment's context runs it: the source tags are retagged, every tag lands.
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    const result = JSON.parse(allowed.stdout) as {
      status: string;
      invocations: Record<string, number>;
      report: { summary: { counts: Record<string, number> } };
    };
    expect(result.status).toBe('SUCCEEDED');
    expect(result.invocations.RetagSourceTags).toBeGreaterThan(0);
    expect(result.report.summary.counts.BACKFILLED).toBeGreaterThan(0);
    expect(result.report.summary.counts.FAILED ?? 0).toBe(0);
  });

  it("runs with the deployment's repositoryScope, and names a bad context value without running", async () => {
    // Prepare
    const out = await tempDir();

    // Act
    const scoped = await runCli(
      ['local', '--json', '--out', out, '-c', 'repositoryScope=shop/*', '--input', '{"method":"repush"}'],
      { time: realTime(), context: realFiles },
    );
    const outside = await runCli(
      ['local', '-c', 'repositoryScope=shop/*', '--input', '{"repositories":["platform/*"]}'],
      { time: realTime() },
    );
    const bad = await runCli(['local', '-c', 'allowedStrategies=promote,teleport'], { time: realTime() });

    // Assess
    expect(scoped.exitCode, scoped.stderr).toBe(0);
    const result = JSON.parse(scoped.stdout) as {
      report: { rows: { repositoryName: string }[] };
    };
    const repositories = new Set(result.report.rows.map((row) => row.repositoryName));
    expect([...repositories].sort()).toEqual(['shop/api', 'shop/payments-worker', 'shop/web']);
    expect(outside.exitCode).toBe(3);
    expect(outside.stdout).toContain('Error: InvalidInput in Plan');
    expect(outside.stdout).toMatch(/repositories.*shop\/\*/);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('The deployment context has problems:');
    expect(bad.stderr).toContain('Context "allowedStrategies"');
    expect(bad.stderr).toContain('(got teleport)');
  });

  it.each([
    ['--input', '{"repositories":["shop/nope"]}'],
    // The selection flags of plan and start, which local takes too.
    ['--repository', 'shop/nope'],
  ])(
    'says a repository filter (%s %s) matched nothing, never "already present", and does not redrive it',
    async (flag, value) => {
      // Act
      const run = await runCli(['local', flag, value, '--max-redrives', '2'], {
        time: realTime(),
      });

      // Assess
      expect(run.exitCode).toBe(3);
      expect(run.stdout).toContain('Error: NothingMatched in Plan');
      expect(run.stdout).toContain('repositories: "shop/nope" matched none of the');
      expect(run.stdout).toMatch(/Nearby: shop\//);
      expect(run.stdout).toContain('What to do: Fix the filter');
      expect(run.stdout).toContain('Not redriven (--max-redrives 2)');
      expect(run.stdout).not.toMatch(/ALREADY_PRESENT|already in every destination|SUCCEEDED/);
    },
  );

  it('does not redrive a configuration error: names ReplicationNotConfigured and what to do, without JSON or a stack trace', async () => {
    // Prepare: an emulator whose registry has no replication configuration at all.
    const bare = await emulator({ replicationLatencyMs: 0 });

    // Act
    const run = await runCli(
      ['local', '--ecr-endpoint', bare.endpoint, '--region', 'ap-south-1', '--max-redrives', '3'],
      { time: realTime() },
    );

    // Assess
    expect(run.exitCode).toBe(3);
    expect(run.stdout).toContain('Error: ReplicationNotConfigured in Plan');
    expect(run.stdout).toContain('What to do: Configure replication');
    expect(run.stdout).toContain('Not redriven (--max-redrives 3)');
    expect(run.stdout).not.toMatch(/redrive \d\/3/i);
    expect(run.stdout).toContain('Lambda: 1 invocations (Plan 1)');
    expect(run.stdout).not.toContain('{"');
    expect(run.stdout).not.toContain('errorType');
    expect(run.stdout).not.toMatch(/^\s+at /m);
    expect(run.stderr).toBe('');
  });

  it('says which source Region it assumed when none was given', async () => {
    // Prepare
    const bare = await emulator({ replicationLatencyMs: 0 });
    const saved = process.env.AWS_REGION;
    delete process.env.AWS_REGION;
    cleanups.push(() => {
      if (saved !== undefined) process.env.AWS_REGION = saved;
      return Promise.resolve();
    });

    // Act
    const run = await runCli(['local', '--ecr-endpoint', bare.endpoint], { time: realTime() });

    // Assess
    expect(run.stdout).toContain(
      'source Region us-east-1, assumed: no --region given and AWS_REGION is not set',
    );
    expect(run.stdout).toContain('if the registry is in another Region, pass --region <region>');
  });

  it('shows progress strictly between 0 and the total within a single batch, per destination', async () => {
    // Prepare: the demo registry at ECR's default quotas (PutImage 10/s), so the batch's 29 tag
    // puts take seconds, whatever the machine's speed: progress is recorded at most every 2 s.
    const world = await emulator({
      fixture: buildDemoRegistry(),
      replicationLatencyMs: 300,
      quotaScale: 1,
    });

    // Act: the demo registry's 8 images in one batch.
    const run = await runCli(
      [
        'local',
        '--ecr-endpoint',
        world.endpoint,
        '--region',
        DEMO_SOURCE_REGION,
        '--out',
        await tempDir(),
        '--input',
        '{"batchSize":100,"maxConcurrency":1,"method":"repush"}',
      ],
      { time: realTime(), context: realFiles },
    );

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/BackfillImages: 0\/8 BackfillImages items/);
    expect(run.stdout).toMatch(/PushTempTags 1\b/);
    const during = [...run.stdout.matchAll(/^BackfillImages: (\d+)% \(/gm)].map((m) => Number(m[1]));
    expect(during.some((p) => p > 0 && p < 100)).toBe(true);
    // The last progress line (whatever phase the execution is in by then) shows where the batches ended.
    const every = [...run.stdout.matchAll(/^\w+: (\d+)% \(/gm)].map((m) => Number(m[1]));
    expect(every.at(-1)).toBe(100);
    // The finished run's status is shown once, with the batches' last records: never
    // "SUCCEEDED: 85% (promoting)" before "100% (done)".
    expect([...run.stdout.matchAll(/^SUCCEEDED: .*$/gm)].map((m) => m[0].split(' | ')[0])).toEqual([
      'SUCCEEDED: 100% (done)',
    ]);
    expect(run.stdout).toMatch(/111111111111\/ap-northeast-2 0\/17 tags, \d\/7 images/);
    expect(run.stdout).toMatch(/111111111111\/ap-northeast-2 17\/17 tags, 7\/7 images/);
  });
});

describe('ecr-backfill demo --out', () => {
  it('leaves report.json, report.csv and a Markdown summary in the directory', async () => {
    // Prepare
    const out = join(await tempDir(), 'reports');

    // Act
    const run = await runCli(['demo', '--out', out], { time: realTime(), context: realFiles });

    // Assess
    expect(run.exitCode).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['report.csv', 'report.json', 'report.md']);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as {
      summary: { status: string; counts: Record<string, number> };
    };
    expect(report.summary.status).toBe('SUCCEEDED');
    const csv = (await readFile(join(out, 'report.csv'), 'utf8')).split('\r\n').filter(Boolean);
    expect(csv[0]).toBe(
      'repository,digest,tag,destination_region,destination_registry_id,outcome,detail,artifact_type,referrer_of',
    );
    // Every tag the plan saw has its row, whatever its outcome (issue 23): the demo registry has
    // tags already in a destination and repositories no rule covers, besides the backfilled ones.
    // The demo's rows hold no commas, so a field is what lies between two. A referrer's row (its
    // subject in referrer_of) is counted in summary.referrers, not in counts: only tag rows here.
    const tagRows = csv.slice(1).filter((line) => line.split(',')[8] === '');
    const rowsPer = (outcome: string) => tagRows.filter((line) => line.split(',')[5] === outcome).length;
    for (const outcome of ['BACKFILLED', 'ALREADY_PRESENT', 'NOT_COVERED']) {
      expect(report.summary.counts[outcome], outcome).toBeGreaterThan(0);
      expect(rowsPer(outcome), outcome).toBe(report.summary.counts[outcome]);
    }
    const markdown = await readFile(join(out, 'report.md'), 'utf8');
    expect(markdown).toMatch(/^# ecr-backfill report: /);
    // It points at the kept report.json: the run bucket went with the local S3.
    expect(markdown).toContain(`Full report: \`${join(out, 'report.json')}\``);
    expect(markdown).not.toContain('s3://');
    expect(run.stdout).toContain(`Report: ${join(out, 'report.json')}`);
  });
});

describe('ecr-backfill local: a dry run with --out', () => {
  it('writes its plan there: a PLANNED row per tag to put, and the rows of what it leaves alone', async () => {
    // Prepare
    const out = join(await tempDir(), 'dry');

    // Act
    const run = await runCli(['local', '--input', '{"dryRun":true}', '--out', out], {
      time: realTime(),
      context: realFiles,
    });

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('Dry run: nothing was written.');
    expect(run.stdout).toContain(`Plan report: ${join(out, 'report.json')}`);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as {
      summary: { status: string; counts: Record<string, number> };
      rows: { outcome: string; referrerOf?: string }[];
    };
    expect(report.summary.status).toBe('DRY_RUN');
    const outcomes = new Set(report.rows.map((row) => row.outcome));
    expect(outcomes).toEqual(new Set(['PLANNED', 'ALREADY_PRESENT', 'NOT_COVERED']));
    // A referrer's row is counted in summary.referrers, not in counts: only tag rows here.
    const tagRows = report.rows.filter((row) => row.referrerOf === undefined);
    expect(tagRows.filter((row) => row.outcome === 'PLANNED')).toHaveLength(report.summary.counts.PLANNED!);
  });
});
