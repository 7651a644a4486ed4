import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  type ExecutionListItem,
} from '@aws-sdk/client-sfn';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import {
  BatchDeleteImageCommand,
  DescribeImagesCommand,
  PutReplicationConfigurationCommand,
} from '@aws-sdk/client-ecr';
import { EcrEmulator } from '../../local/ecr-emulator/index.ts';
import { buildDockerImage, buildOciImage } from '../../local/ecr-emulator/images.ts';
import { tempTagFor } from '../../core/ecr/temp-tags.ts';
import { ecrClientProviderFor } from '../../cli/aws/aws-clients.ts';
import type { EcrClientProvider } from '../../core/deps.ts';
import { fakeTime, runCli } from './cli-harness.ts';

const SOURCE = 'ap-south-1';
const DESTINATION = 'ap-northeast-2';
const ACCOUNT = '111111111111';
const RUN = 'backfill-20260501-120000-abcdef12';
const PREFIX = 'ecr-backfill-';
const STATE_MACHINE_ARN = `arn:aws:states:${SOURCE}:${ACCOUNT}:stateMachine:EcrBackfillStateMachine`;
const executionArn = (name: string) =>
  `arn:aws:states:${SOURCE}:${ACCOUNT}:execution:EcrBackfillStateMachine:${name}`;

const kept = buildDockerImage('kept'); // a real tag besides its temp tag
const onlyTemp = buildOciImage('only-temp'); // the temp tag is its only tag
const otherRun = buildDockerImage('other-run');
const lookalike = buildDockerImage('lookalike');
const tempOf = (digest: string, run = RUN) => tempTagFor(PREFIX, run, digest);

let emulator: EcrEmulator;
let sfn: AwsClientStub<SFNClient>;

/** Step Functions with these executions RUNNING (listed), and none other found by DescribeExecution. */
function running(...names: string[]): void {
  const executions: ExecutionListItem[] = names.map((name) => ({
    name,
    executionArn: executionArn(name),
    stateMachineArn: STATE_MACHINE_ARN,
    status: 'RUNNING',
    startDate: new Date(),
  }));
  sfn.reset();
  sfn
    .on(ListExecutionsCommand, { stateMachineArn: STATE_MACHINE_ARN, statusFilter: 'RUNNING' })
    .resolves({ executions });
  sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
    const found = executions.find((e) => e.executionArn === input.executionArn);
    if (!found) throw new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} });
    return { ...found, status: 'RUNNING' };
  });
}

async function tagsOf(region: string, repositoryName: string): Promise<Record<string, string[]>> {
  const client = emulator.client(region);
  const images = await client.send(new DescribeImagesCommand({ repositoryName }));
  return Object.fromEntries(
    (images.imageDetails ?? []).map((d) => [d.imageDigest ?? '', [...(d.imageTags ?? [])].sort()]),
  );
}

beforeEach(async () => {
  emulator = await new EcrEmulator({
    account: ACCOUNT,
    quotaScale: Infinity,
    replicationLatencyMs: 0,
  }).listen(0);
  await emulator.client(SOURCE).send(
    new PutReplicationConfigurationCommand({
      replicationConfiguration: { rules: [{ destinations: [{ region: DESTINATION, registryId: ACCOUNT }] }] },
    }),
  );
  const repo = { region: SOURCE, repository: 'team/api' };
  emulator.seedImage(repo, kept, { tags: ['v1', tempOf(kept.digest)] });
  emulator.seedImage(repo, onlyTemp, { tags: [tempOf(onlyTemp.digest)] });
  emulator.seedImage(repo, otherRun, { tags: ['v2', tempOf(otherRun.digest, 'another-run')] });
  emulator.seedImage(repo, lookalike, { tags: ['v3', 'ecr-backfill-notes'] });
  emulator.seedImage({ region: DESTINATION, repository: 'team/api' }, kept, {
    tags: ['v1', tempOf(kept.digest)],
  });
  emulator.seedImage({ region: SOURCE, repository: 'other/web' }, kept, {
    tags: ['v1', tempOf(kept.digest)],
  });
  emulator.callLog.clear();
  sfn = mockClient(SFNClient);
  running();
});

