import { isTagImmutable } from './mutability.ts';
// Replication is ECR's own cross-account write, checked synchronously inside the engine; the
// simulator's synchronous path cannot read a resource policy, so this check alone still matches
// statements with the product's matcher (every call a principal makes goes through iam/ instead).
import { policyAllows, repositoryArn } from 'ecr-backfill/core';
import type {
  BlobRecord,
  ImageRecord,
  ReplicationDestination,
  ReplicationRule,
  RepositoryRecord,
  RepositorySettings,
  World,
} from './world.ts';

/**
 * Private registry replication, asynchronous like ECR's. Documented behaviour modeled here
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html):
 * - only content pushed after replication is configured is replicated (a push is a PutImage that adds
 *   a new digest or a tag);
 * - repositories are matched by the rules' PREFIX_MATCH filters (no filter = every repository);
 * - destination repositories are created automatically (MUTABLE: repository settings are not copied);
 * - "if an immutable destination already has the tag, the image is replicated without that tag";
 * - deletes are replicated only by a rule with `deleteReplication: {enabled: true}`
 *   (https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-delete.html): removing a tag
 *   from a source image that keeps other tags removes the same tag in each of the rule's
 *   destinations; removing the last tag, or deleting by digest, deletes the image with all its tags
 *   there. Replayed asynchronously, after the replication latency, like a copy. Silent in the docs,
 *   decided here on the harsh side: the tag is removed in the destination whatever digest it points
 *   to there, and a destination image left without tags by a replayed tag removal is deleted, as a
 *   BatchDeleteImage of its last tag would (unless an index there references it).
 * - into another account, the destination registry's permissions policy must allow the source account
 *   `ecr:ReplicateImage`, and `ecr:CreateRepository` when the repository does not exist there yet
 *   (https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-create-replication.html);
 *   ("If neither is done, replication fails"); the image's replication status for that destination
 *   then reads FAILED with a failureCode, the emulator's `ACCESS_DENIED` (ECR documents the field,
 *   not its values: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageReplicationStatus.html),
 *   and nothing lands there. Always enforced, as in AWS. Replayed deletes are not checked: AWS
 *   documents no permission for them, and replaying them is the harsher side.
 * Silent in AWS docs, decided here: only the pushed tag travels with the copy (docs/aws-facts.md); copies
 * made by replication are not replicated further; replication is not subject to API quotas.
 * OCI 1.1 referrers (manifests with a `subject`) replicate when they are themselves pushed: "ECR's
 * replication feature supports referrers, copying artifacts to destination regions and accounts"
 * (https://aws.amazon.com/about-aws/whats-new/2024/06/amazon-ecr-oci-image-distribution-version-1-1).
 * Silent in AWS docs, decided here on the conservative side: a push replicates the pushed manifest
 * (and its children) only, so re-pushing a subject (a temp tag on an existing image) does NOT carry
 * the referrers that already exist for it; a destination that lacks them stays without them.
 */

export type ReplicationFaultMode = 'fail' | 'hang' | 'drop-tag';

export interface ReplicationFailureRule {
  /** Source repository name; every repository when absent. */
  repository?: string;
  sourceAccount?: string;
  sourceRegion?: string;
  destinationRegion?: string;
  destinationAccount?: string;
  /** 'fail': status FAILED with `failureCode`; 'hang': stays IN_PROGRESS forever; 'drop-tag': COMPLETE without the tag. */
  mode: ReplicationFaultMode;
  /** ECR does not document its failure codes; default `INTERNAL_ERROR` (the emulator's own). */
  failureCode?: string;
  /** How many replications this rule affects; default Infinity. */
  times?: number;
}

export interface ReplicationFailureHandle {
  readonly hits: number;
  remove(): void;
}

export const DEFAULT_REPLICATION_FAILURE_CODE = 'INTERNAL_ERROR';
export const ACCESS_DENIED_FAILURE_CODE = 'ACCESS_DENIED';

export interface ReplicationOutcome {
  status: 'COMPLETE' | 'FAILED' | 'IN_PROGRESS';
  failureCode?: string;
  /** Whether the pushed tag was applied in the destination. */
  tagApplied: boolean;
}

/** The content captured at push time, so a delete right after the push does not cancel the copy. */
interface CapturedImage {
  image: ImageRecord;
  blobs: BlobRecord[];
  children: CapturedImage[];
}

export interface ReplicationEngineOptions {
  latencyMs: number;
  /** Settings for repositories replication creates (a repository creation template, appliedFor REPLICATION). */
  destinationRepositorySettings?: (
    destination: ReplicationDestination,
    name: string,
  ) => RepositorySettings | undefined;
}

export class ReplicationEngine {
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly rules: { rule: ReplicationFailureRule; hits: number }[] = [];
  private closed = false;
  latencyMs: number;

  constructor(
    private readonly world: World,
    private readonly options: ReplicationEngineOptions,
  ) {
    this.latencyMs = options.latencyMs;
  }

