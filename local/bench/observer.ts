/**
 * Independent observers of the source registry during a run: they do not trust what the workflow
 * reports about itself.
 *
 * - `SourceEventObserver` subscribes to the emulator's world events, which fire synchronously at the
 *   instant the state changes, so its windows are exact: a `tag-removed` followed by a `tag-set` of
 *   the same tag is a window in which a pull by that tag would fail. It also records images deleted
 *   and tags moved to another digest. Costs no API call (no quota, nothing in the call log).
 * - `SourceTagPoller` is a client like any other: it resolves every watched tag through the ECR API
 *   (BatchGetImage by tag, one call per repository per sweep) as fast as it can and records every
 *   sweep in which a tag did not resolve to its digest.
 */
import { BatchGetImageCommand, type ECRClient } from '@aws-sdk/client-ecr';
import type { World, WorldEvent } from '../ecr-emulator/index.ts';

export interface TagWindow {
  repository: string;
  tag: string;
  digest: string;
  /** performance.now() when the tag disappeared. */
  removedAt: number;
  /** When it came back (on any digest); undefined if it never did. */
  restoredAt?: number;
  restoredDigest?: string;
}

export interface UnavailabilityReport {
  /** Windows in which a watched source tag resolved to nothing. */
  windows: number;
  maxMs: number;
  totalMs: number;
  /** Tags removed and never restored by the end of the observation. */
  neverRestored: { repository: string; tag: string }[];
}

export interface SourceChanges {
  imagesDeleted: { repository: string; digest: string }[];
  /** A tag moved from one digest to another (not a remove-then-set). */
  tagsMoved: { repository: string; tag: string; from: string; to: string }[];
}

export interface EventObserverOptions {
  account: string;
  region: string;
  /** Tags not to watch, e.g. the run's temp tags. Default: none. */
  ignoreTag?: (tag: string) => boolean;
}

export class SourceEventObserver {
  private readonly windowsList: TagWindow[] = [];
  private readonly open = new Map<string, TagWindow>();
  readonly changes: SourceChanges = { imagesDeleted: [], tagsMoved: [] };
  private readonly unsubscribe: () => void;
  private externalDepth = 0;
  private stoppedAt: number | undefined;

  constructor(
    world: World,
    private readonly options: EventObserverOptions,
  ) {
    this.unsubscribe = world.on((event) => this.onEvent(event));
  }

  /**
   * Runs a third party's change (a concurrent push) without attributing it to the workflow: its
   * tag moves are not reported as ours. Only synchronous world changes inside `action` are excluded.
   */
  external<T>(action: () => T): T {
    this.externalDepth += 1;
    try {
      return action();
    } finally {
      this.externalDepth -= 1;
    }
  }

  private onEvent(event: WorldEvent): void {
    if (this.stoppedAt !== undefined) return;
    if (event.account !== this.options.account || event.region !== this.options.region) return;
    const now = performance.now();
    if (event.type === 'image-deleted' && this.externalDepth === 0) {
      this.changes.imagesDeleted.push({ repository: event.repository, digest: event.digest });
      return;
    }
    if (event.type !== 'tag-set' && event.type !== 'tag-removed') return;
    if (this.options.ignoreTag?.(event.tag)) return;
    const key = `${event.repository}:${event.tag}`;
    if (event.type === 'tag-removed') {
      const window: TagWindow = {
        repository: event.repository,
        tag: event.tag,
        digest: event.digest,
        removedAt: now,
      };
      this.open.set(key, window);
      this.windowsList.push(window);
      return;
    }
    const window = this.open.get(key);
    if (window) {
      window.restoredAt = now;
      window.restoredDigest = event.digest;
      this.open.delete(key);
    }
    if (
      this.externalDepth === 0 &&
      event.previousDigest !== undefined &&
      event.previousDigest !== event.digest
    ) {
      this.changes.tagsMoved.push({
        repository: event.repository,
        tag: event.tag,
        from: event.previousDigest,
        to: event.digest,
      });
    }
  }

  windows(): TagWindow[] {
    return this.windowsList.map((w) => ({ ...w }));
  }

