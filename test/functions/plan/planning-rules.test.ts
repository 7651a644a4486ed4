/** The pure rules of planning: names, coverage, destinations, comparison, PutImage counts, estimate. */
import { describe, expect, it } from 'vitest';
import type { WorkItem } from '../../../core/contracts/contracts.ts';
import { estimateRun } from '../../../core/contracts/estimate.ts';
import {
  closestMatch,
  repositoryCoveredFor,
  repositoryMatcher,
  ruleCoversRepository,
  tagMatcher,
} from '../../../core/contracts/patterns.ts';
import { resolveDestinations } from '../../../core/contracts/destinations.ts';
import { MAX_RUN_ID_LENGTH, runIdFromExecutionName, runKeys } from '../../../core/run-files/run-layout.ts';
import {
  compareImage,
  putImageCallsFor,
  type DestinationView,
} from '../../../functions/plan-slice/compare.ts';

const A = '111111111111';
const B = '222222222222';

describe('repository and tag patterns', () => {
  it('treats a plain repository pattern as a prefix and a wildcard pattern as a whole-name glob', () => {
    const matches = repositoryMatcher(['base', 'team/*-api', 'svc?']);

    expect(['base', 'base/node', 'baseline', 'team/x-api', 'team/a/b-api', 'svc1'].every(matches)).toBe(true);
    expect(['team/x-api-old', 'svc12', 'other'].some(matches)).toBe(false);
    expect(repositoryMatcher([])('anything')).toBe(true);
  });

  it('matches tags exactly unless wildcards are used, and lets exclusion win', () => {
    const keep = tagMatcher(['v*', 'latest'], ['*-rc*']);

    expect(keep('v1.2')).toBe(true);
    expect(keep('latest')).toBe(true);
    expect(keep('latest-1')).toBe(false);
    expect(keep('v2-rc1')).toBe(false);
    expect(tagMatcher([], ['x'])('anything')).toBe(true);
  });

  it('escapes regular-expression characters in patterns', () => {
    expect(tagMatcher(['1.0'], [])('1x0')).toBe(false);
    expect(repositoryMatcher(['a.b*'])('axb')).toBe(false);
  });

  it('suggests the closest known word only when it is close', () => {
    expect(closestMatch('tag', ['tags', 'excludeTags'])).toBe('tags');
    expect(closestMatch('zzzzzz', ['tags', 'dryRun'])).toBeUndefined();
  });
});

describe('replication coverage', () => {
  const rules = [
    { destinations: [{ region: 'ap-northeast-2', registryId: A }] },
    {
      destinations: [{ region: 'us-west-2', registryId: B }],
      repositoryFilters: [{ filter: 'team/', filterType: 'PREFIX_MATCH' }],
    },
  ];

  it('covers every repository with a rule without filters, only prefixed ones otherwise', () => {
    expect(ruleCoversRepository(rules[0]!, 'anything')).toBe(true);
    expect(ruleCoversRepository(rules[1]!, 'team/api')).toBe(true);
    expect(ruleCoversRepository(rules[1]!, 'teams')).toBe(false);
  });

  it('judges coverage per destination', () => {
    expect(repositoryCoveredFor(rules, 'legacy', { region: 'ap-northeast-2', registryId: A })).toBe(true);
    expect(repositoryCoveredFor(rules, 'legacy', { region: 'us-west-2', registryId: B })).toBe(false);
    expect(repositoryCoveredFor(rules, 'team/api', { region: 'us-west-2', registryId: A })).toBe(false);
  });
});

describe('resolveDestinations', () => {
  const rules = [
    {
      destinations: [
        { region: 'ap-northeast-2', registryId: A },
        { region: 'us-west-2', registryId: B },
      ],
    },
    {
      destinations: [
        { region: 'us-west-2', registryId: A },
        { region: 'ap-northeast-2', registryId: A },
      ],
    },
  ];

  it('defaults to every distinct destination of every rule', () => {
    expect(resolveDestinations([], rules)).toEqual({
      destinations: [
        { region: 'ap-northeast-2', registryId: A },
        { region: 'us-west-2', registryId: B },
        { region: 'us-west-2', registryId: A },
      ],
      problems: [],
    });
  });

  it('selects every configured account of a Region named alone, exactly one with a registryId', () => {
    expect(resolveDestinations([{ region: 'us-west-2' }], rules).destinations).toEqual([
      { region: 'us-west-2', registryId: B },
      { region: 'us-west-2', registryId: A },
    ]);
    expect(resolveDestinations([{ region: 'us-west-2', registryId: A }], rules).destinations).toEqual([
      { region: 'us-west-2', registryId: A },
    ]);
  });

  it('carries the role of the request that selected a destination', () => {
    const roleArn = `arn:aws:iam::${B}:role/writer`;

    expect(
      resolveDestinations(
        [{ region: 'ap-northeast-2' }, { region: 'us-west-2', registryId: B, roleArn }],
        rules,
      ),
    ).toEqual({
      destinations: [
        { region: 'ap-northeast-2', registryId: A },
        { region: 'us-west-2', registryId: B, roleArn },
      ],
      problems: [],
    });
  });

  it('names every requested destination that is not configured', () => {
    const { problems } = resolveDestinations(
      [{ region: 'eu-west-1' }, { region: 'us-west-2', registryId: '333333333333' }],
      [],
    );

    expect(problems).toEqual([
      "destinations[0]: eu-west-1 is not a destination of the registry's replication configuration (configured: none)",
      "destinations[1]: us-west-2 (333333333333) is not a destination of the registry's replication configuration (configured: none)",
    ]);
  });
});

