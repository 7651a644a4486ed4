/**
 * Observers and checks for the safety invariants of docs/architecture.md §3.2, read from the emulator's own state
 * and event stream (not from what the steps report about themselves).
 */
import type { WorldEvent } from '../../../../local/ecr-emulator/index.ts';
import { isTempTag } from '../../../../core/ecr/temp-tags.ts';
import {
  SOURCE_ACCOUNT,
  SOURCE_REGION,
  TEMP_TAG_PREFIX,
  type Harness,
  type RegistryLocation,
} from './harness.ts';

export interface SourceTagGap {
  repository: string;
  tag: string;
  digest: string;
  removedAt: number;
  /** When the tag came back (on any digest); undefined while it is still missing. */
  restoredAt?: number;
  restoredDigest?: string;
}

/**
 * Records, at the instant they happen in the source registry: images deleted, original (non-temp)
 * tags removed and restored, and original tags moved to another digest. Actions the test itself
 * performs (a third party's push) can be excluded with `external()`.
 */
export class SourceWatch {
  readonly deletedImages: { repository: string; digest: string }[] = [];
  readonly gaps: SourceTagGap[] = [];
  readonly movedTags: { repository: string; tag: string; from: string; to: string }[] = [];
  private externalDepth = 0;
  private readonly stop: () => void;

  /** `prefix`: only repositories whose name starts with it (tests sharing one emulator). */
  constructor(
    h: Harness,
    private readonly prefix = '',
  ) {
    this.stop = h.emulator.world.on((event) => this.onEvent(event));
  }

  /** Runs a third party's action without attributing its changes to the backfill. */
  async external<T>(action: () => Promise<T> | T): Promise<T> {
    this.externalDepth += 1;
    try {
      return await action();
    } finally {
      this.externalDepth -= 1;
    }
  }

  private onEvent(event: WorldEvent): void {
    if (event.account !== SOURCE_ACCOUNT || event.region !== SOURCE_REGION || this.externalDepth > 0) return;
    if (!event.repository.startsWith(this.prefix)) return;
    const now = performance.now();
    if (event.type === 'image-deleted')
      this.deletedImages.push({ repository: event.repository, digest: event.digest });
    if (event.type === 'tag-removed' && !isTempTag(event.tag, TEMP_TAG_PREFIX)) {
      this.gaps.push({ repository: event.repository, tag: event.tag, digest: event.digest, removedAt: now });
    }
    if (event.type === 'tag-set' && !isTempTag(event.tag, TEMP_TAG_PREFIX)) {
      const gap = this.gaps.find(
        (g) => g.repository === event.repository && g.tag === event.tag && g.restoredAt === undefined,
      );
      if (gap) {
        gap.restoredAt = now;
        gap.restoredDigest = event.digest;
      }
      if (event.previousDigest !== undefined && event.previousDigest !== event.digest) {
        this.movedTags.push({
          repository: event.repository,
          tag: event.tag,
          from: event.previousDigest,
          to: event.digest,
        });
      }
    }
  }

  /** Tags removed and not (yet) restored, or restored on another digest. */
  unrestored(): SourceTagGap[] {
    return this.gaps.filter((g) => g.restoredAt === undefined || g.restoredDigest !== g.digest);
  }

  close(): void {
    this.stop();
  }
}

/** The repositories of one registry whose name starts with `prefix`, named without it. */
function repositoriesOf(h: Harness, where: RegistryLocation, prefix: string) {
  const registry = h.emulator.world
    .registries()
    .find((r) => r.account === where.registryId && r.region === where.region);
  return [...(registry?.repositories ?? [])]
    .filter(([name]) => name.startsWith(prefix))
    .map(([name, repository]) => [name.slice(prefix.length), repository] as const);
}

/** Every tag of every repository in one registry: `repo:tag` → digest. */
export function registryTags(h: Harness, where: RegistryLocation, prefix = ''): Map<string, string> {
  const result = new Map<string, string>();
  for (const [name, repository] of repositoriesOf(h, where, prefix)) {
    for (const [tag, digest] of repository.tags) result.set(`${name}:${tag}`, digest);
  }
  return result;
}

/** Every image digest of every repository in one registry: `repo@digest`. */
export function registryImages(h: Harness, where: RegistryLocation, prefix = ''): Set<string> {
  const result = new Set<string>();
  for (const [name, repository] of repositoriesOf(h, where, prefix)) {
    for (const digest of repository.images.keys()) result.add(`${name}@${digest}`);
  }
  return result;
}

/** `repo:tag` entries that are the tool's temp tags. */
export const tempTagsIn = (tags: Map<string, string>): string[] =>
  [...tags.keys()].filter((key) => isTempTag(key.slice(key.indexOf(':') + 1), TEMP_TAG_PREFIX));
