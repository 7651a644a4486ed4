/**
 * Replication of deletes. A replication rule may carry `deleteReplication: {enabled: true}`; then,
 * for that rule's repositories and destinations, removing a tag from a source image removes the same
 * tag in each destination, and removing an image's last tag (or deleting it by digest) deletes the
 * image with all its tags there.
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-delete.html
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DeleteReplication.html
 *
 * `@aws-sdk/client-ecr` 3.1169 (the newest on the registry) does not model the field and its
 * deserializer drops unknown members, so DescribeRegistry is read here with a deserialize middleware
 * that keeps the raw JSON body as well: the rules come from the SDK as usual, the flag from the raw
 * response. Once the SDK models `deleteReplication`, read it from the output and drop the middleware.
 */
import { DescribeRegistryCommand, type ECRClient, type ReplicationRule } from '@aws-sdk/client-ecr';
import { z } from 'zod';
import type { DeleteReplicatingRule, Destination } from '../contracts/contracts.ts';

/** A rule as DescribeRegistry returns it, with the flag the SDK cannot see. */
export type ReplicationRuleWithDeletes = ReplicationRule & { deleteReplication?: { enabled: boolean } };

export interface SourceRegistry {
  registryId: string;
  rules: ReplicationRuleWithDeletes[];
}

const RawRegistrySchema = z.object({
  replicationConfiguration: z
    .object({
      rules: z
        .array(z.object({ deleteReplication: z.object({ enabled: z.boolean() }).optional() }).loose())
        .optional(),
    })
    .loose()
    .optional(),
});

type Next = (args: unknown) => Promise<{ response: unknown; output?: unknown }>;

/** Reads a Node or web stream (or bytes) completely. */
async function readAll(body: unknown): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body;
  const chunks: Uint8Array[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * DescribeRegistry with each rule's `deleteReplication` (from the raw response body).
 * The middleware sits after the SDK's deserializer in the deserialize step, so it sees the HTTP
 * response first: it buffers the body, keeps a copy, and hands the deserializer the same bytes.
 */
export async function describeRegistryWithDeleteReplication(client: ECRClient): Promise<SourceRegistry> {
  const command = new DescribeRegistryCommand({});
  let raw: Uint8Array | undefined;
  command.middlewareStack.add(
    ((next: Next) => async (args: unknown) => {
      const result = await next(args);
      const response = result.response as { body?: unknown };
      if (response.body !== undefined) {
        raw = await readAll(response.body);
        response.body = raw;
      }
      return result;
    }) as never,
    { step: 'deserialize', priority: 'low', name: 'ecrBackfillRawDescribeRegistry' },
  );
  const output = await client.send(command);
  if (output.registryId === undefined) throw new Error('DescribeRegistry returned no registryId');
  const parsed = raw ? RawRegistrySchema.safeParse(JSON.parse(Buffer.from(raw).toString('utf8'))) : undefined;
  const rawRules = parsed?.success ? (parsed.data.replicationConfiguration?.rules ?? []) : [];
  const rules = (output.replicationConfiguration?.rules ?? []).map(
    (rule, index): ReplicationRuleWithDeletes => {
      const flag = rawRules[index]?.deleteReplication;
      return flag ? { ...rule, deleteReplication: { enabled: flag.enabled } } : rule;
    },
  );
  return { registryId: output.registryId, rules };
}

export function deleteReplicatingRules(
  rules: readonly ReplicationRuleWithDeletes[],
): DeleteReplicatingRule[] {
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
