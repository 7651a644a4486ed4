/**
 * The child side of emulator-process.ts: starts an emulator, seeds the generated registry (and, if
 * asked, the source-tag observer beside it, so it sees every tag change at the instant it happens),
 * answers call-log statistics and the settled state, and exits on `close`. It is a process's entry
 * point: imported anywhere else, it would make that process answer IPC messages as an emulator.
 */
import { startEcrEmulator, type EcrEmulator } from '../ecr-emulator/index.ts';
import { callStats } from './call-stats.ts';
import type { ChildMessage, ParentMessage, RegistrySummary } from './emulator-process.ts';
import { ownTempTag } from './own-temp-tags.ts';
import { SourceEventObserver } from './observer.ts';
import { seedGeneratedRegistry, type GeneratedRegistry } from './registry-generator.ts';

const PAGE = 1000;
const pages = (count: number): number => Math.max(1, Math.ceil(count / PAGE));

function summarize(emulator: EcrEmulator, registry: GeneratedRegistry): RegistrySummary {
  const covered = registry.repositories.filter((r) => r.coveredBy.length > 0);
  let sourceImages = 0;
  let destinationImages = 0;
  let minimumCalls = 1 + pages(registry.repositories.length);
  for (const repository of covered) {
    const listed = repository.images.filter((i) => i.tags.length > 0 && i.status === 'ACTIVE').length;
    sourceImages += listed;
    minimumCalls += pages(listed);
    for (const index of repository.coveredBy) {
      const d = registry.destinations[index];
      if (!d) continue;
      const held = emulator.world.getRepository(d.registryId, d.region, repository.name)?.images.size ?? 0;
      destinationImages += held;
      minimumCalls += pages(held);
    }
  }
  return {
    repositories: registry.repositories.length,
    coveredRepositories: covered.length,
    sourceImages,
    destinationImages,
    minimumCalls,
  };
}

let emulator: EcrEmulator | undefined;
let observer: SourceEventObserver | undefined;
const reply = (message: ChildMessage) => process.send?.(message);

process.on('message', (message: ParentMessage) => {
  void (async () => {
    try {
      if (message.type === 'start') {
        emulator = await startEcrEmulator(message.options);
        const registry = seedGeneratedRegistry(emulator, message.shape);
        if (message.observe) {
          observer = new SourceEventObserver(emulator.world, {
            account: registry.sourceAccount,
            region: registry.sourceRegion,
            ignoreTag: ownTempTag(message.observe.ownTempTags),
          });
        }
        reply({
          type: 'ready',
          endpoint: emulator.endpoint,
          summary: summarize(emulator, registry),
          registry,
          snapshot: emulator.snapshot(),
        });
      } else if (message.type === 'stats') {
        reply({ type: 'stats', stats: callStats(emulator?.callLog.entries() ?? []) });
      } else if (message.type === 'settle') {
        if (!emulator) throw new Error('settle before start');
        // Replication scheduled by the last pushes may still be running; it is not part of the run.
        await emulator.whenReplicationIdle();
        observer?.stop();
        reply({
          type: 'settled',
          snapshot: emulator.snapshot(),
          calls: emulator.callLog.entries(),
          ...(observer ? { observed: { unavailability: observer.report(), changes: observer.changes } } : {}),
        });
      } else {
        await emulator?.close();
        process.disconnect();
        process.exit(0);
      }
    } catch (error) {
      reply({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  })();
});
