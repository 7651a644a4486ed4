/**
 * The baseline: the classic single-loop backfill trick, as the community workaround describes it
 * (https://github.com/aws/containers-roadmap/issues/1252 — re-push each existing image so that ECR
 * counts a push and replication copies it; docs/architecture.md §1 lists its flaws).
 *
 * What it models, per tag, exactly like the naive script:
 * - one loop, sequential, no batching: for each repository, for each image, for each tag;
 * - a temp tag per *tag* (`<tag>-bkfl`, cut to ECR's 128 characters) put on the manifest first, so that
 *   deleting the original tag can never delete the image;
 * - the original tag is deleted (BatchDeleteImage) and put back (PutImage with the same manifest):
 *   that re-put is the push replication copies — and the window in which pulls by that tag fail;
 * - after all tags of an image: wait for replication of that image (poll
 *   DescribeImageReplicationStatus until nothing is IN_PROGRESS), then delete the temp tags in the
 *   source and in every destination (replication carried them there too);
 * - no comparison with the destinations (already-present images are re-pushed), no digest check in
 *   the destinations, no resume: a crash leaves temp tags and missing tags behind.
 * What it is given so that the comparison measures the per-tag loop and not missing features (the
 * naive script lacks all of these): full pagination of repositories and images; manifests fetched
 * by digest with every media type accepted (so OCI and multi-arch images work, bytes unchanged);
 * repositories no replication rule covers are skipped (one DescribeRegistry); the SDK's standard
 * retries (throttling, 5xx) instead of none.
 */
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImageReplicationStatusCommand,
  DescribeRegistryCommand,
  ECRClient,
  ImageAlreadyExistsException,
  PutImageCommand,
  paginateDescribeImages,
  paginateDescribeRepositories,
  type ReplicationRule,
} from '@aws-sdk/client-ecr';

export const CLASSIC_TEMP_TAG_SUFFIX = '-bkfl';
const MAX_TAG_LENGTH = 128;

const ALL_MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
];

export interface ClassicTrickOptions {
  /** An ECR endpoint (the emulator). */
  endpoint: string;
  sourceRegion: string;
  /** The caller's account (the emulator reads it from the access key). */
  account: string;
  /** Pause between two DescribeImageReplicationStatus polls of one image. */
  pollIntervalMs: number;
  /** Give up waiting for one image after this long (the naive script would wait forever). */
  replicationTimeoutMs?: number;
  /** SDK attempts per call (standard retry mode). Default 5. */
  maxAttempts?: number;
}

export interface ClassicTrickResult {
  repositories: number;
  images: number;
  tags: number;
  /** Tags whose delete or re-put failed: after a delete, such a tag is gone from the source. */
  errors: { repository: string; tag?: string; message: string }[];
  replicationTimeouts: number;
}

