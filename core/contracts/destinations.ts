/**
 * Destinations of a run, resolved against the registry's replication configuration: the backfill
 * only ever targets what replication itself would target, so a destination the configuration does
 * not list is an input error, not a silent no-op.
 */
import type { ReplicationRule } from '@aws-sdk/client-ecr';
import type { Destination } from './contracts.ts';
import { describeDestination, type DestinationRequest } from './input-schema.ts';

/** Every distinct destination of every rule, in configuration order. */
export function configuredDestinations(rules: readonly ReplicationRule[]): Destination[] {
  const seen = new Set<string>();
  const destinations: Destination[] = [];
  for (const rule of rules) {
    for (const d of rule.destinations ?? []) {
      if (d.region === undefined || d.registryId === undefined) continue;
      const key = `${d.region}/${d.registryId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      destinations.push({ region: d.region, registryId: d.registryId });
    }
  }
  return destinations;
}

export interface ResolvedDestinations {
  destinations: Destination[];
  /** Input problems, phrased like the schema's (`destinations[1]: ...`). */
  problems: string[];
}

/**
 * No request: every configured destination. A request naming only a Region selects every configured
 * destination in that Region; with a registryId, exactly that one. A roleArn travels with the
 * destinations its request selected.
 */
export function resolveDestinations(
  requests: readonly DestinationRequest[],
  rules: readonly ReplicationRule[],
): ResolvedDestinations {
  const configured = configuredDestinations(rules);
  if (requests.length === 0) return { destinations: configured, problems: [] };

  const problems: string[] = [];
  const selected = new Map<string, Destination>();
  requests.forEach((request, index) => {
    const matches = configured.filter(
      (d) =>
        d.region === request.region &&
        (request.registryId === undefined || d.registryId === request.registryId),
    );
    if (matches.length === 0) {
      const list = configured.length > 0 ? configured.map((d) => describeDestination(d)).join(', ') : 'none';
      problems.push(
        `destinations[${index}]: ${describeDestination(request)} is not a destination of the registry's replication configuration (configured: ${list})`,
      );
      return;
    }
    const roleAccount = request.roleArn?.split(':')[4];
    for (const match of matches) {
      // A role reaches the registry of its own account only: a role elsewhere is a mistake (or a
      // way to act in an account the destination is not in).
      if (roleAccount !== undefined && roleAccount !== match.registryId) {
        problems.push(
          `destinations[${index}].roleArn: the role is in account ${roleAccount}, but the destination ${describeDestination(match)} is in ${match.registryId}; roleArn must be a role of the destination account`,
        );
        continue;
      }
      const key = `${match.region}/${match.registryId}`;
      const previous = selected.get(key);
      const roleArn = request.roleArn ?? previous?.roleArn;
      selected.set(key, { ...match, ...(roleArn !== undefined && { roleArn }) });
    }
  });
  return { destinations: [...selected.values()], problems };
}