afterEach(async () => {
  sfn.restore();
  await emulator.close();
});

function cli(args: string[], ecr?: (aws: { endpoint?: string }) => EcrClientProvider) {
  return runCli(
    [
      'cleanup',
      ...args,
      '--ecr-endpoint',
      emulator.endpoint,
      '--region',
      SOURCE,
      '--state-machine-arn',
      STATE_MACHINE_ARN,
    ],
    {
      ...(ecr ? { context: { ecr } } : {}),
    },
  );
}

describe('ecr-backfill cleanup', () => {
  it('dry run lists what it would delete and keep, and writes nothing', async () => {
    // Act
    const run = await cli(['--run', RUN, '--repository', 'team/']);

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('Dry run');
    expect(run.stdout).toMatch(
      new RegExp(
        `source ${ACCOUNT}/${SOURCE}\\s+team/api\\s+sha256:\\S+\\s+${tempOf(kept.digest)}\\s+would delete`,
      ),
    );
    expect(run.stdout).toMatch(
      new RegExp(`destination ${ACCOUNT}/${DESTINATION}\\s+team/api.*${tempOf(kept.digest)}\\s+would delete`),
    );
    expect(run.stdout).toMatch(
      new RegExp(`${tempOf(onlyTemp.digest)}\\s+kept\\s+only tag\\(s\\) of the image`),
    );
    expect(run.stdout).not.toContain('another-run');
    expect(run.stdout).not.toContain('ecr-backfill-notes');
    expect(run.stdout).not.toContain('other/web');
    expect(run.stdout).toContain('2 temp tag(s) would be deleted, 1 kept. Nothing was deleted');
    const writes = emulator.callLog.entries().filter((e) => !/^(Describe|List|BatchGet)/.test(e.operation));
    expect(writes).toEqual([]);
  });

  it('--yes deletes the run’s temp tags where another tag remains, never an image’s last tag', async () => {
    // Act
    const run = await cli(['--run', RUN, '--yes']);

    // Assess
    expect(run.exitCode).toBe(0);
    const source = await tagsOf(SOURCE, 'team/api');
    expect(source[kept.digest]).toEqual(['v1']);
    expect(source[onlyTemp.digest]).toEqual([tempOf(onlyTemp.digest)]);
    expect(source[otherRun.digest]).toEqual([tempOf(otherRun.digest, 'another-run'), 'v2'].sort());
    expect(source[lookalike.digest]).toEqual(['ecr-backfill-notes', 'v3']);
    expect((await tagsOf(DESTINATION, 'team/api'))[kept.digest]).toEqual(['v1']);
    expect((await tagsOf(SOURCE, 'other/web'))[kept.digest]).toEqual(['v1']);
    expect(run.stdout).toContain('3 temp tag(s) deleted, 1 kept, 0 failed.');
    const deletes = emulator.callLog.entries({ operation: 'BatchDeleteImage' });
    expect(deletes.flatMap((e) => e.params.imageIds ?? [])).not.toContain(tempOf(onlyTemp.digest));
  });

  it('keeps a look-alike tag: the shape of a temp tag, but not naming the image it is on', async () => {
    // Prepare: a real tag with the run's exact prefix and run part, and another image's digest; and a
    // tag of another run's shape with this image's digest, which `--run` must not take either.
    const mimic = buildDockerImage('mimic');
    const lookalikeTag = tempOf(kept.digest);
    emulator.seedImage({ region: SOURCE, repository: 'team/mimic' }, mimic, {
      tags: ['v1', lookalikeTag, tempOf(mimic.digest, 'another-run')],
    });

    // Act
    const run = await cli(['--run', RUN, '--repository', 'team/mimic', '--yes']);

    // Assess
    expect(run.exitCode).toBe(0);
    expect((await tagsOf(SOURCE, 'team/mimic'))[mimic.digest]).toEqual(
      ['v1', lookalikeTag, tempOf(mimic.digest, 'another-run')].sort(),
    );
    expect(emulator.callLog.entries({ operation: 'BatchDeleteImage' })).toEqual([]);
    expect(run.stdout).toContain('No temp tags found.');
  });

  it('re-reads the tags right before deleting: a tag removed meanwhile makes the temp tag the last one, so it stays', async () => {
    // Prepare: someone deletes `v1` between the listing and the delete.
    let raced = false;
    const racing = (aws: { endpoint?: string }): EcrClientProvider => {
      const provider = ecrClientProviderFor(aws);
      const source = provider({ region: SOURCE });
      const send = source.send.bind(source) as (command: unknown) => Promise<unknown>;
      source.send = (async (command: unknown) => {
        if (!raced && command instanceof DescribeImagesCommand && command.input.imageIds) {
          raced = true;
          await emulator
            .client(SOURCE)
            .send(
              new BatchDeleteImageCommand({ repositoryName: 'team/api', imageIds: [{ imageTag: 'v1' }] }),
            );
        }
        return send(command);
      }) as typeof source.send;
      return provider;
    };

    // Act
    const run = await cli(['--run', RUN, '--repository', 'team/api', '--yes'], racing);

    // Assess
    expect(raced).toBe(true);
    expect((await tagsOf(SOURCE, 'team/api'))[kept.digest]).toEqual([tempOf(kept.digest)]);
    expect(run.stdout).toMatch(new RegExp(`${tempOf(kept.digest)}\\s+kept\\s+only tag`));
  });

  it('--older-than selects temp tags of any run on images pushed before the cutoff', async () => {
    // Prepare
    const time = fakeTime(Date.now());
    emulator.seedImage({ region: SOURCE, repository: 'old/app' }, buildDockerImage('old'), {
      tags: ['v1', tempOf(buildDockerImage('old').digest, 'ancient-run')],
      pushedAt: time.now - 10 * 86_400_000,
    });

    // Act
    const run = await runCli(
      [
        'cleanup',
        '--older-than',
        '7d',
        '--ecr-endpoint',
        emulator.endpoint,
        '--region',
        SOURCE,
        '--state-machine-arn',
        STATE_MACHINE_ARN,
        '--json',
      ],
      { time },
    );

    // Assess
    expect(run.exitCode).toBe(0);
    const report = JSON.parse(run.stdout) as {
      dryRun: boolean;
      entries: { repositoryName: string; action: string }[];
    };
    expect(report.dryRun).toBe(true);
    expect(report.entries).toEqual([
      expect.objectContaining({ repositoryName: 'old/app', action: 'would-delete' }),
    ]);
  });

  it('requires exactly one of --run and --older-than', async () => {
    const run = await cli([]);

    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('--run <id> or --older-than <duration>');
    expect(emulator.callLog.size).toBe(0);
  });

  it('refuses a repository pattern with more wildcards than allowed, before any ECR call', async () => {
    const run = await cli(['--run', RUN, '--repository', `team/${'*a'.repeat(17)}`]);

    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('must have at most 16 wildcards (* ?), has 17');
    expect(emulator.callLog.size).toBe(0);
  });

  it('rejects a malformed duration', async () => {
    const run = await cli(['--older-than', 'seven days']);

    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('invalid duration "seven days"');
  });

  it.each(['', 'v', 'v1.', 'latest-'])(
    'refuses a temp-tag prefix that could match tags users pull (%j), before any ECR call',
    async (prefix) => {
      const run = await cli(['--older-than', '7d', '--temp-tag-prefix', prefix, '--yes']);

      expect(run.exitCode).toBe(2);
      expect(run.stderr).toContain('--temp-tag-prefix');
      expect(emulator.callLog.size).toBe(0);
    },
  );

  it('explains an unreachable endpoint', async () => {
    const endpoint = emulator.endpoint;
    await emulator.close();

    const run = await runCli([
      'cleanup',
      '--run',
      RUN,
      '--ecr-endpoint',
      endpoint,
      '--region',
      SOURCE,
      '--state-machine-arn',
      STATE_MACHINE_ARN,
    ]);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`cannot reach ${endpoint}`);
    expect(run.stderr).toContain('Is the emulator running');
    emulator = await new EcrEmulator().listen(0);
  });
});