describe('run ids', () => {
  it('keeps a short, lowercase, tag-safe execution name as it is', () => {
    expect(runIdFromExecutionName('backfill-2024-06-01')).toBe('backfill-2024-06-01');
  });

  it('sanitizes and shortens other names, distinctly and stably', () => {
    const long = 'Nightly_Backfill:ap-south-1→ap-northeast-2 (team repos) 2024-06-01T00:00:00Z';
    const id = runIdFromExecutionName(long);

    expect(id).toMatch(/^[a-z0-9-]+$/);
    expect(id.length).toBeLessThanOrEqual(MAX_RUN_ID_LENGTH);
    expect(runIdFromExecutionName(long)).toBe(id);
    expect(runIdFromExecutionName('Run_1')).not.toBe(runIdFromExecutionName('run-1'));
    expect(runIdFromExecutionName('!!!')).toMatch(/^run-[0-9a-f]{8}$/);
  });

  it('derives every run key from the run prefix', () => {
    expect(runKeys('runs/r1/')).toMatchObject({
      slices: 'runs/r1/slices.jsonl',
      items: 'runs/r1/items.jsonl',
      plan: 'runs/r1/plan.json',
      reportCsv: 'runs/r1/report.csv',
    });
    expect(runKeys('runs/r1').sliceSummary(3)).toBe('runs/r1/plan/slice-3.summary.json');
  });
});