  /** Ends the observation (windows still open count up to now). Idempotent. */
  stop(): void {
    if (this.stoppedAt !== undefined) return;
    this.stoppedAt = performance.now();
    this.unsubscribe();
  }

  report(): UnavailabilityReport {
    const end = this.stoppedAt ?? performance.now();
    let maxMs = 0;
    let totalMs = 0;
    const neverRestored: UnavailabilityReport['neverRestored'] = [];
    for (const window of this.windowsList) {
      const ms = (window.restoredAt ?? end) - window.removedAt;
      maxMs = Math.max(maxMs, ms);
      totalMs += ms;
      if (window.restoredAt === undefined)
        neverRestored.push({ repository: window.repository, tag: window.tag });
    }
    return { windows: this.windowsList.length, maxMs, totalMs, neverRestored };
  }
}

export interface WatchedTag {
  repository: string;
  tag: string;
  /** The digest the tag must keep resolving to. */
  digest: string;
}

export interface PollReport {
  sweeps: number;
  /** Tag resolutions made (sweeps × watched tags). */
  resolutions: number;
  /** Resolutions in which a tag resolved to nothing or to another digest. */
  misses: { repository: string; tag: string; got?: string; atMs: number }[];
  /** Calls that failed (throttling, faults): they prove nothing either way and are retried. */
  failedCalls: number;
}

const ALL_MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
];

/** Up to 100 image ids per BatchGetImage (ECR's limit). */
const MAX_IDS = 100;

export class SourceTagPoller {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly result: PollReport = { sweeps: 0, resolutions: 0, misses: [], failedCalls: 0 };
  private readonly started = performance.now();

  constructor(
    private readonly client: ECRClient,
    private readonly tags: WatchedTag[],
    private readonly options: { registryId?: string; pauseMs?: number } = {},
  ) {}

  start(): this {
    this.running = true;
    this.loop = this.run();
    return this;
  }

  private groups(): [string, WatchedTag[]][] {
    const byRepository = new Map<string, WatchedTag[]>();
    for (const tag of this.tags) {
      const list = byRepository.get(tag.repository) ?? [];
      list.push(tag);
      byRepository.set(tag.repository, list);
    }
    const groups: [string, WatchedTag[]][] = [];
    for (const [repository, list] of byRepository) {
      for (let i = 0; i < list.length; i += MAX_IDS) groups.push([repository, list.slice(i, i + MAX_IDS)]);
    }
    return groups;
  }

  private async run(): Promise<void> {
    const groups = this.groups();
    while (this.running) {
      for (const [repository, list] of groups) {
        await this.resolve(repository, list);
      }
      this.result.sweeps += 1;
      await new Promise((resolve) => setTimeout(resolve, this.options.pauseMs ?? 0));
    }
  }

  private async resolve(repository: string, list: WatchedTag[]): Promise<void> {
    try {
      const response = await this.client.send(
        new BatchGetImageCommand({
          ...(this.options.registryId ? { registryId: this.options.registryId } : {}),
          repositoryName: repository,
          imageIds: list.map((t) => ({ imageTag: t.tag })),
          acceptedMediaTypes: ALL_MANIFEST_TYPES,
        }),
      );
      const found = new Map<string, string | undefined>();
      for (const image of response.images ?? []) {
        if (image.imageId?.imageTag) found.set(image.imageId.imageTag, image.imageId.imageDigest);
      }
      const atMs = performance.now() - this.started;
      for (const watched of list) {
        this.result.resolutions += 1;
        const got = found.get(watched.tag);
        if (got !== watched.digest) {
          this.result.misses.push({
            repository,
            tag: watched.tag,
            ...(got !== undefined ? { got } : {}),
            atMs,
          });
        }
      }
    } catch {
      this.result.failedCalls += 1;
    }
  }

  /** Stops after the sweep in progress and returns what was seen. */
  async stop(): Promise<PollReport> {
    this.running = false;
    await this.loop;
    return {
      ...this.result,
      misses: [...this.result.misses],
    };
  }
}
