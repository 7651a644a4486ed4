/**
 * Replication of deletes. A replication rule may carry `deleteReplication: {enabled: true}`; then,
 * for that rule's repositories and destinations, removing a tag from a source image removes the same
 * tag in each destination, and removing an image's last tag (or deleting it by digest) deletes the
 * image with all its tags there.
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-delete.html
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DeleteReplication.html
 */
import { DescribeRegistryCommand, type ECRClient, type ReplicationRule } from '@aws-sdk/client-ecr';
import type { DeleteReplicatingRule, Destination } from '../contracts/contracts.ts';

export interface SourceRegistry {
  registryId: string;
  rules: ReplicationRule[];
}

/** The source registry's id and replication rules, each with its `deleteReplication` flag. */
export async function describeRegistryWithDeleteReplication(client: ECRClient): Promise<SourceRegistry> {
  const output = await client.send(new DescribeRegistryCommand({}));
  if (output.registryId === undefined) throw new Error('DescribeRegistry returned no registryId');
  return { registryId: output.registryId, rules: output.replicationConfiguration?.rules ?? [] };
}

export function deleteReplicatingRules(rules: readonly ReplicationRule[]): DeleteReplicatingRule[] {
  return rules.flatMap((rule, index) =>
    rule.deleteReplication?.enabled === true
      ? [
          {
            rule: index,
            destinations: (rule.destinations ?? []).map((d) => ({
              region: d.region ?? '',
              registryId: d.registryId ?? '',
            })),
            repositoryFilters: (rule.repositoryFilters ?? []).map((f) => f.filter ?? ''),
          },
        ]
      : [],
  );
}

/** The literal start of a repository selector: every name it selects starts with it. */
function literalPrefix(pattern: string): string {
  const wildcard = pattern.search(/[*?]/);
  return wildcard < 0 ? pattern : pattern.slice(0, wildcard);
}

/**
 * Whether a rule may cover a repository the selection selects. Sound without listing anything: a
 * selected name starts with its pattern's literal prefix `p`, a covered one with a filter `f`, so
 * both can hold only when one of `p` and `f` starts with the other. (It may say yes for a selection
 * that, once listed, holds no such repository: the refusal it drives errs on the safe side.)
 */
export function ruleMayCoverSelection(
  rule: DeleteReplicatingRule,
  repositoryPatterns: readonly string[],
): boolean {
  if (rule.repositoryFilters.length === 0 || repositoryPatterns.length === 0) return true;
  return repositoryPatterns.some((pattern) => {
    const prefix = literalPrefix(pattern);
    return rule.repositoryFilters.some((filter) => prefix.startsWith(filter) || filter.startsWith(prefix));
  });
}

/** Destinations a delete in the selected repositories would be replayed in, without duplicates. */
export function destinationsReplayingDeletes(
  rules: readonly DeleteReplicatingRule[],
  repositoryPatterns: readonly string[],
): Destination[] {
  const seen = new Map<string, Destination>();
  for (const rule of rules) {
    if (!ruleMayCoverSelection(rule, repositoryPatterns)) continue;
    for (const d of rule.destinations) seen.set(`${d.registryId}/${d.region}`, d);
  }
  return [...seen.values()];
}