describe('comparing an image with its destinations', () => {
  const seoul = { region: 'ap-northeast-2', registryId: A };
  const oregon = { region: 'us-west-2', registryId: B };
  const image = {
    imageDigest: 'sha256:aaa',
    tags: ['v1', 'latest', 'stable'],
    pushedAt: 0,
    imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
  };
  const view = (
    destination: typeof seoul,
    covered: boolean,
    tags: [string, string][],
    digests: string[],
  ): DestinationView => ({
    destination,
    covered,
    contents: { tags: new Map(tags), digests: new Set(digests) },
  });

  it('classifies each tag per destination and lists what must be done', () => {
    const comparison = compareImage(
      'team/api',
      image,
      [
        view(
          seoul,
          true,
          [
            ['v1', 'sha256:aaa'],
            ['stable', 'sha256:bbb'],
          ],
          ['sha256:aaa', 'sha256:bbb'],
        ),
        view(oregon, false, [], []),
      ],
      'promote',
      'ap-south-1',
      true,
    );

    expect(comparison.counts).toEqual({ ALREADY_PRESENT: 1, MISSING: 1, DIVERGED: 1, NOT_COVERED: 3 });
    expect(comparison.item?.destinations).toEqual([
      { ...seoul, tags: ['latest', 'stable'], digestPresent: true },
    ]);
    // The digest is already in Seoul: no temp tag push in the source, two tag puts in Seoul.
    expect(comparison.putImageCalls).toEqual({ 'ap-northeast-2': 2 });
  });

  it('gives a report row for every (tag, destination) it leaves alone, one per count', () => {
    const comparison = compareImage(
      'team/api',
      image,
      [
        view(
          seoul,
          true,
          [
            ['v1', 'sha256:aaa'],
            ['stable', 'sha256:bbb'],
          ],
          ['sha256:aaa'],
        ),
        view(oregon, false, [], []),
      ],
      'promote',
      'ap-south-1',
      false,
    );

    // The item's rows come from the backfill (latest in Seoul); these are the rest.
    expect(comparison.rows.map((r) => [r.tag, r.destinationRegion, r.outcome])).toEqual([
      ['v1', 'ap-northeast-2', 'ALREADY_PRESENT'],
      ['stable', 'ap-northeast-2', 'CONFLICT'],
      ['v1', 'us-west-2', 'NOT_COVERED'],
      ['latest', 'us-west-2', 'NOT_COVERED'],
      ['stable', 'us-west-2', 'NOT_COVERED'],
    ]);
    expect(
      comparison.rows.every((r) => r.repositoryName === 'team/api' && r.imageDigest === 'sha256:aaa'),
    ).toBe(true);
    expect(comparison.counts).toEqual({ ALREADY_PRESENT: 1, CONFLICT: 1, MISSING: 1, NOT_COVERED: 3 });
  });

  it('reports a diverged destination tag as CONFLICT, not work, unless conflicts may be overwritten', () => {
    const diverged = view(seoul, true, [['stable', 'sha256:bbb']], ['sha256:bbb']);
    const onlyStable = { ...image, tags: ['stable'] };

    const kept = compareImage('team/api', onlyStable, [diverged], 'promote', 'ap-south-1', false);
    const keptRetag = compareImage('team/api', onlyStable, [diverged], 'retag-source', 'ap-south-1', false);
    const overwritten = compareImage('team/api', onlyStable, [diverged], 'promote', 'ap-south-1', true);

    // Nothing to push: a replicated copy would keep only our temp tag, and retag-source would let
    // replication move the destination's tag.
    expect(kept).toMatchObject({ counts: { CONFLICT: 1 }, putImageCalls: {} });
    expect(kept.item).toBeUndefined();
    expect(keptRetag).toMatchObject({ counts: { CONFLICT: 1 }, putImageCalls: {} });
    expect(keptRetag.item).toBeUndefined();
    expect(overwritten.counts).toEqual({ DIVERGED: 1 });
    expect(overwritten.item?.destinations).toEqual([{ ...seoul, tags: ['stable'], digestPresent: false }]);
  });

  it('emits no item when every tag is already everywhere', () => {
    const comparison = compareImage(
      'team/api',
      { ...image, tags: ['v1'] },
      [view(seoul, true, [['v1', 'sha256:aaa']], ['sha256:aaa'])],
      'promote',
      'ap-south-1',
      true,
    );

    expect(comparison.item).toBeUndefined();
    expect(comparison.putImageCalls).toEqual({});
  });

  it('counts PutImage calls per Region for both strategies', () => {
    const item: WorkItem = {
      repositoryName: 'r',
      imageDigest: 'sha256:aaa',
      imageManifestMediaType: 'm',
      tags: ['a', 'b', 'c'],
      destinations: [
        { ...seoul, tags: ['a', 'b'], digestPresent: false },
        { ...oregon, tags: ['b', 'c'], digestPresent: true },
      ],
    };

    expect(putImageCallsFor(item, 'promote', 'ap-south-1')).toEqual({
      'ap-south-1': 1,
      'ap-northeast-2': 2,
      'us-west-2': 2,
    });
    // retag-source: the temp tag plus one re-put per distinct tag, all in the source.
    expect(putImageCallsFor(item, 'retag-source', 'ap-south-1')).toEqual({ 'ap-south-1': 4 });
  });
});

describe('estimateRun', () => {
  it('bounds the duration by the busiest Region at 10 PutImage/s plus one replication wait', () => {
    const estimate = estimateRun({
      items: 1_000,
      batchSize: 20,
      slices: 2,
      repositories: 150,
      destinations: 2,
      strategy: 'promote',
      putImageCalls: { 'ap-south-1': 1_000, 'ap-northeast-2': 3_000, 'us-west-2': 2_500 },
      replicationWaitSeconds: 30,
    });

    expect(estimate.quotaBoundSeconds).toBe(330);
    expect(estimate.breakdown.busiestRegion).toBe('ap-northeast-2');
    expect(estimate.breakdown.batches).toBe(50);
    // 7 parent + 2 × 2 slice + 50 × (7 + 3) batch transitions (promote has no Choice before PromoteTags).
    expect(estimate.breakdown.stateTransitions).toBe(511);
    expect(estimate.breakdown.stepFunctionsUsd).toBeCloseTo(511 * 0.000025, 4);
    expect(estimate.estimatedCostUsd).toBeGreaterThan(estimate.breakdown.stepFunctionsUsd);
    expect(estimate.estimatedCostUsd).toBeLessThan(0.1);
  });

  it('costs only the fixed planning when there is nothing to do', () => {
    const estimate = estimateRun({
      items: 0,
      batchSize: 20,
      slices: 0,
      repositories: 0,
      destinations: 1,
      strategy: 'promote',
      putImageCalls: {},
      replicationWaitSeconds: 30,
    });

    expect(estimate.quotaBoundSeconds).toBe(0);
    expect(estimate.breakdown.batches).toBe(0);
    expect(estimate.breakdown.stateTransitions).toBe(7);
  });
});
