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
import {
  awsErrorName,
  DestinationAccountNotGrantedError,
  ReplicationNotPermittedError,
  toStepError,
} from '../../core/errors/errors.ts';
import { ECR_READ_ACTIONS, LAYER_UPLOAD_ACTIONS } from '../../core/steps.ts';
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
 * What a directly reached account's registry policy allows the source account: replication, and the
 * calls the steps make there with their own roles (reads, and the writes of promote). Cross-account
 * access needs both sides: the functions' identity policies (the construct's `directAccounts`) and
 * this resource policy in the other account.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
 */
export function directAccessGrant(sourceAccount: string, account: string): string {
  return JSON.stringify({
    Sid: 'EcrBackfillDirectAccess',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${sourceAccount}:root` },
    Action: [
      CREATE_REPOSITORY,
      REPLICATE_IMAGE,
      ...ECR_READ_ACTIONS,
      'ecr:PutImage',
      'ecr:BatchDeleteImage',
      // PromoteTags copies referrers' blobs there (core/ecr/referrers.ts).
      ...LAYER_UPLOAD_ACTIONS,
    ],
    Resource: `arn:aws:ecr:*:${account}:repository/*`,
  });
}

/**
 * A destination in another account is reached either through its `roleArn` or directly, when the
 * deployment names its account in `directAccounts` (which grants the functions' side). Any other is
 * refused here, before anything is written: every call there would be AccessDenied in AWS.
 */
export function refuseUngrantedDestinations(
  sourceAccount: string,
  destinations: readonly Destination[],
  directAccounts: readonly string[],
): void {
  const refusals = destinations
    .filter((d) => d.registryId !== sourceAccount && d.roleArn === undefined)
    .filter((d) => !directAccounts.includes(d.registryId))
    .map(
      (d) =>
        `${describeDestination(d)} is in account ${d.registryId}, which this deployment cannot reach: ` +
        `name a role of that account in the destination's roleArn (and deploy with -c destinationRoleArns=<that role>), ` +
        `or deploy with -c directAccounts=${d.registryId} and add to that account's registry policy in ${d.region}: ` +
        directAccessGrant(sourceAccount, d.registryId),
    );
  if (refusals.length > 0) {
    throw new DestinationAccountNotGrantedError(
      `${refusals.join('; ')}. Nothing was written; start a new execution once it is granted.`,
    );
  }
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
