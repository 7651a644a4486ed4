import { compileStarGlob } from 'ecr-backfill/core';
import { invalidParameter } from './errors.ts';
import { isRecord } from './validation.ts';

export type TagMutability = 'MUTABLE' | 'IMMUTABLE' | 'MUTABLE_WITH_EXCLUSION' | 'IMMUTABLE_WITH_EXCLUSION';
export const TAG_MUTABILITIES: readonly TagMutability[] = [
  'MUTABLE',
  'IMMUTABLE',
  'MUTABLE_WITH_EXCLUSION',
  'IMMUTABLE_WITH_EXCLUSION',
];

export interface ExclusionFilter {
  filterType: 'WILDCARD';
  filter: string;
}

// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageTagMutabilityExclusionFilter.html
const FILTER = /^[0-9a-zA-Z._*-]{1,128}$/;
const MAX_FILTERS = 5;

/** Validates a mutability setting with its exclusion filters, as CreateRepository/PutImageTagMutability do. */
export function parseMutability(
  mutability: unknown,
  filters: unknown,
): { mutability: TagMutability; filters: ExclusionFilter[] } {
  const value = mutability ?? 'MUTABLE';
  if (typeof value !== 'string' || !TAG_MUTABILITIES.includes(value as TagMutability)) {
    throw invalidParameter(
      `Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [${TAG_MUTABILITIES.join(', ')}]'`,
    );
  }
  const withExclusion = value.endsWith('_WITH_EXCLUSION');
  const list = filters ?? [];
  if (!Array.isArray(list))
    throw invalidParameter("Invalid parameter at 'imageTagMutabilityExclusionFilters'");
  if (!withExclusion && list.length > 0) {
    throw invalidParameter(
      `imageTagMutabilityExclusionFilters can only be used with MUTABLE_WITH_EXCLUSION or IMMUTABLE_WITH_EXCLUSION`,
    );
  }
  if (withExclusion && (list.length < 1 || list.length > MAX_FILTERS)) {
    throw invalidParameter(
      `${value} requires between 1 and ${MAX_FILTERS} imageTagMutabilityExclusionFilters`,
    );
  }
  const parsed = list.map((entry): ExclusionFilter => {
    if (!isRecord(entry) || entry.filterType !== 'WILDCARD' || typeof entry.filter !== 'string') {
      throw invalidParameter("Each exclusion filter needs filterType 'WILDCARD' and a filter");
    }
    if (!FILTER.test(entry.filter)) {
      throw invalidParameter(
        `Invalid exclusion filter '${entry.filter}': must satisfy regular expression '^[0-9a-zA-Z._*-]{1,128}$'`,
      );
    }
    return { filterType: 'WILDCARD', filter: entry.filter };
  });
  return { mutability: value as TagMutability, filters: parsed };
}

/** `*` matches any run of characters; everything else is literal (the product's linear matcher). */
export function wildcardMatches(filter: string, tag: string): boolean {
  return compileStarGlob(filter)(tag);
}

/**
 * Whether `tag` may not be moved once set. The *_WITH_EXCLUSION modes invert the base setting for
 * tags matching one of the filters (e.g. IMMUTABLE_WITH_EXCLUSION + `latest` keeps `latest` mutable).
 */
export function isTagImmutable(
  mutability: TagMutability,
  filters: readonly ExclusionFilter[],
  tag: string,
): boolean {
  switch (mutability) {
    case 'MUTABLE':
      return false;
    case 'IMMUTABLE':
      return true;
    case 'MUTABLE_WITH_EXCLUSION':
      return filters.some((f) => wildcardMatches(f.filter, tag));
    case 'IMMUTABLE_WITH_EXCLUSION':
      return !filters.some((f) => wildcardMatches(f.filter, tag));
  }
}
