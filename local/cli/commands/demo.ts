import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImageReplicationStatusCommand,
  DescribeImagesCommand,
  ImageNotFoundException,
  PutImageCommand,
  PutReplicationConfigurationCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import type { Command } from 'commander';
import { buildDockerImage, buildOciIndex, pushImage, startEcrEmulator } from '../../ecr-emulator/index.ts';
import { mediaTypes } from '../../ecr-emulator/index.ts';
import { runPolicyOf } from 'ecr-backfill';
import { planLocally, runCommand } from 'ecr-backfill/cli';
import { localEcrClients } from '../../runner/backfill-deps.ts';
import { addLocalOptions, runLocal, type LocalOptions, type LocalWorld } from './local.ts';

/**
 * The demo's input: `{}` as production would start it (method `auto`, the whole replication scope),
 * only in small batches, two at a time, so the progress display has something to show. Batch size
 * and concurrency play no part in the engine choice, so the run takes the engine `{}` would take,
 * which the demo prints before it starts (engineOfEmptyInput).
 */
export const DEMO_INPUT = { batchSize: 3, maxConcurrency: 2 };

/**
 * The engine a `{}` run would take in this world, and why: the product's own planning steps (Plan,
 * PlanSlice, FinalizePlan and its engine choice, through `planLocally`), read-only, as the
 * deployment the local run synthesizes would plan it.
 */
export async function engineOfEmptyInput(world: LocalWorld): Promise<{ method: string; reason: string }> {
  const ecr = localEcrClients(world.ecrEndpoint, world.account);
  try {
    const { planned } = await planLocally({
      input: {},
      executionName: 'demo-engine-preview',
      sourceRegion: world.sourceRegion,
      ecr: ecr.provider,
      deployment: {
        directAccounts: [...world.directAccounts],
        ...(world.props.destinationRoleArns
          ? { destinationRoleArns: [...world.props.destinationRoleArns] }
          : {}),
        runPolicy: runPolicyOf(world.props),
      },
    });
    return planned.plan.engine;
  } finally {
    ecr.destroy();
  }
}

/** The demo's preamble: which engine `{}` picks here and why, before the run starts. */
export async function describeEngineOfEmptyInput(world: LocalWorld): Promise<string> {
  try {
    const engine = await engineOfEmptyInput(world);
    return `With the input {} a run here uses the ${engine.method} engine: ${engine.reason}.\n`;
  } catch (error) {
    // The run below meets the same problem and reports it in full.
    const message = error instanceof Error ? error.message : String(error);
    return `With the input {} a run here would not start: ${message}\n`;
  }
}

/**
 * `npm run demo`: the whole backfill workflow, offline, on the demo registry (the same synthesized
 * state machine and Lambda code as a deployment; see `ecr-backfill local`). `--tour` instead walks
 * through the local ECR world by hand: an image pushed after replication is configured reaches the
 * destination by itself; one that existed before does not, until its exact manifest is re-put under a
 * temporary tag.
 */
export function registerDemoCommand(program: Command): void {
  addLocalOptions(
    program
      .command('demo')
      .description(
        'Run the backfill workflow offline on the demo registry (ecr-backfill local with a demo input); --tour explains the re-push trick step by step.',
      ),
    DEMO_INPUT,
  )
    .option(
      '--tour',
      'tour the ECR emulator instead: replication of new pushes, and the re-push trick for older images',
    )
    .option('--replication-latency-ms <n>', 'emulated replication delay (--tour)', '500')
    .action(
      async (options: LocalOptions & { tour?: boolean; replicationLatencyMs: string }, command: Command) => {
        if (!options.tour) {
          await runCommand(command, (context) =>
            runLocal(context, options, {
              defaultInput: DEMO_INPUT,
              banner:
                'ecr-backfill demo: the synthesized state machine and the real Lambda code, run offline.',
              preamble: describeEngineOfEmptyInput,
            }),
          );
          return;
        }
        const latency = Number(options.replicationLatencyMs);
        if (!Number.isInteger(latency) || latency < 0)
          throw new Error('--replication-latency-ms must be an integer >= 0');
        await runTour(latency);
      },
    );
}

const SOURCE = 'ap-south-1';
const DESTINATION = 'ap-northeast-2';
const REPOSITORY = 'shop/api';
const say = (line = '') => process.stdout.write(`${line}\n`);
const short = (digest: string | undefined) => (digest ? `${digest.slice(0, 19)}…` : '(none)');

async function digestIn(client: ECRClient, tag: string): Promise<string | undefined> {
  try {
    const out = await client.send(
      new DescribeImagesCommand({ repositoryName: REPOSITORY, imageIds: [{ imageTag: tag }] }),
    );
    return out.imageDetails?.[0]?.imageDigest;
  } catch (error) {
    if (error instanceof ImageNotFoundException || (error as Error).name === 'RepositoryNotFoundException')
      return undefined;
    throw error;
  }
}

