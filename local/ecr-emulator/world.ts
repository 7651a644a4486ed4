import { EcrError, invalidParameter, repositoryNotFound } from './errors.ts';
import { inspectManifest, type BlobRef, type ManifestInfo } from './media-types.ts';
import type { ExclusionFilter, TagMutability } from './mutability.ts';
import type { PolicyStatement } from './registry-policy.ts';
import { sha256Digest } from './validation.ts';
import { EmulatorRoles } from './iam/roles.ts';

/**
 * The emulator's state: accounts → Regions → registries → repositories → images, blobs and upload
 * sessions. This module only stores and indexes; the API rules (validation, mutability, quotas) live in
 * operations/*, so tests and generators can seed state here directly without going through them.
 */

export interface BlobRecord {
  digest: string;
  size: number;
  mediaType?: string;
  /** Present only for blobs uploaded through the layer API; fixtures and generators give sizes only. */
  bytes?: Buffer;
}

export type ImageStatus = 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING';

export interface ImageRecord {
  digest: string;
  /** The exact manifest string as pushed; never re-serialized. */
  manifest: string;
  mediaType: string;
  kind: 'image' | 'index';
  artifactMediaType?: string;
  subjectDigest?: string;
  blobDigests: string[];
  children: string[];
  /** In the order they were added. */
  tags: string[];
  sizeInBytes: number;
  pushedAt: number;
  status: ImageStatus;
  lastArchivedAt?: number;
  lastActivatedAt?: number;
  lastRecordedPullTime?: number;
}

export type ReplicationState = 'IN_PROGRESS' | 'COMPLETE' | 'FAILED';

export interface ReplicationStatusRecord {
  region: string;
  registryId: string;
  status: ReplicationState;
  failureCode?: string;
  updatedAt: number;
}

export interface UploadSession {
  id: string;
  parts: Buffer[];
  received: number;
  createdAt: number;
}

export interface RepositoryRecord {
  account: string;
  region: string;
  name: string;
  createdAt: number;
  mutability: TagMutability;
  exclusionFilters: ExclusionFilter[];
  resourceTags: { Key: string; Value: string }[];
  scanOnPush: boolean;
  encryption: { encryptionType: string; kmsKey?: string };
  images: Map<string, ImageRecord>;
  /** tag → digest */
  tags: Map<string, string>;
  blobs: Map<string, BlobRecord>;
  uploads: Map<string, UploadSession>;
  /** digest → destination key (`registryId/region`) → status */
  replication: Map<string, Map<string, ReplicationStatusRecord>>;
  /** child digest → digests of the indexes in this repository that reference it */
  parents: Map<string, Set<string>>;
  /** subject digest → digests of the images in this repository whose manifest names it as `subject` (OCI 1.1 referrers) */
  referrers: Map<string, Set<string>>;
  sortedDigests?: string[];
}

export interface ReplicationDestination {
  region: string;
  registryId: string;
}
export interface RepositoryFilter {
  filter: string;
  filterType: 'PREFIX_MATCH';
}
export interface ReplicationRule {
  destinations: ReplicationDestination[];
  repositoryFilters?: RepositoryFilter[];
  /** API type DeleteReplication: replay source tag removals and image deletions in the destinations. */
  deleteReplication?: { enabled: boolean };
}
export interface ReplicationConfiguration {
  rules: ReplicationRule[];
}

export interface RegistryRecord {
  account: string;
  region: string;
  repositories: Map<string, RepositoryRecord>;
  replicationConfiguration: ReplicationConfiguration;
  /** The registry permissions policy (registry-policy.ts), as put and as parsed. */
  policy?: { text: string; statements: PolicyStatement[] };
  sortedNames?: string[];
}

export interface RepositoryRef {
  account: string;
  region: string;
  repository: string;
}

export type WorldEvent =
  | (RepositoryRef & { type: 'repository-created' | 'repository-deleted' })
  | (RepositoryRef & { type: 'image-created'; digest: string; mediaType: string })
  | (RepositoryRef & { type: 'image-deleted'; digest: string })
  | (RepositoryRef & { type: 'image-status'; digest: string; status: ImageStatus })
  | (RepositoryRef & { type: 'tag-set'; tag: string; digest: string; previousDigest?: string })
  | (RepositoryRef & { type: 'tag-removed'; tag: string; digest: string })
  | (RepositoryRef & {
      type: 'replication-status';
      digest: string;
      destination: ReplicationDestination;
      status: ReplicationState;
      failureCode?: string;
    });

export interface RepositorySettings {
  imageTagMutability?: TagMutability;
  imageTagMutabilityExclusionFilters?: ExclusionFilter[];
  tags?: { Key: string; Value: string }[];
  scanOnPush?: boolean;
  encryption?: { encryptionType: string; kmsKey?: string };
  createdAt?: number;
}

