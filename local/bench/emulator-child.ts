/**
 * The child side of emulator-process.ts: starts an emulator, seeds the generated registry, answers
 * call-log statistics, and exits on `close`.
 */
import { startEcrEmulator, type EcrEmulator } from '../ecr-emulator/index.ts';
import { callStats } from './call-stats.ts';
import type { ChildMessage, ParentMessage, RegistrySummary } from './emulator-process.ts';
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
const reply = (message: ChildMessage) => process.send?.(message);

process.on('message', (message: ParentMessage) => {
  void (async () => {
    try {
      if (message.type === 'start') {
        emulator = await startEcrEmulator(message.options);
        const registry = seedGeneratedRegistry(emulator, message.shape);
        reply({ type: 'ready', endpoint: emulator.endpoint, summary: summarize(emulator, registry) });
      } else if (message.type === 'stats') {
        reply({ type: 'stats', stats: callStats(emulator?.callLog.entries() ?? []) });
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