  /** Destinations whose rules cover a repository, without duplicates and never the source itself. */
  destinationsFor(
    account: string,
    region: string,
    repository: string,
    which: (rule: ReplicationRule) => boolean = () => true,
  ): ReplicationDestination[] {
    const { rules } = this.world.registry(account, region).replicationConfiguration;
    const result = new Map<string, ReplicationDestination>();
    for (const rule of rules) {
      if (!which(rule)) continue;
      const filters = rule.repositoryFilters ?? [];
      if (filters.length > 0 && !filters.some((f) => repository.startsWith(f.filter))) continue;
      for (const destination of rule.destinations) {
        if (destination.registryId === account && destination.region === region) continue;
        result.set(`${destination.registryId}/${destination.region}`, { ...destination });
      }
    }
    return [...result.values()];
  }

  /** Called by PutImage after a push: schedules one copy per covered destination. */
  onPush(repository: RepositoryRecord, digest: string, tag: string | undefined): void {
    const destinations = this.destinationsFor(repository.account, repository.region, repository.name);
    if (destinations.length === 0) return;
    const captured = this.capture(repository, digest);
    if (!captured) return;
    for (const destination of destinations) {
      this.world.setReplicationStatus(repository, digest, destination, 'IN_PROGRESS');
      this.schedule(() => {
        this.replicate(repository, captured, tag, destination);
      });
    }
  }

  /** Called by BatchDeleteImage after a tag came off a source image that stays. */
  onTagRemoved(repository: RepositoryRecord, tag: string): void {
    for (const destination of this.deleteDestinations(repository)) {
      this.schedule(() => {
        const target = this.world.getRepository(destination.registryId, destination.region, repository.name);
        if (!target) return;
        const image = this.world.removeTag(target, tag);
        if (
          image &&
          image.tags.length === 0 &&
          this.world.referencingIndexes(target, image.digest).length === 0
        )
          this.world.deleteImage(target, image.digest);
      });
    }
  }

  /** Called by BatchDeleteImage after a source image was deleted (its last tag removed, or by digest). */
  onImageDeleted(repository: RepositoryRecord, digest: string): void {
    for (const destination of this.deleteDestinations(repository)) {
      this.schedule(() => {
        const target = this.world.getRepository(destination.registryId, destination.region, repository.name);
        if (!target || this.world.referencingIndexes(target, digest).length > 0) return;
        this.world.deleteImage(target, digest);
      });
    }
  }

  private deleteDestinations(repository: RepositoryRecord): ReplicationDestination[] {
    return this.destinationsFor(
      repository.account,
      repository.region,
      repository.name,
      (rule) => rule.deleteReplication?.enabled === true,
    );
  }

  /**
   * Copies an image (children and blobs first) with `tag` to a destination now, applying the failure
   * rules, and records the status on the source image. Used by the push path and by backfills.
   */
  replicateNow(
    repository: RepositoryRecord,
    digest: string,
    tag: string | undefined,
    destination: ReplicationDestination,
  ): ReplicationOutcome {
    const captured = this.capture(repository, digest);
    if (!captured) return { status: 'FAILED', failureCode: 'IMAGE_NOT_FOUND', tagApplied: false };
    return this.replicate(repository, captured, tag, destination);
  }

  private replicate(
    source: RepositoryRecord,
    captured: CapturedImage,
    tag: string | undefined,
    destination: ReplicationDestination,
  ): ReplicationOutcome {
    const digest = captured.image.digest;
    const stillThere = () => source.images.get(digest) !== undefined;
    const fault = this.matchFault(source, destination);
    if (fault?.mode === 'hang') return { status: 'IN_PROGRESS', tagApplied: false };
    if (fault?.mode === 'fail') {
      const failureCode = fault.failureCode ?? DEFAULT_REPLICATION_FAILURE_CODE;
      if (stillThere()) this.world.setReplicationStatus(source, digest, destination, 'FAILED', failureCode);
      return { status: 'FAILED', failureCode, tagApplied: false };
    }
    const existing = this.world.getRepository(destination.registryId, destination.region, source.name);
    if (!this.permitted(source, destination, existing !== undefined)) {
      const failureCode = ACCESS_DENIED_FAILURE_CODE;
      if (stillThere()) this.world.setReplicationStatus(source, digest, destination, 'FAILED', failureCode);
      return { status: 'FAILED', failureCode, tagApplied: false };
    }
    const target =
      existing ??
      this.world.createRepository(
        destination.registryId,
        destination.region,
        source.name,
        this.options.destinationRepositorySettings?.(destination, source.name),
      );
    this.copyInto(target, captured);
    let tagApplied = false;
    if (tag !== undefined && fault?.mode !== 'drop-tag') {
      const current = target.tags.get(tag);
      const immutable =
        current !== undefined && isTagImmutable(target.mutability, target.exclusionFilters, tag);
      if (current === digest) tagApplied = true;
      else if (!immutable) {
        this.world.setTag(target, tag, digest);
        tagApplied = true;
      }
    }
    if (stillThere()) this.world.setReplicationStatus(source, digest, destination, 'COMPLETE');
    return { status: 'COMPLETE', tagApplied };
  }

