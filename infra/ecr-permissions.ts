/**
 * IAM statements for ECR, scoped to repository ARNs.
 *
 * Actions, resource types and their resource-level support:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { EcrLayerReadAction, EcrReadAction, EcrWriteAction } from '../core/steps.ts';

/** Any Region: used when the destination Regions are not known at deploy time (they come from DescribeRegistry). */
export const ANY_REGION = '*';

export interface RepositoryScope {
  /** Regions whose repositories are in scope; `*` for any Region of this account. */
  readonly regions: readonly string[];
  /** Repository name prefixes; empty means every repository. */
  readonly repositoryPrefixes: readonly string[];
  /** Other accounts reached directly (the construct's `directAccounts`), besides this one. */
  readonly otherAccounts?: readonly string[];
}

/** Repository ARNs of this account for each Region × prefix (`repository/<prefix>*`). */
export function repositoryArns(
  scope: Construct,
  regions: readonly string[],
  prefixes: readonly string[],
  otherAccounts: readonly string[] = [],
): string[] {
  const stack = Stack.of(scope);
  const names = prefixes.length === 0 ? ['*'] : prefixes.map((prefix) => `${prefix}*`);
  // This account (the stack's), then each other account reached directly.
  const accounts: (string | undefined)[] = [undefined, ...otherAccounts];
  const arns = accounts.flatMap((account) =>
    regions.flatMap((region) =>
      names.map((resourceName) =>
        stack.formatArn({
          service: 'ecr',
          region,
          ...(account !== undefined ? { account } : {}),
          resource: 'repository',
          resourceName,
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        }),
      ),
    ),
  );
  return [...new Set(arns)];
}

/**
 * A step's reads (its row's `sourceReads` or `destinationReads`) on every repository of the
 * registries in scope, even when writes are prefix-scoped: listing (`DescribeRepositories` without
 * names) is authorized against `repository/*`, and reading outside the prefixes is how the planner
 * reports repositories it will not touch.
 */
export function ecrReadStatement(
  scope: Construct,
  sid: string,
  actions: readonly EcrReadAction[],
  target: Omit<RepositoryScope, 'repositoryPrefixes'>,
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: [...actions],
    resources: repositoryArns(scope, target.regions, [], target.otherAccounts),
  });
}

/** `ecr:DescribeRegistry` has no resource type: the service only accepts `*` for it. */
export function describeRegistryStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DescribeRegistryHasNoResourceType',
    actions: ['ecr:DescribeRegistry'],
    resources: ['*'],
  });
}

/**
 * Writes (and a source's blob downloads) only on repository ARNs (prefix-scoped when prefixes are
 * given), never on `*`.
 */
export function ecrWriteStatement(
  scope: Construct,
  sid: string,
  actions: readonly (EcrWriteAction | EcrLayerReadAction)[],
  target: RepositoryScope,
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: [...actions],
    resources: repositoryArns(scope, target.regions, target.repositoryPrefixes, target.otherAccounts),
  });
}