export interface DirectImageInput extends RepositoryRef {
  /** The exact manifest string. */
  manifest: string;
  /** Required when the manifest has no top-level mediaType. */
  mediaType?: string;
  tags?: string[];
  status?: ImageStatus;
  pushedAt?: number;
  /**
   * Blobs to register (sizes, optionally bytes). Blobs the manifest references but this list omits are
   * registered with the size the manifest declares, so a manifest alone is enough to seed an image.
   */
  blobs?: BlobRef[] | BlobRecord[];
  /** Create the repository (MUTABLE) if missing. Default true. */
  createRepository?: boolean;
}

// https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html
export const MAX_IMAGES_PER_REPOSITORY = 100_000;
export const MAX_TAGS_PER_IMAGE = 1_000;
export const MAX_REPOSITORIES_PER_REGISTRY = 100_000;

const key = (account: string, region: string) => `${account}/${region}`;
export const destinationKey = (d: ReplicationDestination): string => `${d.registryId}/${d.region}`;

export class World {
  private readonly registryMap = new Map<string, RegistryRecord>();
  /** The accounts' IAM roles (the fixture's `roles`), which destination-role sessions assume. */
  readonly roles = new EmulatorRoles();
  private readonly listeners = new Set<(event: WorldEvent) => void>();
  private clock: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.clock = options.now ?? Date.now;
  }

  now(): number {
    return this.clock();
  }

  /** Subscribes to every state change; returns the unsubscribe function. Listeners run synchronously. */
  on(listener: (event: WorldEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: WorldEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  // ---- registries and repositories ------------------------------------------------------------

  /** The registry of an account in a Region, created empty on first use (ECR has one per account and Region). */
  registry(account: string, region: string): RegistryRecord {
    let registry = this.registryMap.get(key(account, region));
    if (!registry) {
      registry = { account, region, repositories: new Map(), replicationConfiguration: { rules: [] } };
      this.registryMap.set(key(account, region), registry);
    }
    return registry;
  }

  registries(): RegistryRecord[] {
    return [...this.registryMap.values()];
  }

  getRepository(account: string, region: string, name: string): RepositoryRecord | undefined {
    return this.registryMap.get(key(account, region))?.repositories.get(name);
  }

  requireRepository(account: string, region: string, name: string): RepositoryRecord {
    const repository = this.getRepository(account, region, name);
    if (!repository) throw repositoryNotFound(account, name);
    return repository;
  }

  createRepository(
    account: string,
    region: string,
    name: string,
    settings: RepositorySettings = {},
  ): RepositoryRecord {
    const registry = this.registry(account, region);
    if (registry.repositories.has(name)) {
      throw new EcrError(
        'RepositoryAlreadyExistsException',
        `The repository with name '${name}' already exists in the registry with id '${account}'`,
      );
    }
    if (registry.repositories.size >= MAX_REPOSITORIES_PER_REGISTRY) {
      throw new EcrError('LimitExceededException', 'The repository limit for this registry has been reached');
    }
    const repository: RepositoryRecord = {
      account,
      region,
      name,
      createdAt: settings.createdAt ?? this.now(),
      mutability: settings.imageTagMutability ?? 'MUTABLE',
      exclusionFilters: settings.imageTagMutabilityExclusionFilters ?? [],
      resourceTags: settings.tags ?? [],
      scanOnPush: settings.scanOnPush ?? false,
      encryption: settings.encryption ?? { encryptionType: 'AES256' },
      images: new Map(),
      tags: new Map(),
      blobs: new Map(),
      uploads: new Map(),
      replication: new Map(),
      parents: new Map(),
      referrers: new Map(),
    };
    registry.repositories.set(name, repository);
    registry.sortedNames = undefined;
    this.emit({ type: 'repository-created', account, region, repository: name });
    return repository;
  }

  ensureRepository(
    account: string,
    region: string,
    name: string,
    settings?: RepositorySettings,
  ): RepositoryRecord {
    return (
      this.getRepository(account, region, name) ?? this.createRepository(account, region, name, settings)
    );
  }

  deleteRepository(account: string, region: string, name: string): RepositoryRecord {
    const registry = this.registry(account, region);
    const repository = registry.repositories.get(name);
    if (!repository) throw repositoryNotFound(account, name);
    registry.repositories.delete(name);
    registry.sortedNames = undefined;
    this.emit({ type: 'repository-deleted', account, region, repository: name });
    return repository;
  }

  /** Repository names in ascending order (cached until a repository is created or deleted). */
  sortedRepositoryNames(registry: RegistryRecord): string[] {
    registry.sortedNames ??= [...registry.repositories.keys()].sort();
    return registry.sortedNames;
  }

  /** Image digests in ascending order (cached until an image is created or deleted). */
  sortedDigests(repository: RepositoryRecord): string[] {
    repository.sortedDigests ??= [...repository.images.keys()].sort();
    return repository.sortedDigests;
  }

  setReplicationConfiguration(
    account: string,
    region: string,
    configuration: ReplicationConfiguration,
  ): void {
    this.registry(account, region).replicationConfiguration = structuredClone(configuration);
  }

  setRegistryPolicy(
    account: string,
    region: string,
    policy: { text: string; statements: PolicyStatement[] } | undefined,
  ): void {
    const registry = this.registry(account, region);
    if (policy) registry.policy = policy;
    else delete registry.policy;
  }

  // ---- blobs and images --------------------------------------------------------------------

  addBlob(repository: RepositoryRecord, blob: BlobRecord): void {
    const existing = repository.blobs.get(blob.digest);
    if (!existing || (!existing.bytes && blob.bytes)) repository.blobs.set(blob.digest, blob);
  }

  resolveTag(account: string, region: string, repository: string, tag: string): string | undefined {
    return this.getRepository(account, region, repository)?.tags.get(tag);
  }

  getImage(account: string, region: string, repository: string, digest: string): ImageRecord | undefined {
    return this.getRepository(account, region, repository)?.images.get(digest);
  }

  /** Stores a new image record (the caller checked blobs, children and limits). */
  createImage(
    repository: RepositoryRecord,
    input: {
      digest: string;
      manifest: string;
      mediaType: string;
      info: ManifestInfo;
      pushedAt?: number;
      status?: ImageStatus;
    },
  ): ImageRecord {
    const { info } = input;
    const sizeInBytes =
      info.kind === 'index'
        ? // Silent in AWS docs: the emulator reports an index's size as the sum of its children's.
          info.children.reduce(
            (sum, child) => sum + (repository.images.get(child.digest)?.sizeInBytes ?? 0),
            0,
          )
        : info.blobs.reduce((sum, blob) => sum + (repository.blobs.get(blob.digest)?.size ?? blob.size), 0);
    const image: ImageRecord = {
      digest: input.digest,
      manifest: input.manifest,
      mediaType: input.mediaType,
      kind: info.kind,
      ...(info.artifactMediaType ? { artifactMediaType: info.artifactMediaType } : {}),
      ...(info.subjectDigest ? { subjectDigest: info.subjectDigest } : {}),
      blobDigests: info.blobs.map((b) => b.digest),
      children: info.children.map((c) => c.digest),
      tags: [],
      sizeInBytes,
      pushedAt: input.pushedAt ?? this.now(),
      status: input.status ?? 'ACTIVE',
    };
    if (image.status === 'ARCHIVED') image.lastArchivedAt = image.pushedAt;
    repository.images.set(image.digest, image);
    repository.sortedDigests = undefined;
    for (const child of image.children) {
      let parents = repository.parents.get(child);
      if (!parents) {
        parents = new Set();
        repository.parents.set(child, parents);
      }
      parents.add(image.digest);
    }
    if (image.subjectDigest !== undefined) {
      let referrers = repository.referrers.get(image.subjectDigest);
      if (!referrers) {
        referrers = new Set();
        repository.referrers.set(image.subjectDigest, referrers);
      }
      referrers.add(image.digest);
    }
    this.emit({
      ...ref(repository),
      type: 'image-created',
      digest: image.digest,
      mediaType: image.mediaType,
    });
    return image;
  }

  /** Points `tag` at `digest`, taking it off the image that had it (which stays, untagged if need be). */
  setTag(repository: RepositoryRecord, tag: string, digest: string): string | undefined {
    const image = repository.images.get(digest);
    if (!image) throw new Error(`setTag: no image ${digest} in ${repository.name}`);
    const previousDigest = repository.tags.get(tag);
    if (previousDigest === digest) return previousDigest;
    if (previousDigest !== undefined) {
      const previous = repository.images.get(previousDigest);
      if (previous) previous.tags = previous.tags.filter((t) => t !== tag);
    }
    repository.tags.set(tag, digest);
    image.tags.push(tag);
    this.emit({
      ...ref(repository),
      type: 'tag-set',
      tag,
      digest,
      ...(previousDigest !== undefined ? { previousDigest } : {}),
    });
    return previousDigest;
  }

  /** Removes a tag; the image stays (callers decide whether an image left untagged is deleted). */
  removeTag(repository: RepositoryRecord, tag: string): ImageRecord | undefined {
    const digest = repository.tags.get(tag);
    if (digest === undefined) return undefined;
    repository.tags.delete(tag);
    const image = repository.images.get(digest);
    if (image) image.tags = image.tags.filter((t) => t !== tag);
    this.emit({ ...ref(repository), type: 'tag-removed', tag, digest });
    return image;
  }

  /** Deletes an image with all its tags and its replication statuses. Blobs stay (as in a registry before GC). */
  deleteImage(repository: RepositoryRecord, digest: string): ImageRecord | undefined {
    const image = repository.images.get(digest);
    if (!image) return undefined;
    for (const tag of [...image.tags]) this.removeTag(repository, tag);
    repository.images.delete(digest);
    repository.replication.delete(digest);
    for (const child of image.children) {
      const parents = repository.parents.get(child);
      parents?.delete(digest);
      if (parents?.size === 0) repository.parents.delete(child);
    }
    if (image.subjectDigest !== undefined) {
      const referrers = repository.referrers.get(image.subjectDigest);
      referrers?.delete(digest);
      if (referrers?.size === 0) repository.referrers.delete(image.subjectDigest);
    }
    repository.sortedDigests = undefined;
    this.emit({ ...ref(repository), type: 'image-deleted', digest });
    return image;
  }

  setImageStatus(repository: RepositoryRecord, image: ImageRecord, status: ImageStatus): void {
    if (image.status === status) return;
    image.status = status;
    if (status === 'ARCHIVED') image.lastArchivedAt = this.now();
    if (status === 'ACTIVE') image.lastActivatedAt = this.now();
    this.emit({ ...ref(repository), type: 'image-status', digest: image.digest, status });
  }

  /** Digests of the images in `repository` whose `subject` is `digest` (its OCI 1.1 referrers). */
  referrersOf(repository: RepositoryRecord, digest: string): string[] {
    return [...(repository.referrers.get(digest) ?? [])];
  }

  /** Digests of the indexes in `repository` that reference `digest`. */
  referencingIndexes(repository: RepositoryRecord, digest: string): string[] {
    return [...(repository.parents.get(digest) ?? [])];
  }

  setReplicationStatus(
    repository: RepositoryRecord,
    digest: string,
    destination: ReplicationDestination,
    status: ReplicationState,
    failureCode?: string,
  ): void {
    let statuses = repository.replication.get(digest);
    if (!statuses) {
      statuses = new Map();
      repository.replication.set(digest, statuses);
    }
    statuses.set(destinationKey(destination), {
      region: destination.region,
      registryId: destination.registryId,
      status,
      ...(failureCode ? { failureCode } : {}),
      updatedAt: this.now(),
    });
    this.emit({
      ...ref(repository),
      type: 'replication-status',
      digest,
      destination: { ...destination },
      status,
      ...(failureCode ? { failureCode } : {}),
    });
  }

  replicationStatuses(
    account: string,
    region: string,
    repository: string,
    digest: string,
  ): ReplicationStatusRecord[] {
    const statuses = this.getRepository(account, region, repository)?.replication.get(digest);
    return statuses ? [...statuses.values()].map((s) => ({ ...s })) : [];
  }

  /**
   * Seeds an image without the API: no quota, no call log, no replication, no mutability checks (tags
   * move). Referenced blobs are registered from the manifest's sizes unless given; index children must
   * already be in the repository. Returns the stored image.
   */
  putImageDirect(input: DirectImageInput): ImageRecord {
    const repository =
      input.createRepository === false
        ? this.requireRepository(input.account, input.region, input.repository)
        : this.ensureRepository(input.account, input.region, input.repository);
    let parsed: unknown;
    try {
      parsed = JSON.parse(input.manifest);
    } catch {
      throw invalidParameter('putImageDirect: the manifest is not valid JSON');
    }
    const declared =
      typeof parsed === 'object' &&
      parsed !== null &&
      'mediaType' in parsed &&
      typeof parsed.mediaType === 'string'
        ? parsed.mediaType
        : undefined;
    const mediaType = input.mediaType ?? declared;
    if (!mediaType) throw invalidParameter('putImageDirect: the manifest has no mediaType; pass one');
    const info = inspectManifest(parsed, mediaType);
    const digest = sha256Digest(input.manifest);
    for (const child of info.children) {
      if (!repository.images.has(child.digest)) {
        throw new EcrError(
          'ReferencedImagesNotFoundException',
          `putImageDirect: ${digest} references ${child.digest}, which is not in ${input.repository}; seed children first`,
        );
      }
    }
    for (const blob of input.blobs ?? []) this.addBlob(repository, blob);
    for (const blob of info.blobs) if (!repository.blobs.has(blob.digest)) this.addBlob(repository, blob);
    const image =
      repository.images.get(digest) ??
      this.createImage(repository, {
        digest,
        manifest: input.manifest,
        mediaType,
        info,
        ...(input.pushedAt !== undefined ? { pushedAt: input.pushedAt } : {}),
        ...(input.status ? { status: input.status } : {}),
      });
    for (const tag of input.tags ?? []) this.setTag(repository, tag, digest);
    return image;
  }
}

const ref = (repository: RepositoryRecord): RepositoryRef => ({
  account: repository.account,
  region: repository.region,
  repository: repository.name,
});
