/**
 * Finds the temp tags a run left behind (abandoned, failed, or stopped runs) and deletes them
 * safely: never an image's last tag, since "when you remove the last tag from an image, the image
 * is deleted" (BatchDeleteImage, botocore ECR model). Each image's tags are read again right before
 * its delete, so a tag someone removed meanwhile cannot turn a temp tag into the last one unnoticed.
 * An untagged image backfilled with `includeUntagged` keeps the temp tag as its marker: it has no
 * other tag, so it is kept by the same rule.
 */
import { paginateDescribeImages, paginateDescribeRepositories, type ImageDetail } from '@aws-sdk/client-ecr';
import type { EcrClientProvider } from '../../core/deps.ts';
import { awsErrorName } from '../../core/errors/errors.ts';
import { deleteTags, describeImageTags } from '../../core/ecr/ecr.ts';
import { repositoryMatcher } from '../../core/contracts/patterns.ts';
import { isTempTagOf } from '../../core/ecr/temp-tags.ts';

export interface Registry {
  role: 'source' | 'destination';
  region: string;
  registryId: string;
  roleArn?: string;
}

export interface TempTagSelection {
  tempTagPrefix: string;
  /** Only this run's temp tags. */
  runId?: string;
  /** Only temp tags on images pushed before this instant (epoch ms). */
  pushedBefore?: number;
  repositories: string[];
  /** Runs whose temp tags stay (still running): each is reported kept, with the reason given. */
  spared?: readonly { runId: string; reason: string }[];
}

export type CleanupAction = 'would-delete' | 'deleted' | 'kept' | 'failed';

export interface CleanupEntry {
  registry: Registry;
  repositoryName: string;
  imageDigest: string;
  tag: string;
  action: CleanupAction;
  reason?: string;
}

export interface RegistryProblem {
  registry: Registry;
  message: string;
}

export interface CleanupResult {
  entries: CleanupEntry[];
  problems: RegistryProblem[];
}

const ECR_PAGE_SIZE = 1000;

function clientFor(ecr: EcrClientProvider, registry: Registry) {
  return ecr({
    region: registry.region,
    registryId: registry.registryId,
    ...(registry.roleArn ? { roleArn: registry.roleArn } : {}),
  });
}

interface Candidate {
  repositoryName: string;
  imageDigest: string;
  /** Every tag of the image when it was listed. */
  tags: string[];
  tempTags: string[];
  /** Temp tags of a spared run, with why they stay. */
  spared: { tag: string; reason: string }[];
}

async function* candidatesIn(
  ecr: EcrClientProvider,
  registry: Registry,
  selection: TempTagSelection,
): AsyncGenerator<Candidate> {
  const client = clientFor(ecr, registry);
  const selects = repositoryMatcher(selection.repositories);
  const repositories = paginateDescribeRepositories(
    { client, pageSize: ECR_PAGE_SIZE },
    { registryId: registry.registryId, maxResults: ECR_PAGE_SIZE },
  );
  for await (const page of repositories) {
    for (const repository of page.repositories ?? []) {
      const repositoryName = repository.repositoryName;
      if (!repositoryName || !selects(repositoryName)) continue;
      const images = paginateDescribeImages(
        { client, pageSize: ECR_PAGE_SIZE },
        {
          registryId: registry.registryId,
          repositoryName,
          filter: { tagStatus: 'TAGGED' },
          maxResults: ECR_PAGE_SIZE,
        },
      );
      for await (const imagePage of images) {
        for (const image of imagePage.imageDetails ?? []) {
          const candidate = candidateOf(repositoryName, image, selection);
          if (candidate) yield candidate;
        }
      }
    }
  }
}

function candidateOf(
  repositoryName: string,
  image: ImageDetail,
  selection: TempTagSelection,
): Candidate | undefined {
  const imageDigest = image.imageDigest;
  if (!imageDigest) return undefined;
  // Ours only if the tag names this very image's digest (and the run, with --run): a look-alike
  // tag on another image is someone else's.
  const ours = (image.imageTags ?? []).filter((tag) =>
    isTempTagOf(tag, selection.tempTagPrefix, imageDigest, selection.runId),
  );
  if (ours.length === 0) return undefined;
  if (selection.pushedBefore !== undefined) {
    const pushedAt = image.imagePushedAt?.getTime();
    if (pushedAt === undefined || pushedAt >= selection.pushedBefore) return undefined;
  }
  const spared: Candidate['spared'] = [];
  const tempTags = ours.filter((tag) => {
    const run = selection.spared?.find((r) =>
      isTempTagOf(tag, selection.tempTagPrefix, imageDigest, r.runId),
    );
    if (run) spared.push({ tag, reason: run.reason });
    return !run;
  });
  return { repositoryName, imageDigest, tags: image.imageTags ?? [], tempTags, spared };
}

/** What may go from one image whose tags are `current`: the temp tags, unless nothing else would remain. */
function decide(
  current: readonly string[],
  tempTags: readonly string[],
): { remove: string[]; reason?: string } {
  const remove = tempTags.filter((tag) => current.includes(tag));
  const remaining = current.filter((tag) => !remove.includes(tag));
  if (remaining.length === 0) {
    return {
      remove: [],
      reason:
        'only tag(s) of the image: deleting would delete the image (an untagged image keeps its marker tag)',
    };
  }
  return { remove };
}

export async function cleanupTempTags(
  ecr: EcrClientProvider,
  registries: readonly Registry[],
  selection: TempTagSelection,
  options: { apply: boolean },
): Promise<CleanupResult> {
  const result: CleanupResult = { entries: [], problems: [] };
  const record = (entry: CleanupEntry) => result.entries.push(entry);
  for (const registry of registries) {
    const client = clientFor(ecr, registry);
    try {
      for await (const candidate of candidatesIn(ecr, registry, selection)) {
        const ref = { registryId: registry.registryId, repositoryName: candidate.repositoryName };
        const base = {
          registry,
          repositoryName: candidate.repositoryName,
          imageDigest: candidate.imageDigest,
        };
        for (const { tag, reason } of candidate.spared) record({ ...base, tag, action: 'kept', reason });
        if (candidate.tempTags.length === 0) continue;
        // Before deleting, read the tags again: the listing may be minutes old.
        const tags = options.apply
          ? await describeImageTags(client, ref, candidate.imageDigest)
          : candidate.tags;
        if (tags === undefined) {
          for (const tag of candidate.tempTags)
            record({ ...base, tag, action: 'kept', reason: 'the image is gone' });
          continue;
        }
        const decision = decide(tags, candidate.tempTags);
        for (const tag of candidate.tempTags) {
          if (!decision.remove.includes(tag)) {
            record({ ...base, tag, action: 'kept', reason: decision.reason ?? 'no longer on the image' });
          }
        }
        if (decision.remove.length === 0) continue;
        if (!options.apply) {
          for (const tag of decision.remove) record({ ...base, tag, action: 'would-delete' });
          continue;
        }
        try {
          const deleted = await deleteTags(client, ref, decision.remove);
          for (const tag of deleted.deleted) record({ ...base, tag, action: 'deleted' });
          for (const tag of deleted.absent) record({ ...base, tag, action: 'kept', reason: 'already gone' });
        } catch (error) {
          for (const tag of decision.remove) {
            record({
              ...base,
              tag,
              action: 'failed',
              reason: `${awsErrorName(error) ?? 'Error'}: ${messageOf(error)}`,
            });
          }
        }
      }
    } catch (error) {
      result.problems.push({ registry, message: `${awsErrorName(error) ?? 'Error'}: ${messageOf(error)}` });
    }
  }
  return result;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