  /** Cross-account: what the destination registry's policy lets the source account do. */
  private permitted(
    source: RepositoryRecord,
    destination: ReplicationDestination,
    repositoryExists: boolean,
  ): boolean {
    if (destination.registryId === source.account) return true;
    const statements = this.world.registry(destination.registryId, destination.region).policy?.statements;
    const resource = repositoryArn(destination.registryId, destination.region, source.name);
    return (
      policyAllows(statements, source.account, 'ecr:ReplicateImage', resource) &&
      (repositoryExists || policyAllows(statements, source.account, 'ecr:CreateRepository', resource))
    );
  }

  private copyInto(target: RepositoryRecord, captured: CapturedImage): void {
    for (const child of captured.children) this.copyInto(target, child);
    for (const blob of captured.blobs) this.world.addBlob(target, blob);
    const existing = target.images.get(captured.image.digest);
    if (existing) {
      if (existing.status === 'ARCHIVED') this.world.setImageStatus(target, existing, 'ACTIVE');
      return;
    }
    const { image } = captured;
    this.world.createImage(target, {
      digest: image.digest,
      manifest: image.manifest,
      mediaType: image.mediaType,
      info: {
        kind: image.kind,
        blobs: captured.blobs.map((b) => ({ digest: b.digest, size: b.size })),
        children: captured.children.map((c) => ({ digest: c.image.digest, size: 0 })),
        ...(image.artifactMediaType ? { artifactMediaType: image.artifactMediaType } : {}),
        ...(image.subjectDigest ? { subjectDigest: image.subjectDigest } : {}),
      },
    });
  }

  private capture(repository: RepositoryRecord, digest: string, depth = 0): CapturedImage | undefined {
    const image = repository.images.get(digest);
    if (!image || depth > 4) return undefined;
    return {
      image,
      blobs: image.blobDigests.flatMap((d) => {
        const blob = repository.blobs.get(d);
        return blob ? [blob] : [];
      }),
      children: image.children.flatMap((child) => {
        const captured = this.capture(repository, child, depth + 1);
        return captured ? [captured] : [];
      }),
    };
  }

  // ---- failure injection ---------------------------------------------------------------------

  addFailure(rule: ReplicationFailureRule): ReplicationFailureHandle {
    const active = { rule, hits: 0 };
    this.rules.push(active);
    return {
      get hits() {
        return active.hits;
      },
      remove: () => {
        const index = this.rules.indexOf(active);
        if (index >= 0) this.rules.splice(index, 1);
      },
    };
  }

  clearFailures(): void {
    this.rules.length = 0;
  }

  private matchFault(
    source: RepositoryRecord,
    destination: ReplicationDestination,
  ): ReplicationFailureRule | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (rule.repository !== undefined && rule.repository !== source.name) continue;
      if (rule.sourceAccount !== undefined && rule.sourceAccount !== source.account) continue;
      if (rule.sourceRegion !== undefined && rule.sourceRegion !== source.region) continue;
      if (rule.destinationRegion !== undefined && rule.destinationRegion !== destination.region) continue;
      if (rule.destinationAccount !== undefined && rule.destinationAccount !== destination.registryId)
        continue;
      if (active.hits >= (rule.times ?? Infinity)) continue;
      active.hits += 1;
      return rule;
    }
    return undefined;
  }

  // ---- scheduling ------------------------------------------------------------------------------

  /** Runs `task` after the replication latency; tracked so `whenIdle`, `flush` and `close` can see it. */
  schedule(task: () => void, delayMs = this.latencyMs): void {
    if (this.closed) return;
    const run = () => {
      this.timers.delete(timer);
      try {
        task();
      } finally {
        if (this.timers.size === 0) this.flushIdle();
      }
    };
    const timer = setTimeout(run, delayMs);
    this.timers.set(timer, run);
  }

  /**
   * Runs every scheduled step now instead of waiting for the latency, including the steps those steps
   * schedule (a backfill's ticks), until nothing is left. For tests that must not depend on timing.
   */
  flush(): void {
    while (this.timers.size > 0) {
      for (const [timer, run] of [...this.timers]) {
        clearTimeout(timer);
        run();
      }
    }
  }

  /** Copies (and other scheduled work) not yet run. */
  get pending(): number {
    return this.timers.size;
  }

  /** Resolves once no scheduled work remains (hung replications do not count: they never finish). */
  whenIdle(): Promise<void> {
    if (this.timers.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private flushIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers.keys()) clearTimeout(timer);
    this.timers.clear();
    this.flushIdle();
  }
}
