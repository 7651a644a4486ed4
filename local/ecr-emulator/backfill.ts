import { randomUUID } from 'node:crypto';
import { EcrError, invalidParameter } from './errors.ts';
import type { ReplicationEngine } from './replication-engine.ts';
import type { ReplicationDestination, World } from './world.ts';

/**
 * ECR's native replication backfill (StartReplicationBackfill & co.), modeled on
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-backfill.html and the SDK model:
 * - covers the images that match the *current* rules for one destination (no repository/tag selection);
 * - one active (PREPARING, IN_PROGRESS or STOPPING) backfill per destination Region →
 *   ReplicationBackfillInProgressException; at most 10 active per registry → LimitExceededException;
 * - "each image and tag combination is counted as a single replication" (ReplicationBackfillProgress);
 * - fails automatically once ≥ 100 replications were processed and ≥ 50 % of them failed;
 * - per-image results only after a terminal status (COMPLETE, FAILED, STOPPED).
 * Silent in AWS docs, decided here: archived images are skipped; images referenced by an index in the
 * same repository travel with the index instead of counting on their own; images already in the
 * destination are replicated again (and complete); the failure code of the automatic failure
 * (`FAILURE_THRESHOLD_EXCEEDED`) is the emulator's own. Whether a backfill copies OCI 1.1 referrers
 * (manifests with a `subject`: signatures, SBOMs) is not documented either; the emulator takes the
 * conservative case and leaves them out, so a client must verify and copy them itself.
 *
 * Server-side time: preparation takes one replication latency, then `batchSize` replications are
 * processed per latency tick, so progress is visible while IN_PROGRESS.
 */

export type BackfillStatus = 'PREPARING' | 'IN_PROGRESS' | 'COMPLETE' | 'FAILED' | 'STOPPING' | 'STOPPED';
const ACTIVE: readonly BackfillStatus[] = ['PREPARING', 'IN_PROGRESS', 'STOPPING'];
const TERMINAL: readonly BackfillStatus[] = ['COMPLETE', 'FAILED', 'STOPPED'];

export const MAX_ACTIVE_BACKFILLS_PER_REGISTRY = 10;
export const FAILURE_RULE_MIN_PROCESSED = 100;
export const FAILURE_RULE_RATIO = 0.5;
export const THRESHOLD_FAILURE_CODE = 'FAILURE_THRESHOLD_EXCEEDED';

export interface BackfillItem {
  repository: string;
  digest: string;
  tag?: string;
}

export interface BackfillResult {
  repositoryName: string;
  imageId: { imageDigest: string; imageTag?: string };
  status: 'COMPLETE' | 'FAILED';
  failureCode?: string;
  subImageFailureCodes?: string[];
}

export interface Backfill {
  id: string;
  account: string;
  region: string;
  destination: ReplicationDestination;
  status: BackfillStatus;
  failureCode?: string;
  startedAt: number;
  endedAt?: number;
  items: BackfillItem[];
  /** Preparation completed (the items are known): only then does the API report progress. */
  prepared: boolean;
  cursor: number;
  completed: number;
  failed: number;
  failureCodes: Set<string>;
  results: BackfillResult[];
  /** Replications that never finish (a 'hang' replication fault): the backfill cannot complete. */
  hung: number;
}

export interface BackfillOptions {
  /** Replications processed per latency tick. Default 100. */
  batchSize?: number;
}

export class BackfillManager {
  private readonly backfills = new Map<string, Backfill>();
  private readonly batchSize: number;

  constructor(
    private readonly world: World,
    private readonly engine: ReplicationEngine,
    options: BackfillOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 100;
  }

  isActive = (backfill: Backfill): boolean => ACTIVE.includes(backfill.status);
  isTerminal = (backfill: Backfill): boolean => TERMINAL.includes(backfill.status);

  start(account: string, region: string, destination: ReplicationDestination): Backfill {
    const configured = this.world
      .registry(account, region)
      .replicationConfiguration.rules.some((rule) =>
        rule.destinations.some(
          (d) => d.region === destination.region && d.registryId === destination.registryId,
        ),
      );
    // "The destination must already be configured in the registry's replication configuration."
    if (!configured) {
      throw invalidParameter(
        `The destination ${destination.registryId}/${destination.region} is not in the registry's replication configuration`,
      );
    }
    const active = this.list(account, region).filter(this.isActive);
    if (active.some((b) => b.destination.region === destination.region)) {
      throw new EcrError(
        'ReplicationBackfillInProgressException',
        `A replication backfill is already in progress for the destination Region ${destination.region}`,
      );
    }
    if (active.length >= MAX_ACTIVE_BACKFILLS_PER_REGISTRY) {
      throw new EcrError(
        'LimitExceededException',
        `A registry can have at most ${MAX_ACTIVE_BACKFILLS_PER_REGISTRY} replication backfills in progress`,
      );
    }
    const backfill: Backfill = {
      id: randomUUID(),
      account,
      region,
      destination: { ...destination },
      status: 'PREPARING',
      prepared: false,
      startedAt: this.world.now(),
      items: [],
      cursor: 0,
      completed: 0,
      failed: 0,
      failureCodes: new Set(),
      results: [],
      hung: 0,
    };
    this.backfills.set(backfill.id, backfill);
    this.engine.schedule(() => this.prepare(backfill));
    return backfill;
  }