async function runTour(latencyMs: number): Promise<void> {
  const emulator = await startEcrEmulator({ replicationLatencyMs: latencyMs });
  const source = emulator.client(SOURCE, { maxAttempts: 3 });
  const destination = emulator.client(DESTINATION, { maxAttempts: 3 });
  try {
    say(
      `ECR emulator at ${emulator.endpoint} (account ${emulator.defaultAccount}, replication latency ${latencyMs} ms)`,
    );

    // 1. An image that existed before replication was configured (seeded directly, as history).
    const legacy = buildOciIndex('demo/legacy');
    emulator.seedImage({ region: SOURCE, repository: REPOSITORY }, legacy, { tags: ['v1'] });
    say(`\n1. ${SOURCE}: ${REPOSITORY}:v1 exists already (multi-arch index ${short(legacy.digest)})`);

    // 2. Replication is configured afterwards.
    await source.send(
      new PutReplicationConfigurationCommand({
        replicationConfiguration: {
          rules: [{ destinations: [{ region: DESTINATION, registryId: emulator.defaultAccount }] }],
        },
      }),
    );
    say(`2. replication configured: ${SOURCE} → ${DESTINATION}`);

    // 3. A new push replicates by itself.
    const fresh = buildDockerImage('demo/fresh', { layers: 3 });
    await pushImage(source, REPOSITORY, fresh, { tag: 'v2' });
    say(
      `3. pushed ${REPOSITORY}:v2 through the layer API (InitiateLayerUpload/UploadLayerPart/CompleteLayerUpload/PutImage)`,
    );
    await emulator.whenReplicationIdle();
    say(`   ${DESTINATION} v2: ${short(await digestIn(destination, 'v2'))} (source ${short(fresh.digest)})`);

    // 4. The old image did not travel.
    say(
      `4. ${DESTINATION} v1: ${short(await digestIn(destination, 'v1'))}  ← missing: it predates replication`,
    );

    // 5. The trick: re-put the exact manifest under a temporary tag.
    const got = await source.send(
      new BatchGetImageCommand({
        repositoryName: REPOSITORY,
        imageIds: [{ imageDigest: legacy.digest }],
        acceptedMediaTypes: [...mediaTypes.MANIFEST_MEDIA_TYPES],
      }),
    );
    const image = got.images?.[0];
    if (!image?.imageManifest) throw new Error('BatchGetImage returned no manifest');
    const tempTag = `backfill-${Date.now().toString(36)}`;
    await source.send(
      new PutImageCommand({
        repositoryName: REPOSITORY,
        imageManifest: image.imageManifest,
        imageManifestMediaType: image.imageManifestMediaType,
        imageDigest: legacy.digest,
        imageTag: tempTag,
      }),
    );
    say(`5. re-put v1's exact manifest as ${REPOSITORY}:${tempTag}; waiting for replication…`);
    await emulator.whenReplicationIdle();
    const status = await source.send(
      new DescribeImageReplicationStatusCommand({
        repositoryName: REPOSITORY,
        imageId: { imageDigest: legacy.digest },
      }),
    );
    for (const s of status.replicationStatuses ?? [])
      say(`   replication to ${s.registryId}/${s.region}: ${s.status}`);

    // 6. Promote the original tag in the destination, then clean the temporary tag up everywhere.
    await destination.send(
      new PutImageCommand({
        repositoryName: REPOSITORY,
        imageManifest: image.imageManifest,
        imageManifestMediaType: image.imageManifestMediaType,
        imageDigest: legacy.digest,
        imageTag: 'v1',
      }),
    );
    for (const client of [destination, source]) {
      await client.send(
        new BatchDeleteImageCommand({ repositoryName: REPOSITORY, imageIds: [{ imageTag: tempTag }] }),
      );
    }
    const sourceV1 = await digestIn(source, 'v1');
    const destinationV1 = await digestIn(destination, 'v1');
    say(`6. promoted v1 in ${DESTINATION} and removed ${tempTag} in both Regions`);
    say(`\n   ${SOURCE.padEnd(15)} v1 → ${sourceV1 ?? '(none)'}`);
    say(`   ${DESTINATION.padEnd(15)} v1 → ${destinationV1 ?? '(none)'}`);
    if (!sourceV1 || sourceV1 !== destinationV1)
      throw new Error('the destination does not hold the source digest');
    say(
      `\nSame digest in both Regions. ${emulator.callLog.size} API calls were made; the full workflow automates this.`,
    );
  } finally {
    source.destroy();
    destination.destroy();
    await emulator.close();
  }
}
