/**
 * Name matching for the execution input's selections and for replication rule coverage.
 *
 * Two kinds of selector, chosen so that the console input reads naturally:
 * - repository patterns: without a wildcard a pattern is a *prefix* (as ECR's own PREFIX_MATCH
 *   replication filters are: `team` selects `team`, `team/api`, `teamcity`); with `*` or `?` it is a
 *   glob over the whole name (`team/*`, `*-base`).
 * - tag patterns: always a glob over the whole tag; without a wildcard it is an exact tag.
 * In both, `*` matches any run of characters (including `/`, as in ECR's wildcard tag-mutability
 * exclusion filters) and `?` exactly one character.
 */

/** ECR replication filter types (only PREFIX_MATCH exists today). */
export interface ReplicationRepositoryFilter {
  filter?: string;
  filterType?: string;
}

export interface ReplicationRuleLike {
  destinations?: { region?: string; registryId?: string }[];
  repositoryFilters?: ReplicationRepositoryFilter[];
}

export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

export type NameMatcher = (name: string) => boolean;

/**
 * At most this many wildcards (`*`, `?`) per pattern: the input schema and the CLI refuse more, so
 * a pattern's matching cost stays small and predictable whatever the caller sends.
 */
export const MAX_PATTERN_WILDCARDS = 16;

export function wildcardCount(pattern: string): number {
  let count = 0;
  for (let i = 0; i < pattern.length; i++) if (pattern[i] === '*' || pattern[i] === '?') count++;
  return count;
}

/**
 * Literal text, with `?` as "any one character" when `anyOne` is set; `*` never occurs inside a
 * segment.
 */
function segmentMatchesAt(segment: string, text: string, at: number, anyOne = true): boolean {
  for (let j = 0; j < segment.length; j++) {
    const wanted = segment[j];
    if (!(anyOne && wanted === '?') && wanted !== text[at + j]) return false;
  }
  return true;
}

/**
 * A glob (`*` any run of characters, `?` exactly one) matched over the whole name, without regular
 * expressions and without backtracking.
 *
 * The pattern is cut at its `*`s into segments. The first segment must match at the start and the
 * last at the end; each segment in between is matched at its **leftmost** position after the previous
 * one. Leftmost is always safe, because a `*` on either side absorbs whatever lies between, so the
 * text is scanned forward once per segment: at most (text length × pattern length) character
 * comparisons — 256 × 256 here — where `.*`-style backtracking needs exponential time on patterns
 * like `*a*a*a*a*a*a*b` (ReDoS, https://owasp.org/www-community/attacks/Regular_expression_Denial_of_Service_-_ReDoS).
 */
export function compileGlob(glob: string): NameMatcher {
  return compileWildcards(glob, true);
}

/**
 * A wildcard filter where only `*` is special (any run of characters) and every other character,
 * `?` included, is literal: ECR's tag-mutability exclusion filters
 * (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageTagMutabilityExclusionFilter.html).
 * Linear like compileGlob.
 */
export function compileStarGlob(glob: string): NameMatcher {
  return compileWildcards(glob, false);
}

function compileWildcards(glob: string, questionIsWildcard: boolean): NameMatcher {
  const matchesAt = (segment: string, text: string, at: number) =>
    segmentMatchesAt(segment, text, at, questionIsWildcard);
  const segments = glob.split('*');
  if (segments.length === 1) {
    return (text) => text.length === glob.length && matchesAt(glob, text, 0);
  }
  const first = segments[0] ?? '';
  const last = segments[segments.length - 1] ?? '';
  const middle = segments.slice(1, -1).filter((segment) => segment.length > 0);
  const minimumLength = first.length + last.length + middle.reduce((sum, s) => sum + s.length, 0);
  return (text) => {
    if (text.length < minimumLength) return false;
    if (!matchesAt(first, text, 0)) return false;
    const end = text.length - last.length;
    if (!matchesAt(last, text, end)) return false;
    let cursor = first.length;
    for (const segment of middle) {
      let at = cursor;
      while (at + segment.length <= end && !matchesAt(segment, text, at)) at++;
      if (at + segment.length > end) return false;
      cursor = at + segment.length;
    }
    return true;
  };
}

