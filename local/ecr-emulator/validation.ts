import { createHash } from 'node:crypto';
import { invalidParameter } from './errors.ts';

// Patterns from the ECR API reference (CreateRepository, ImageIdentifier, ReplicationDestination).
// A repository name's components are separated by `.`, `_`, `__` or any run of `-` (a__b, a--b,
// a/b---c are valid), as in AWS's current model of RepositoryName (length 2-256).
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html
// https://docs.aws.amazon.com/cli/latest/reference/ecr/create-repository.html
const REPOSITORY_NAME_PATTERN = '[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*';
const REPOSITORY_NAME = new RegExp(`^(?:${REPOSITORY_NAME_PATTERN})$`);
const DIGEST = /^[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+$/;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
const REGISTRY_ID = /^[0-9]{12}$/;
const REGION = /^[0-9a-z-]{2,25}$/;
// Docker's tag grammar; ECR allows up to 300 characters.
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageIdentifier.html
const TAG = /^[\w][\w.-]{0,299}$/;

export const sha256Digest = (bytes: Uint8Array | string): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export const isValidRepositoryName = (name: string): boolean =>
  name.length >= 2 && name.length <= 256 && REPOSITORY_NAME.test(name);
export const isValidDigest = (digest: string): boolean => DIGEST.test(digest) && digest.length <= 200;
export const isSha256Digest = (digest: string): boolean => SHA256_DIGEST.test(digest);
export const isValidTag = (tag: string): boolean => TAG.test(tag);
export const isValidRegistryId = (id: string): boolean => REGISTRY_ID.test(id);
export const isValidRegion = (region: string): boolean => REGION.test(region);

export function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidParameter(
      `Invalid parameter at '${field}' failed to satisfy constraint: 'must not be empty'`,
    );
  }
  return value;
}

export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidParameter(`Invalid parameter at '${field}': expected a string`);
  return value;
}

export function requireRepositoryName(value: unknown): string {
  const name = requireString(value, 'repositoryName');
  if (!isValidRepositoryName(name)) {
    throw invalidParameter(
      `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression ` +
        `'${REPOSITORY_NAME_PATTERN}' and length 2-256'`,
    );
  }
  return name;
}

export function requireArray(value: unknown, field: string, min: number, max: number): unknown[] {
  if (!Array.isArray(value)) throw invalidParameter(`Invalid parameter at '${field}': expected a list`);
  if (value.length < min || value.length > max) {
    throw invalidParameter(
      `Invalid parameter at '${field}' failed to satisfy constraint: 'Member must have length between ${min} and ${max}'`,
    );
  }
  return value;
}

/** `maxResults` of the list operations: an integer in [min, max], or undefined → `fallback`. */
export function pageSize(value: unknown, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalidParameter(
      `Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and ${max}'`,
    );
  }
  return value;
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
