/** The glob matcher behind repository and tag selection: same semantics as a regex, linear cost. */
import { describe, expect, it } from 'vitest';
import {
  compileGlob,
  MAX_PATTERN_WILDCARDS,
  repositoryMatcher,
  tagMatcher,
} from '../../../core/contracts/patterns.ts';
import { parseExecutionInput } from '../../../core/contracts/input-schema.ts';
import { InvalidInputError } from '../../../core/errors/errors.ts';
import { mulberry32 } from '../../../local/random.ts';

/** The textbook translation (what the matcher replaced): fine as an oracle on short strings. */
function regexOracle(glob: string): RegExp {
  const source = [...glob]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's');
}

describe('compileGlob', () => {
  it('agrees with the regular-expression translation on thousands of random patterns and names', () => {
    // Prepare: a small alphabet, so that matches and near misses are both frequent.
    const random = mulberry32(14);
    const pick = (alphabet: string, length: number) =>
      Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    let matches = 0;
    for (let i = 0; i < 5000; i++) {
      const glob = pick('ab*?.', Math.floor(random() * 8));
      const name = pick('ab.', Math.floor(random() * 10));

      // Act + Assess
      const expected = regexOracle(glob).test(name);
      expect(compileGlob(glob)(name), `${glob} vs ${name}`).toBe(expected);
      if (expected) matches++;
    }
    expect(matches).toBeGreaterThan(500);
  });

  it('handles anchors, adjacent stars and overlapping prefix and suffix', () => {
    expect(compileGlob('a*a')('a')).toBe(false);
    expect(compileGlob('a*a')('aa')).toBe(true);
    expect(compileGlob('**')('')).toBe(true);
    expect(compileGlob('?')('')).toBe(false);
    expect(compileGlob('v*-rc*')('v1-rc')).toBe(true);
    expect(compileGlob('team/*')('team/a/b')).toBe(true);
  });

  it("finishes the security review's ReDoS inputs in milliseconds, with the right answer", () => {
    // Prepare: the review measured 51.8 s and 32.5 s for these with the regular expression.
    const cases = [
      { glob: '*a*a*a*a*a*a*b', name: 'a'.repeat(128), expected: false },
      { glob: '*a*a*a*a*a*a*a*b', name: 'a'.repeat(128), expected: false },
      { glob: '?*?*?*?*?*?*?*Z', name: 'x'.repeat(82), expected: false },
      { glob: '*a*a*a*a*a*a*b', name: `${'a'.repeat(127)}b`, expected: true },
      { glob: '*?'.repeat(8), name: 'y'.repeat(256), expected: true },
    ];
    const started = performance.now();

    // Act: each a thousand times, so that a super-linear matcher could not hide.
    for (const { glob, name, expected } of cases) {
      const matches = compileGlob(glob);
      for (let i = 0; i < 1000; i++) expect(matches(name)).toBe(expected);
    }

    // Assess: a generous bound (a backtracking matcher needs seconds for a single call).
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('keeps the selection semantics: prefixes, globs, exclusion wins', () => {
    expect(repositoryMatcher(['team/*-api'])('team/a/b-api')).toBe(true);
    expect(repositoryMatcher(['a.b*'])('axb')).toBe(false);
    expect(tagMatcher(['*'], ['*-rc*'])('v2-rc1')).toBe(false);
  });
});

describe('wildcards per pattern', () => {
  const parse = (input: Record<string, unknown>) => () =>
    parseExecutionInput(input, { sourceRegion: 'ap-south-1' });

  it(`accepts ${MAX_PATTERN_WILDCARDS} wildcards and names the pattern that has more`, () => {
    const ok = '*a'.repeat(MAX_PATTERN_WILDCARDS);
    const tooMany = '*a'.repeat(MAX_PATTERN_WILDCARDS + 1);

    expect(parse({ tags: [ok], repositories: [ok] })).not.toThrow();
    const error = (() => {
      try {
        parse({ tags: ['v*', tooMany], excludeTags: [tooMany], repositories: [tooMany] })();
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidInputError);
    const problems = (error as InvalidInputError).problems;
    for (const field of ['tags[1]', 'excludeTags[0]', 'repositories[0]']) {
      expect(
        problems.some((p) => p.startsWith(`${field}: must have at most 16 wildcards (* ?), has 17`)),
      ).toBe(true);
    }
  });
});