/** Repository selection: no patterns = every repository; plain patterns are prefixes. */
export function repositoryMatcher(patterns: readonly string[]): NameMatcher {
  if (patterns.length === 0) return () => true;
  const prefixes = patterns.filter((p) => !hasWildcard(p));
  const globs = patterns.filter(hasWildcard).map(compileGlob);
  return (name) => prefixes.some((p) => name.startsWith(p)) || globs.some((matches) => matches(name));
}

/**
 * Tag selection: a tag is kept when it matches an include pattern (or there are none) and no
 * exclude pattern. Exclusion wins, so `tags: ['*'], excludeTags: ['*-rc*']` reads as expected.
 */
export function tagMatcher(include: readonly string[], exclude: readonly string[]): NameMatcher {
  const includes = include.map(compileGlob);
  const excludes = exclude.map(compileGlob);
  return (tag) =>
    (includes.length === 0 || includes.some((matches) => matches(tag))) &&
    !excludes.some((matches) => matches(tag));
}

/**
 * Whether a replication rule replicates a repository. A rule without repository filters covers
 * every repository; otherwise any PREFIX_MATCH filter that prefixes the name covers it.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_RepositoryFilter.html
 */
export function ruleCoversRepository(rule: ReplicationRuleLike, repositoryName: string): boolean {
  const filters = rule.repositoryFilters ?? [];
  if (filters.length === 0) return true;
  return filters.some(
    (f) => (f.filterType ?? 'PREFIX_MATCH') === 'PREFIX_MATCH' && repositoryName.startsWith(f.filter ?? ''),
  );
}

/** Whether any rule that lists this destination replicates the repository to it. */
export function repositoryCoveredFor(
  rules: readonly ReplicationRuleLike[],
  repositoryName: string,
  destination: { region: string; registryId: string },
): boolean {
  return rules.some(
    (rule) =>
      (rule.destinations ?? []).some(
        (d) => d.region === destination.region && d.registryId === destination.registryId,
      ) && ruleCoversRepository(rule, repositoryName),
  );
}

/** Levenshtein distance, for "did you mean" suggestions on unknown input keys. */
export function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0] ?? 0;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j] ?? 0;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      previous[j] = Math.min(above + 1, (previous[j - 1] ?? 0) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length] ?? 0;
}

/** The closest candidate to `word` (case-insensitive), if it is close enough to be a typo. */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (best === undefined || distance < best.distance) best = { candidate, distance };
  }
  if (best === undefined) return undefined;
  const tolerance = Math.max(2, Math.floor(best.candidate.length / 3));
  return best.distance <= tolerance ? best.candidate : undefined;
}

/** The literal text every name a pattern matches starts with (the part before its first wildcard). */
export function literalHead(pattern: string): string {
  const wildcard = pattern.search(/[*?]/);
  return wildcard === -1 ? pattern : pattern.slice(0, wildcard);
}

/**
 * The few names closest to some patterns, offered one at a time (a registry's listing is read page by
 * page, so the names are never all held): for "did you mean" on a filter that matched nothing. A
 * name's distance is the edit distance from a pattern's literal text to the name's first characters
 * (two more than that text has, so a long name is not penalised for its tail): `shop/nope` is near
 * `shop/api`, and a prefix `tema/` is near `team/api`.
 */
export class NearbyNames {
  private readonly heads: string[];
  private readonly best: { name: string; distance: number }[] = [];

  constructor(
    patterns: readonly string[],
    private readonly limit = 5,
  ) {
    this.heads = patterns.map((p) => literalHead(p).toLowerCase());
  }

  offer(name: string): void {
    if (this.heads.length === 0) return;
    const lower = name.toLowerCase();
    const distance = Math.min(
      ...this.heads.map((head) => editDistance(head, lower.slice(0, head.length + 2))),
    );
    const worst = this.best[this.best.length - 1];
    if (this.best.length >= this.limit && worst !== undefined && distance >= worst.distance) return;
    this.best.push({ name, distance });
    this.best.sort((a, b) => a.distance - b.distance || a.name.localeCompare(b.name));
    if (this.best.length > this.limit) this.best.length = this.limit;
  }

  names(): string[] {
    return this.best.map((entry) => entry.name);
  }
}
