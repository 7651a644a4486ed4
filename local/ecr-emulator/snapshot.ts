import type { Backfill } from './backfill.ts';
import type { ReplicationConfiguration, World } from './world.ts';

/** Plain-JSON view of the whole emulator state (what `--state-out` writes). Times are ISO strings. */
export interface EmulatorSnapshot {
  defaultAccount: string;
  registries: RegistrySnapshot[];
}

export interface RegistrySnapshot {
  account: string;
  region: string;
  replicationConfiguration: ReplicationConfiguration;
  repositories: RepositorySnapshot[];
  backfills: BackfillSnapshot[];
}

export interface RepositorySnapshot {
  name: string;
  imageTagMutability: string;
  imageTagMutabilityExclusionFilters: { filterType: string; filter: string }[];
  createdAt: string;
  blobCount: number;
  images: ImageSnapshot[];
}

export interface ImageSnapshot {
  digest: string;
  tags: string[];
  mediaType: string;
  artifactMediaType?: string;
  /** An OCI 1.1 referrer: the digest its manifest names as `subject`. */
  subject?: string;
  status: string;
  pushedAt: string;
  sizeInBytes: number;
  children?: string[];
  replication: { region: string; registryId: string; status: string; failureCode?: string }[];
}

export interface BackfillSnapshot {
  replicationBackfillId: string;
  destination: { region: string; registryId: string };
  status: string;
  failureCode?: string;
  total: number;
  completed: number;
  failed: number;
  startedAt: string;
  endedAt?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function takeSnapshot(world: World, defaultAccount: string, backfills: Backfill[]): EmulatorSnapshot {
  const registries = world
    .registries()
    .sort((a, b) => a.account.localeCompare(b.account) || a.region.localeCompare(b.region))
    .map((registry): RegistrySnapshot => ({
      account: registry.account,
      region: registry.region,
      replicationConfiguration: structuredClone(registry.replicationConfiguration),
      repositories: world.sortedRepositoryNames(registry).flatMap((name) => {
        const repository = registry.repositories.get(name);
        if (!repository) return [];
        return [
          {
            name,
            imageTagMutability: repository.mutability,
            imageTagMutabilityExclusionFilters: repository.exclusionFilters.map((f) => ({ ...f })),
            createdAt: iso(repository.createdAt),
            blobCount: repository.blobs.size,
            images: world.sortedDigests(repository).flatMap((digest) => {
              const image = repository.images.get(digest);
              if (!image) return [];
              const snapshot: ImageSnapshot = {
                digest,
                tags: [...image.tags],
                mediaType: image.mediaType,
                ...(image.artifactMediaType ? { artifactMediaType: image.artifactMediaType } : {}),
                ...(image.subjectDigest !== undefined ? { subject: image.subjectDigest } : {}),
                status: image.status,
                pushedAt: iso(image.pushedAt),
                sizeInBytes: image.sizeInBytes,
                ...(image.children.length > 0 ? { children: [...image.children] } : {}),
                replication: [...(repository.replication.get(digest)?.values() ?? [])].map((s) => ({
                  region: s.region,
                  registryId: s.registryId,
                  status: s.status,
                  ...(s.failureCode ? { failureCode: s.failureCode } : {}),
                })),
              };
              return [snapshot];
            }),
          },
        ];
      }),
      backfills: backfills
        .filter((b) => b.account === registry.account && b.region === registry.region)
        .map((b) => ({
          replicationBackfillId: b.id,
          destination: { ...b.destination },
          status: b.status,
          ...(b.failureCode ? { failureCode: b.failureCode } : {}),
          total: b.items.length,
          completed: b.completed,
          failed: b.failed,
          startedAt: iso(b.startedAt),
          ...(b.endedAt !== undefined ? { endedAt: iso(b.endedAt) } : {}),
        })),
    }));
  return { defaultAccount, registries };
}
