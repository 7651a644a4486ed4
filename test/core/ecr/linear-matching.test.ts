/**
 * Wildcards that come from outside (another account's registry policy, a repository's tag-mutability
 * exclusion filters) are matched by the project's linear matcher (core/contracts/patterns.ts), never
 * by a backtracking regular expression: with `.*` per `*`, the inputs below take from seconds to
 * hours (a 22-character filter against a 40-character tag: 29 s). These tests only assert the
 * answers; a linear matcher just finishes.
 */
import { describe, expect, it } from 'vitest';
import { compileStarGlob } from '../../../core/contracts/patterns.ts';
import { isTagImmutable } from '../../../core/ecr/ecr.ts';
import { parsePolicyStatements, policyAllows, repositoryArn } from '../../../core/ecr/registry-policy.ts';
import { isTagImmutable as emulatorTagImmutable } from '../../../local/ecr-emulator/mutability.ts';

const SOURCE_ACCOUNT = '111111111111';
const REGION = 'ap-northeast-2';

/** `*a*a…*a<last>`: `stars` wildcards, each followed by one `a`, the last by `last`. */
const starred = (stars: number, last: string): string => `${'*a'.repeat(stars - 1)}*${last}`;

function statementsFor(resource: string) {
  const parsed = parsePolicyStatements(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${SOURCE_ACCOUNT}:root` },
          Action: ['ecr:ReplicateImage'],
          Resource: resource,
        },
      ],
    }),
  );
  if (!('statements' in parsed)) throw new Error(parsed.problem);
  return parsed.statements;
}

describe('registry-policy globs (Action, Resource)', () => {
  const repository = 'a'.repeat(60);
  const arn = repositoryArn('222222222222', REGION, repository);

  it('a 32-character Resource of 16 wildcards: no match where none exists, a match where one does', () => {
    const noMatch = starred(16, 'b');
    const match = starred(16, 'a');
    expect(noMatch).toHaveLength(32);

    expect(policyAllows(statementsFor(noMatch), SOURCE_ACCOUNT, 'ecr:ReplicateImage', arn)).toBe(false);
    expect(policyAllows(statementsFor(match), SOURCE_ACCOUNT, 'ecr:ReplicateImage', arn)).toBe(true);
  });

  it('keeps IAM glob semantics: `?` is one character, `*` any run, letters case-insensitive', () => {
    const allows = (resource: string, action = 'ecr:ReplicateImage') =>
      policyAllows(
        statementsFor(resource),
        SOURCE_ACCOUNT,
        action,
        repositoryArn('222222222222', REGION, 'team/api'),
      );

    expect(allows(`arn:aws:ecr:${REGION}:222222222222:repository/team/ap?`)).toBe(true);
    expect(allows(`arn:aws:ecr:${REGION}:222222222222:repository/team/a?`)).toBe(false);
    expect(allows(`ARN:AWS:ECR:${REGION}:*:repository/TEAM/*`)).toBe(true);
    expect(allows(`arn:aws:ecr:${REGION}:*:repository/team.api`)).toBe(false);
    expect(allows('*', 'ecr:CreateRepository')).toBe(false);
  });
});

describe('tag-mutability exclusion filters', () => {
  // ECR accepts `^[0-9a-zA-Z._*-]{1,128}$` per filter; a tag is up to 128 characters.
  const tag = 'a'.repeat(60);
  const noMatch = starred(16, 'b');
  const match = starred(16, 'a');
  const settings = (filter: string) => ({
    mutability: 'IMMUTABLE_WITH_EXCLUSION' as const,
    exclusionFilters: [filter],
  });

  it('the product (isTagImmutable): a 60-character tag against a 16-wildcard filter', () => {
    expect(isTagImmutable(settings(noMatch), tag)).toBe(true);
    expect(isTagImmutable(settings(match), tag)).toBe(false);
    expect(
      isTagImmutable({ mutability: 'MUTABLE_WITH_EXCLUSION', exclusionFilters: ['x', noMatch] }, tag),
    ).toBe(false);
  });

  it('the emulator: the same answers', () => {
    const filters = (filter: string) => [{ filterType: 'WILDCARD' as const, filter }];
    expect(emulatorTagImmutable('IMMUTABLE_WITH_EXCLUSION', filters(noMatch), tag)).toBe(true);
    expect(emulatorTagImmutable('IMMUTABLE_WITH_EXCLUSION', filters(match), tag)).toBe(false);
  });

  it('only `*` is a wildcard in a filter: `?` and `.` are literal', () => {
    expect(compileStarGlob('v?')('v1')).toBe(false);
    expect(compileStarGlob('v?')('v?')).toBe(true);
    expect(compileStarGlob('release-*.0')('release-1.0')).toBe(true);
    expect(compileStarGlob('release-*.0')('release-1x0')).toBe(false);
    expect(compileStarGlob('*')('')).toBe(true);
  });
});
