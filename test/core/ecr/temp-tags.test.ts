import { describe, expect, it } from 'vitest';
import {
  isTempTag,
  TEMP_TAG_MAX_LENGTH,
  TEMP_TAG_PREFIX_MAX_LENGTH,
  tempTagFor,
  tempTagPrefixProblems,
} from '../../../core/ecr/temp-tags.ts';

const DIGEST = `sha256:${'ab12'.repeat(16)}`;
const OTHER_DIGEST = `sha256:${'cd34'.repeat(16)}`;
// Docker's tag grammar, which ECR accepts.
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

describe('tempTagFor', () => {
  it('is deterministic per run and digest, so a retry or redrive reuses the same tag', () => {
    expect(tempTagFor('ecr-backfill-', 'run-1', DIGEST)).toBe(tempTagFor('ecr-backfill-', 'run-1', DIGEST));
  });

  it('differs between digests and between runs', () => {
    const tag = tempTagFor('ecr-backfill-', 'run-1', DIGEST);
    expect(tempTagFor('ecr-backfill-', 'run-1', OTHER_DIGEST)).not.toBe(tag);
    expect(tempTagFor('ecr-backfill-', 'run-2', DIGEST)).not.toBe(tag);
  });

  it('is a valid ECR tag of at most 128 characters for any execution name', () => {
    const runId =
      'arn:aws:states:ap-south-1:111111111111:execution:Backfill:2024-01-01T00:00:00.000Z/üñí code';
    const tag = tempTagFor('ecr-backfill-', runId, DIGEST);
    expect(tag).toMatch(TAG);
    expect(tag.length).toBeLessThanOrEqual(TEMP_TAG_MAX_LENGTH);
    expect(tag.startsWith('ecr-backfill-')).toBe(true);
    expect(tag.endsWith('ab12'.repeat(16))).toBe(true);
  });

  it('shortens the digest part (never below 32 hex characters) to fit a long prefix', () => {
    const prefix = 'p'.repeat(TEMP_TAG_PREFIX_MAX_LENGTH);
    const tag = tempTagFor(prefix, 'run', DIGEST);
    expect(tag.length).toBe(TEMP_TAG_MAX_LENGTH);
    expect(tag.slice(-32)).toBe('ab12'.repeat(16).slice(0, 32));
  });

  it('refuses a prefix ECR would reject', () => {
    expect(() => tempTagFor('-bad', 'run', DIGEST)).toThrow(/must not start/);
  });
});

describe('tempTagPrefixProblems', () => {
  it('names empty, too long and invalid prefixes', () => {
    expect(tempTagPrefixProblems('ecr-backfill-')).toEqual([]);
    expect(tempTagPrefixProblems('')).toEqual(['tempTagPrefix must not be empty']);
    expect(tempTagPrefixProblems('x'.repeat(TEMP_TAG_PREFIX_MAX_LENGTH + 1))).toHaveLength(1);
    expect(tempTagPrefixProblems('has space')).toHaveLength(1);
    expect(tempTagPrefixProblems('.dot')).toHaveLength(1);
  });
});

describe('isTempTag', () => {
  it('recognises the tool’s temp tags of any run, or of one run', () => {
    const tag = tempTagFor('ecr-backfill-', 'run-1', DIGEST);
    expect(isTempTag(tag, 'ecr-backfill-')).toBe(true);
    expect(isTempTag(tag, 'ecr-backfill-', 'run-1')).toBe(true);
    expect(isTempTag(tag, 'ecr-backfill-', 'run-2')).toBe(false);
  });

  it('does not match ordinary tags that merely share the prefix', () => {
    expect(isTempTag('ecr-backfill-latest', 'ecr-backfill-')).toBe(false);
    expect(isTempTag('ecr-backfill-0123456789ab-short', 'ecr-backfill-')).toBe(false);
    expect(isTempTag('v1.2.3', 'ecr-backfill-')).toBe(false);
  });
});
