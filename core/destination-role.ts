/**
 * The identity policy of a destination role (a role in a destination account that the functions
 * assume, named by a destination's `roleArn`): every action the steps call through it
 * (DESTINATION_ROLE_ACTIONS, from the step table), on that account's repositories, and
 * `ecr:GetRegistryPolicy`, which has no resource type (only `*`):
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
 * Shipped as docs/iam/destination-role.json (`npm run docs`) for users to attach.
 */
import { DESTINATION_ROLE_ACTIONS } from './steps.ts';

const REGISTRY_LEVEL = new Set(['ecr:GetRegistryPolicy']);

export function destinationRolePolicy(): Record<string, unknown> {
  const repositoryActions = DESTINATION_ROLE_ACTIONS.filter((a) => !REGISTRY_LEVEL.has(a));
  const registryActions = DESTINATION_ROLE_ACTIONS.filter((a) => REGISTRY_LEVEL.has(a));
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'EcrBackfillDestinationRepositories',
        Effect: 'Allow',
        Action: repositoryActions,
        Resource: 'arn:aws:ecr:*:*:repository/*',
      },
      ...(registryActions.length > 0
        ? [
            {
              Sid: 'EcrBackfillReadRegistryPolicy',
              Effect: 'Allow',
              Action: registryActions,
              Resource: '*',
            },
          ]
        : []),
    ],
  };
}