  get(account: string, region: string, id: string): Backfill {
    const backfill = this.backfills.get(id);
    if (!backfill || backfill.account !== account || backfill.region !== region) {
      throw new EcrError(
        'ReplicationBackfillNotFoundException',
        `The replication backfill '${id}' does not exist in the registry with id '${account}'`,
      );
    }
    return backfill;
  }

  /** Backfills of a registry, newest first. */
  list(account: string, region: string): Backfill[] {
    return [...this.backfills.values()]
      .filter((b) => b.account === account && b.region === region)
      .sort((a, b) => b.startedAt - a.startedAt || a.id.localeCompare(b.id));
  }

  all(): Backfill[] {
    return [...this.backfills.values()];
  }

  stop(account: string, region: string, id: string): Backfill {
    const backfill = this.get(account, region, id);
    if (backfill.status !== 'PREPARING' && backfill.status !== 'IN_PROGRESS') {
      throw new EcrError(
        'ReplicationBackfillInvalidStatusException',
        `The replication backfill '${id}' is ${backfill.status} and cannot be stopped`,
      );
    }
    backfill.status = 'STOPPING';
    // A backfill blocked on hung replications has no tick pending: schedule one to finish stopping.
    this.engine.schedule(() => this.finishStop(backfill));
    return backfill;
  }

  private finishStop(backfill: Backfill): void {
    if (backfill.status !== 'STOPPING') return;
    backfill.status = 'STOPPED';
    backfill.endedAt = this.world.now();
  }

  private prepare(backfill: Backfill): void {
    if (backfill.status !== 'PREPARING') return;
    const registry = this.world.registry(backfill.account, backfill.region);
    for (const name of this.world.sortedRepositoryNames(registry)) {
      const covered = this.engine
        .destinationsFor(backfill.account, backfill.region, name)
        .some(
          (d) => d.region === backfill.destination.region && d.registryId === backfill.destination.registryId,
        );
      const repository = registry.repositories.get(name);
      if (!covered || !repository) continue;
      for (const digest of this.world.sortedDigests(repository)) {
        const image = repository.images.get(digest);
        if (
          !image ||
          image.status !== 'ACTIVE' ||
          image.subjectDigest !== undefined ||
          (repository.parents.has(digest) && image.tags.length === 0)
        )
          continue;
        if (image.tags.length === 0) backfill.items.push({ repository: name, digest });
        for (const tag of image.tags) backfill.items.push({ repository: name, digest, tag });
      }
    }
    backfill.prepared = true;
    backfill.status = 'IN_PROGRESS';
    this.engine.schedule(() => this.tick(backfill));
  }

  private tick(backfill: Backfill): void {
    if (backfill.status === 'STOPPING') return this.finishStop(backfill);
    if (backfill.status !== 'IN_PROGRESS') return;
    const end = Math.min(backfill.items.length, backfill.cursor + this.batchSize);
    for (; backfill.cursor < end; backfill.cursor += 1) {
      const item = backfill.items[backfill.cursor] as BackfillItem;
      this.process(backfill, item);
      const processed = backfill.completed + backfill.failed;
      if (processed >= FAILURE_RULE_MIN_PROCESSED && backfill.failed / processed >= FAILURE_RULE_RATIO) {
        backfill.cursor += 1;
        backfill.status = 'FAILED';
        backfill.failureCode = THRESHOLD_FAILURE_CODE;
        backfill.endedAt = this.world.now();
        return;
      }
    }
    if (backfill.cursor < backfill.items.length) {
      this.engine.schedule(() => this.tick(backfill));
    } else if (backfill.hung === 0) {
      backfill.status = 'COMPLETE';
      backfill.endedAt = this.world.now();
    }
  }

  private process(backfill: Backfill, item: BackfillItem): void {
    const repository = this.world.getRepository(backfill.account, backfill.region, item.repository);
    const image = repository?.images.get(item.digest);
    const imageId = { imageDigest: item.digest, ...(item.tag !== undefined ? { imageTag: item.tag } : {}) };
    const outcome =
      repository && image
        ? this.engine.replicateNow(repository, item.digest, item.tag, backfill.destination)
        : { status: 'FAILED' as const, failureCode: 'IMAGE_NOT_FOUND' };
    if (outcome.status === 'IN_PROGRESS') {
      backfill.hung += 1;
      return;
    }
    if (outcome.status === 'COMPLETE') {
      backfill.completed += 1;
      backfill.results.push({ repositoryName: item.repository, imageId, status: 'COMPLETE' });
      return;
    }
    const failureCode = outcome.failureCode ?? 'INTERNAL_ERROR';
    backfill.failed += 1;
    backfill.failureCodes.add(failureCode);
    backfill.results.push({
      repositoryName: item.repository,
      imageId,
      status: 'FAILED',
      failureCode,
      ...(image && image.kind === 'index' ? { subImageFailureCodes: [failureCode] } : {}),
    });
  }
}
