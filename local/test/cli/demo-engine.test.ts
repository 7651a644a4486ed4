/**
 * The demo's engine preview (`engineOfEmptyInput`) is the product's own choice for `{}`, not a fixed
 * line: a world where `{}` is the whole replication scope and nothing blocks the native backfill gets
 * `native`; the same world with a destination tag at another digest gets `repush`, for that reason.
 */
import { PutReplicationConfigurationCommand } from '@aws-sdk/client-ecr';
import { afterEach, describe, expect, it } from 'vitest';
import { buildDockerImage, startEcrEmulator, type EcrEmulator } from '../../ecr-emulator/index.ts';
import { engineOfEmptyInput } from '../../cli/commands/demo.ts';

const SOURCE = 'ap-south-1';
const DESTINATION = 'ap-northeast-2';

let emulator: EcrEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function worldWithOneImage(): Promise<EcrEmulator> {
  const started = await startEcrEmulator({ replicationLatencyMs: 0 });
  started.seedImage({ region: SOURCE, repository: 'shop/api' }, buildDockerImage('shop/api:v1'), {
    tags: ['v1'],
  });
  const client = started.client(SOURCE, { maxAttempts: 1 });
  await client.send(
    new PutReplicationConfigurationCommand({
      replicationConfiguration: {
        rules: [{ destinations: [{ region: DESTINATION, registryId: started.defaultAccount }] }],
      },
    }),
  );
  client.destroy();
  return started;
}

const worldOf = (started: EcrEmulator) => ({
  ecrEndpoint: started.endpoint,
  sourceRegion: SOURCE,
  account: started.defaultAccount,
  directAccounts: [],
  props: {},
});

describe("the demo's preview of the engine {} picks", () => {
  it('is native where {} covers the whole replication scope and nothing blocks a backfill', async () => {
    // Prepare
    emulator = await worldWithOneImage();

    // Act
    const engine = await engineOfEmptyInput(worldOf(emulator));

    // Assess
    expect(engine.method).toBe('native');
    expect(engine.reason).toContain('the selection is the whole replication scope');
  }, 60_000);

  it('is repush, saying why, where a destination tag points to another digest', async () => {
    // Prepare
    emulator = await worldWithOneImage();
    emulator.seedImage({ region: DESTINATION, repository: 'shop/api' }, buildDockerImage('other:v1'), {
      tags: ['v1'],
    });

    // Act
    const engine = await engineOfEmptyInput(worldOf(emulator));

    // Assess
    expect(engine.method).toBe('repush');
    expect(engine.reason).toContain('1 destination tag(s) point to another digest');
  }, 60_000);
});
