import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PutReplicationConfigurationCommand } from '@aws-sdk/client-ecr';
import { EcrEmulator } from '../../local/ecr-emulator/index.ts';
import { buildDockerImage, buildOciIndex } from '../../local/ecr-emulator/images.ts';
import { runCli } from './cli-harness.ts';

const SOURCE = 'ap-south-1';
const SEOUL = 'ap-northeast-2';
const ACCOUNT = '111111111111';

let emulator: EcrEmulator;

beforeEach(async () => {
  emulator = await new EcrEmulator({
    account: ACCOUNT,
    quotaScale: Infinity,
    replicationLatencyMs: 0,
  }).listen(0);
  await emulator.client(SOURCE).send(
    new PutReplicationConfigurationCommand({
      replicationConfiguration: {
        rules: [
          {
            destinations: [{ region: SEOUL, registryId: ACCOUNT }],
            repositoryFilters: [{ filter: 'team/', filterType: 'PREFIX_MATCH' }],
          },
        ],
      },
    }),
  );
  const api = buildDockerImage('api-1');
  const web = buildOciIndex('web-1');
  const present = buildDockerImage('present');
  const diverged = buildDockerImage('diverged');
  const elsewhere = buildDockerImage('elsewhere');
  emulator.seedImage({ region: SOURCE, repository: 'team/api' }, api, { tags: ['v1', 'latest'] });
  emulator.seedImage({ region: SOURCE, repository: 'team/web' }, web, { tags: ['v2'] });
  emulator.seedImage({ region: SOURCE, repository: 'team/web' }, present, { tags: ['v0'] });
  emulator.seedImage({ region: SEOUL, repository: 'team/web' }, present, { tags: ['v0'] });
  emulator.seedImage({ region: SOURCE, repository: 'team/web' }, diverged, { tags: ['stable'] });
  emulator.seedImage({ region: SEOUL, repository: 'team/web' }, elsewhere, { tags: ['stable'] });
  emulator.seedImage({ region: SOURCE, repository: 'legacy/app' }, buildDockerImage('legacy'), {
    tags: ['v9'],
  });
  emulator.callLog.clear();
});

afterEach(async () => {
  await emulator.close();
});

const READ_ONLY = /^(Describe|List|BatchGet|BatchCheckLayerAvailability|GetAuthorizationToken)/;

/** `ecr-backfill plan` against this test's emulator and source Region, with the test's own flags. */
const runPlan = (...flags: string[]) =>
  runCli(['plan', '--ecr-endpoint', emulator.endpoint, '--region', SOURCE, ...flags]);