describe('ecr-backfill cleanup spares the temp tags of running runs', () => {
  it('refuses --run of a run still RUNNING, before any ECR call', async () => {
    // Prepare
    running(RUN);

    // Act
    const run = await cli(['--run', RUN, '--yes']);

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`Run ${RUN} is still RUNNING (${executionArn(RUN)})`);
    expect(run.stderr).toContain('Nothing was read or deleted');
    expect(emulator.callLog.size).toBe(0);
    expect((await tagsOf(SOURCE, 'team/api'))[kept.digest]).toEqual(['v1', tempOf(kept.digest)].sort());
  });

  it('reads the named execution itself: one the eventually consistent listing misses is refused too', async () => {
    // Prepare: started a moment ago, not listed yet, but DescribeExecution says RUNNING.
    running();
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(RUN) }).resolves({
      executionArn: executionArn(RUN),
      name: RUN,
      status: 'RUNNING',
      stateMachineArn: STATE_MACHINE_ARN,
      startDate: new Date(),
    });

    // Act
    const run = await cli(['--run', RUN, '--yes']);

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('still RUNNING');
    expect(emulator.callLog.entries({ operation: 'BatchDeleteImage' })).toEqual([]);
  });

  it('--force deletes a running run’s temp tags without asking Step Functions', async () => {
    // Prepare
    running(RUN);

    // Act
    const run = await cli(['--run', RUN, '--yes', '--force']);

    // Assess
    expect(run.exitCode).toBe(0);
    expect((await tagsOf(SOURCE, 'team/api'))[kept.digest]).toEqual(['v1']);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('--older-than keeps the temp tags of a running run and deletes those of an ended one', async () => {
    // Prepare: two old images (a re-tag leaves imagePushedAt alone), one per run.
    const time = fakeTime(Date.now());
    const ended = buildDockerImage('ended-run');
    const live = buildDockerImage('live-run');
    const old = { pushedAt: time.now - 10 * 86_400_000 };
    emulator.seedImage({ region: SOURCE, repository: 'old/app' }, ended, {
      tags: ['v1', tempOf(ended.digest, 'ended-run')],
      ...old,
    });
    emulator.seedImage({ region: SOURCE, repository: 'old/app' }, live, {
      tags: ['v2', tempOf(live.digest, 'live-run')],
      ...old,
    });
    running('live-run');

    // Act
    const run = await runCli(
      [
        'cleanup',
        '--older-than',
        '7d',
        '--repository',
        'old/',
        '--yes',
        '--ecr-endpoint',
        emulator.endpoint,
        '--region',
        SOURCE,
        '--state-machine-arn',
        STATE_MACHINE_ARN,
      ],
      { time },
    );

    // Assess
    expect(run.exitCode).toBe(0);
    const tags = await tagsOf(SOURCE, 'old/app');
    expect(tags[ended.digest]).toEqual(['v1']);
    expect(tags[live.digest]).toEqual([tempOf(live.digest, 'live-run'), 'v2'].sort());
    expect(run.stdout).toMatch(
      new RegExp(`${tempOf(live.digest, 'live-run')}\\s+kept\\s+its run is still RUNNING \\(live-run\\)`),
    );
    expect(run.stdout).toContain('1 temp tag(s) deleted, 1 kept, 0 failed.');
  });

  it('refuses when it cannot tell whether a run is going, and says --force skips the check', async () => {
    // Prepare: no state machine of that stack in this Region.
    sfn.reset();
    sfn.on(ListStateMachinesCommand).resolves({ stateMachines: [] });

    // Act
    const run = await runCli([
      'cleanup',
      '--run',
      RUN,
      '--yes',
      '--ecr-endpoint',
      emulator.endpoint,
      '--region',
      SOURCE,
      '--stack-name',
      'Elsewhere',
    ]);

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('Cannot tell whether a run is still going');
    expect(run.stderr).toContain('No state machine of stack "Elsewhere"');
    expect(run.stderr).toContain('--force');
    expect(emulator.callLog.size).toBe(0);
  });
});
