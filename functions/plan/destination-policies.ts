/**
 * Cross-account destinations: replication into another account's registry only happens when that
 * registry's permissions policy allows the source account `ecr:ReplicateImage` (and
 * `ecr:CreateRepository` to create missing repositories). Without it every push would replicate
 * nowhere and each item would time out hours later, so Plan reads each such destination's policy
 * through the destination's role and refuses the run before anything is written
 * (docs/architecture.md §3.1 step 1).
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-create-replication.html
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetRegistryPolicy.html
 * (RegistryPolicyNotFoundException when the registry has no policy)
 */
import { GetRegistryPolicyCommand } from '@aws-sdk/client-ecr';
import { z } from 'zod';
import type { Destination } from '../../core/contracts/contracts.ts';
import type { EcrClientProvider } from '../../core/deps.ts';
import { awsErrorName, ReplicationNotPermittedError, toStepError } from '../../core/errors/errors.ts';
import { describeDestination } from '../../core/contracts/input-schema.ts';
import type { Logger } from '../../core/logger.ts';
import { CREATE_REPOSITORY, REPLICATE_IMAGE, replicationPermission } from '../../core/ecr/registry-policy.ts';

const GetRegistryPolicyOutputSchema = z.object({ policyText: z.string().optional() });

/** The destination registry's policy text, `undefined` when it has none. */
async function destinationPolicy(
  ecr: EcrClientProvider,
  destination: Destination,
): Promise<string | undefined> {
  try {
    const output = await ecr({
      region: destination.region,
      registryId: destination.registryId,
      roleArn: destination.roleArn,
    }).send(new GetRegistryPolicyCommand({}));
    return GetRegistryPolicyOutputSchema.parse(output).policyText;
  } catch (error) {
    if (awsErrorName(error) === 'RegistryPolicyNotFoundException') return undefined;
    throw toStepError(error, `ECR GetRegistryPolicy in ${describeDestination(destination)}`);
  }
}

/** The statement a destination account adds to its registry policy (the AWS example's shape). */
export function replicationGrant(sourceAccount: string, destination: Destination): string {
  return JSON.stringify({
    Sid: 'ReplicationAccessCrossAccount',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${sourceAccount}:root` },
    Action: [CREATE_REPOSITORY, REPLICATE_IMAGE],
    Resource: `arn:aws:ecr:${destination.region}:${destination.registryId}:repository/*`,
  });
}

/**
 * Checks every destination in another account. One reached through its role has its policy read
 * and judged; one without a role cannot be read from here and is logged as unchecked. Throws
 * ReplicationNotPermitted naming every refusing destination and the statement to add.
 */
export async function refuseUnpermittedDestinations(
  ecr: EcrClientProvider,
  sourceAccount: string,
  destinations: readonly Destination[],
  logger: Logger,
): Promise<void> {
  const refusals: string[] = [];
  for (const destination of destinations) {
    if (destination.registryId === sourceAccount) continue;
    const name = describeDestination(destination);
    if (destination.roleArn === undefined) {
      logger.warn('Cross-account destination registry policy unchecked (no roleArn to read it with)', {
        destination: name,
      });
      continue;
    }
    const policyText = await destinationPolicy(ecr, destination);
    const permission = replicationPermission(policyText, sourceAccount, destination);
    if (!permission.replicate) {
      const why =
        policyText === undefined
          ? 'has no registry permissions policy'
          : permission.problem !== undefined
            ? `has a registry policy that cannot be read (${permission.problem})`
            : `has a registry policy that does not allow account ${sourceAccount} ${REPLICATE_IMAGE} on repository/*`;
      refusals.push(
        `account ${destination.registryId} in ${destination.region} (${name}) ${why}; add to its registry policy: ${replicationGrant(sourceAccount, destination)}`,
      );
    } else if (!permission.createRepository) {
      logger.warn(
        'Destination registry policy allows ecr:ReplicateImage but not ecr:CreateRepository: images of repositories missing there will not replicate',
        { destination: name },
      );
    }
  }
  if (refusals.length > 0) {
    throw new ReplicationNotPermittedError(
      `Replication from account ${sourceAccount} would be refused: ${refusals.join('; ')}. ` +
        'Nothing was written. Update the destination registry policy (ECR console → Private registry → Permissions, or `aws ecr put-registry-policy` in that account and Region), then start a new execution.',
    );
  }
}