describe('ecr-backfill plan', () => {
  it('reports per destination what is missing, present, diverged and not covered, with zero ECR writes', async () => {
    // Act
    const run = await runPlan('--json');

    // Assess
    expect(run.stderr).not.toContain('ecr-backfill:');
    expect(run.exitCode).toBe(0);
    const result = JSON.parse(run.stdout) as {
      plan: {
        items: number;
        counts: Record<string, number>;
        putImageCalls: Record<string, number>;
        estimatedCostUsd: number;
      };
      destinations: { region: string; imagesToReplicate: number; imagesToTag: number; tagsToPut: number }[];
    };
    expect(result.plan.counts).toMatchObject({
      MISSING: 3,
      CONFLICT: 1,
      ALREADY_PRESENT: 1,
      NOT_COVERED_REPOSITORIES: 1,
    });
    // The diverged image's only tag is a plan-time CONFLICT: it is reported, not pushed.
    expect(result.plan.items).toBe(2);
    expect(result.destinations).toEqual([
      { region: SEOUL, registryId: ACCOUNT, imagesToReplicate: 2, imagesToTag: 0, tagsToPut: 3 },
    ]);
    // promote: one temp tag per digest in the source, one put per tag in the destination.
    expect(result.plan.putImageCalls).toEqual({ [SOURCE]: 2, [SEOUL]: 3 });
    expect(result.plan.estimatedCostUsd).toBeGreaterThan(0);
    const writes = emulator.callLog.entries().filter((entry) => !READ_ONLY.test(entry.operation));
    expect(writes).toEqual([]);
    expect(emulator.callLog.count({ operation: 'DescribeImages' })).toBeGreaterThan(0);
  });

  it('prints readable tables and the duration at the given PutImage quota', async () => {
    const run = await runPlan(
      '--repository',
      'team/api',
      '--put-image-rate',
      '1',
      '--replication-wait-seconds',
      '10',
    );

    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`Plan for ${ACCOUNT}/${SOURCE} (read-only: nothing was written to ECR)`);
    expect(run.stdout).toMatch(/MISSING\s+2/);
    expect(run.stdout).toMatch(new RegExp(`${ACCOUNT}/${SEOUL}\\s+1\\s+0\\s+2`));
    // Busiest Region: 2 PutImage calls at 1/s, plus one replication wait of 10 s.
    expect(run.stdout).toContain('Duration at current quotas: at least 12s');
    expect(run.stdout).toContain('PutImage at 1/s');
  });

  it('writes every row it saw with --out: PLANNED work, ALREADY_PRESENT and CONFLICT', async () => {
    // Prepare: files land in memory.
    const files = new Map<string, string>();
    const writeTextFile = (path: string, text: string) => {
      files.set(path, text);
      return Promise.resolve();
    };

    // Act
    const run = await runCli(
      ['plan', '--ecr-endpoint', emulator.endpoint, '--region', SOURCE, '--out', '/plans/p1'],
      { context: { writeTextFile } },
    );

    // Assess: the same rows a dry run's report has, one per repository, digest, tag and destination.
    expect(run.exitCode).toBe(0);
    expect([...files.keys()]).toEqual(['/plans/p1/report.json', '/plans/p1/report.csv']);
    const report = JSON.parse(files.get('/plans/p1/report.json')!) as {
      rows: { repositoryName: string; tag: string; outcome: string }[];
    };
    expect(report.rows.map((r) => `${r.repositoryName}:${r.tag} ${r.outcome}`).sort()).toEqual([
      'team/api:latest PLANNED',
      'team/api:v1 PLANNED',
      'team/web:stable CONFLICT',
      'team/web:v0 ALREADY_PRESENT',
      'team/web:v2 PLANNED',
    ]);
    expect(files.get('/plans/p1/report.csv')!.split('\r\n').filter(Boolean)).toHaveLength(1 + 5);
    expect(run.stdout).toContain('Plan rows: /plans/p1/report.json, /plans/p1/report.csv');
    // The exact start command, without the emulator's endpoint (start runs the deployed stack).
    expect(run.stdout).toContain(`ecr-backfill start --stack-name <stack> --region ${SOURCE} --watch`);
    expect(run.stdout).not.toMatch(/start .*--ecr-endpoint/);
  });

  it('suggests the start command with the same input', async () => {
    const run = await runPlan('--repository', 'team/api');

    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(
      `ecr-backfill start --stack-name <stack> --region ${SOURCE} --input '{"repositories":["team/api"]}' --watch`,
    );
  });

  it('rejects invalid input before any ECR call', async () => {
    const run = await runPlan('--latest', '0');

    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('- latestPerRepository: must be ≥ 1 (got 0)');
    expect(emulator.callLog.size).toBe(0);
  });

  it('names a destination the replication configuration does not have', async () => {
    const run = await runPlan('--destination', 'eu-west-1');

    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('The input does not fit this registry.');
    expect(run.stderr).toMatch(/destinations\[0\].*eu-west-1/);
  });

  it('says a repository filter matched nothing, naming what exists nearby, with exit code 6', async () => {
    const run = await runPlan('--repository', 'team/nope');

    expect(run.exitCode).toBe(6);
    expect(run.stderr).toContain('The repositories filter matched nothing');
    expect(run.stderr).toContain('Did you mean one of: team/api, team/web');
    expect(run.stdout + run.stderr).not.toContain('already in every destination');
  });

  it('says a tag filter matched nothing, naming the nearest tags', async () => {
    const run = await runPlan('--tag', 'v3', '--json');

    expect(run.exitCode).toBe(6);
    expect(run.stderr).toContain('The tags filter matched nothing');
    expect(run.stderr).toMatch(/Did you mean one of: .*v0/);
    expect(run.stdout).toBe('');
  });

  it('a wrong --region (no registry there) suggests checking the Region', async () => {
    const run = await runCli([
      'plan',
      '--ecr-endpoint',
      emulator.endpoint,
      '--region',
      'eu-central-1',
      '--repository',
      'team/api',
    ]);

    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toMatch(/check the source Region \(eu-central-1\): pass --region/i);
    expect(run.stdout + run.stderr).not.toContain('already in every destination');
  });

  it('explains a selection no replication rule covers', async () => {
    const run = await runPlan('--repository', 'legacy/');

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('Add replication rules');
    // A registry planned in the wrong Region looks the same: the hint names the Region used.
    expect(run.stderr).toContain(`Or check the source Region (${SOURCE}): pass --region`);
  });

  it("finishes on the security review's ReDoS tag pattern against 128-character tags, within seconds", async () => {
    // Prepare: tags of ECR's maximum length, the shape that made the old regex backtrack for minutes.
    emulator.seedImage({ region: SOURCE, repository: 'team/long' }, buildDockerImage('long'), {
      tags: ['a'.repeat(128), `${'a'.repeat(127)}b`],
    });
    const started = Date.now();

    // Act
    const run = await runPlan('--tag', '*a*a*a*a*a*a*a*b', '--repository', 'team/long', '--json');

    // Assess: planned (only the tag that matches), in seconds rather than minutes.
    expect(run.exitCode).toBe(0);
    const report = JSON.parse(run.stdout) as { destinations: { tagsToPut: number }[] };
    expect(report.destinations[0]?.tagsToPut).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('refuses a tag pattern with more wildcards than allowed, before any ECR call', async () => {
    const run = await runPlan('--tag', '*a'.repeat(17));

    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('- tags[0]: must have at most 16 wildcards (* ?), has 17');
    expect(emulator.callLog.size).toBe(0);
  });

  it("refuses a maxConcurrency above the default construct's limit, naming it, before any ECR call", async () => {
    const run = await runPlan('--input', '{"maxConcurrency":10000}');

    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("- maxConcurrency: must be ≤ 600, this deployment's limit (got 10000;");
    expect(emulator.callLog.size).toBe(0);
  });
});
