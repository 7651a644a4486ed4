/**
 * Registry permissions policies: the resource policy of a private registry, which ECR consults when
 * another account replicates into it or (as the emulator's one model of resource policies) acts on
 * it directly.
 *
 * - Cross-account replication: "the destination registry's permissions policy must allow the source
 *   registry's account `ecr:ReplicateImage`", and `ecr:CreateRepository` for replication to create
 *   repositories there.
 *   https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-create-replication.html
 * - Policy evaluation: an explicit Deny wins, then an Allow is needed; nothing allows by default.
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 *
 * Calls are authorized by the local IAM evaluator (iam/authorize-call.ts), the registry's policy
 * being the resource policy of every ECR call into the registry. This module parses policies as
 * PutRegistryPolicy does, and builds the fixtures' grants.
 */
import { parsePolicyStatements, type PolicyStatement } from 'ecr-backfill/core';
import { invalidParameter } from './errors.ts';

export type { PolicyStatement };

/** Parses a policy document, naming what is wrong (PutRegistryPolicy's InvalidParameterException). */
export function parseRegistryPolicy(policyText: string): PolicyStatement[] {
  const parsed = parsePolicyStatements(policyText);
  if ('problem' in parsed) throw invalidParameter(`Invalid parameter at 'policyText': ${parsed.problem}`);
  return parsed.statements;
}

/**
 * What a destination account grants a source account so that replication can land there and a
 * backfill running in the source account (without a role in the destination) can read, verify and
 * promote there: the replication actions plus the repository calls the workflow makes.
 */
export const CROSS_ACCOUNT_BACKFILL_ACTIONS: readonly string[] = [
  'ecr:ReplicateImage',
  'ecr:CreateRepository',
  'ecr:DescribeRepositories',
  'ecr:DescribeImages',
  'ecr:ListImages',
  'ecr:BatchGetImage',
  'ecr:PutImage',
  'ecr:BatchDeleteImage',
  // A referrer's copy uploads its blobs (core/ecr/referrers.ts).
  'ecr:BatchCheckLayerAvailability',
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
];

/** A policy text allowing `accounts` the given actions on every repository (fixtures, tests). */
export function allowAccountsPolicy(accounts: readonly string[], actions: readonly string[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'EcrBackfillEmulatorGrant',
        Effect: 'Allow',
        Principal: { AWS: accounts.map((a) => `arn:aws:iam::${a}:root`) },
        Action: [...actions],
        Resource: '*',
      },
    ],
  });
}