export function classicTempTag(tag: string): string {
  return `${tag.slice(0, MAX_TAG_LENGTH - CLASSIC_TEMP_TAG_SUFFIX.length)}${CLASSIC_TEMP_TAG_SUFFIX}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function credentials(account: string) {
  return { accessKeyId: `AKIA${account}`, secretAccessKey: 'emulator-secret-key' };
}

function covering(rules: ReplicationRule[], repository: string): { region: string; registryId: string }[] {
  const found = new Map<string, { region: string; registryId: string }>();
  for (const rule of rules) {
    const filters = rule.repositoryFilters ?? [];
    if (filters.length > 0 && !filters.some((f) => f.filter !== undefined && repository.startsWith(f.filter)))
      continue;
    for (const d of rule.destinations ?? []) {
      if (d.region && d.registryId)
        found.set(`${d.registryId}/${d.region}`, { region: d.region, registryId: d.registryId });
    }
  }
  return [...found.values()];
}

export async function runClassicTrick(options: ClassicTrickOptions): Promise<ClassicTrickResult> {
  const clients = new Map<string, ECRClient>();
  const clientFor = (region: string): ECRClient => {
    let client = clients.get(region);
    if (!client) {
      client = new ECRClient({
        endpoint: options.endpoint,
        region,
        credentials: credentials(options.account),
        maxAttempts: options.maxAttempts ?? 5,
      });
      clients.set(region, client);
    }
    return client;
  };
  const source = clientFor(options.sourceRegion);
  const result: ClassicTrickResult = {
    repositories: 0,
    images: 0,
    tags: 0,
    errors: [],
    replicationTimeouts: 0,
  };
  try {
    const registry = await source.send(new DescribeRegistryCommand({}));
    const rules = registry.replicationConfiguration?.rules ?? [];
    for await (const page of paginateDescribeRepositories(
      { client: source, pageSize: 1000 },
      { maxResults: 1000 },
    )) {
      for (const repository of page.repositories ?? []) {
        const name = repository.repositoryName;
        if (!name) continue;
        const destinations = covering(rules, name);
        if (destinations.length === 0) continue;
        result.repositories += 1;
        const images = paginateDescribeImages(
          { client: source, pageSize: 1000 },
          { repositoryName: name, filter: { tagStatus: 'TAGGED' }, maxResults: 1000 },
        );
        for await (const imagesPage of images) {
          for (const image of imagesPage.imageDetails ?? []) {
            if (!image.imageDigest || !image.imageTags?.length) continue;
            result.images += 1;
            await backfillImage(
              options,
              source,
              clientFor,
              name,
              image.imageDigest,
              image.imageTags,
              destinations,
              result,
            );
          }
        }
      }
    }
  } finally {
    for (const client of clients.values()) client.destroy();
  }
  return result;
}

async function putTag(
  client: ECRClient,
  repositoryName: string,
  manifest: string,
  mediaType: string | undefined,
  tag: string,
) {
  try {
    await client.send(
      new PutImageCommand({
        repositoryName,
        imageManifest: manifest,
        ...(mediaType ? { imageManifestMediaType: mediaType } : {}),
        imageTag: tag,
      }),
    );
  } catch (error) {
    if (!(error instanceof ImageAlreadyExistsException)) throw error;
  }
}

async function backfillImage(
  options: ClassicTrickOptions,
  source: ECRClient,
  clientFor: (region: string) => ECRClient,
  repositoryName: string,
  digest: string,
  tags: string[],
  destinations: { region: string; registryId: string }[],
  result: ClassicTrickResult,
): Promise<void> {
  const got = await source.send(
    new BatchGetImageCommand({
      repositoryName,
      imageIds: [{ imageDigest: digest }],
      acceptedMediaTypes: ALL_MANIFEST_TYPES,
    }),
  );
  const image = got.images?.[0];
  if (!image?.imageManifest) {
    result.errors.push({ repository: repositoryName, message: `manifest ${digest} not readable` });
    return;
  }
  const manifest = image.imageManifest;
  const mediaType = image.imageManifestMediaType;
  const temps: string[] = [];
  for (const tag of tags) {
    result.tags += 1;
    const temp = classicTempTag(tag);
    try {
      await putTag(source, repositoryName, manifest, mediaType, temp);
      temps.push(temp);
      await source.send(new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageTag: tag }] }));
      await putTag(source, repositoryName, manifest, mediaType, tag);
    } catch (error) {
      result.errors.push({ repository: repositoryName, tag, message: (error as Error).message });
    }
  }

  const deadline = performance.now() + (options.replicationTimeoutMs ?? 600_000);
  for (;;) {
    const status = await source.send(
      new DescribeImageReplicationStatusCommand({ repositoryName, imageId: { imageDigest: digest } }),
    );
    if (!(status.replicationStatuses ?? []).some((s) => s.status === 'IN_PROGRESS')) break;
    if (performance.now() > deadline) {
      result.replicationTimeouts += 1;
      break;
    }
    await sleep(options.pollIntervalMs);
  }

  if (temps.length === 0) return;
  const imageIds = temps.map((imageTag) => ({ imageTag }));
  await source.send(new BatchDeleteImageCommand({ repositoryName, imageIds }));
  for (const d of destinations) {
    try {
      await clientFor(d.region).send(
        new BatchDeleteImageCommand({ registryId: d.registryId, repositoryName, imageIds }),
      );
    } catch (error) {
      result.errors.push({
        repository: repositoryName,
        message: `cleanup in ${d.region}: ${(error as Error).message}`,
      });
    }
  }
}
