/**
 * The run policy's rules, written once (core/contracts/run-policy.ts): Plan applies them to the
 * resolved input, the construct to its deployer's raw inputs. Plan's side is tested end to end in
 * test/functions/plan/run-policy.test.ts, the construct's in test/infra/run-policy.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RUN_POLICY,
  nativeBarredBy,
  nativeReachBeyondScope,
  policyChoicesOf,
  runPolicyFieldProblems,
  runPolicyProblems,
} from '../../../core/contracts/run-policy.ts';

describe('the run policy rules', () => {
  it('judge only the choices made: a partial input breaks no rule it does not touch', () => {
    expect(runPolicyProblems({}, DEFAULT_RUN_POLICY)).toEqual([]);
    expect(runPolicyProblems({ maxConcurrency: 601 }, DEFAULT_RUN_POLICY, 'defaultInput.')).toEqual([
      "defaultInput.maxConcurrency: must be ≤ 600, this deployment's limit (got 601; the construct's maxConcurrencyLimit)",
    ]);
  });

  it('bound the repositories by the scope: a pattern must be able to meet it', () => {
    const policy = { ...DEFAULT_RUN_POLICY, repositoryScope: ['team-a/', 'shared/*'] };

    expect(
      runPolicyProblems({ repositories: ['team-a/api', 'team-*', 'shared/x', 'team-b/'] }, policy),
    ).toEqual([
      `repositories[3]: "team-b/" is outside this deployment's repository scope (team-a/, shared/*; the construct's repositoryScope)`,
    ]);
  });

  it("read a raw input's choices only where they have the type the rules read", () => {
    expect(
      policyChoicesOf({
        strategy: 'retag-source',
        overwriteConflicts: 'yes',
        maxConcurrency: '9',
        repositories: ['a/', 3],
        batchSize: 7,
      }),
    ).toEqual({ strategy: 'retag-source' });
    expect(policyChoicesOf({ overwriteConflicts: true, maxConcurrency: 9, repositories: ['a/'] })).toEqual({
      overwriteConflicts: true,
      maxConcurrency: 9,
      repositories: ['a/'],
    });
  });

  it("name a malformed policy's fields as the construct's props", () => {
    expect(
      runPolicyFieldProblems({ ...DEFAULT_RUN_POLICY, allowedStrategies: [], repositoryScope: ['Team/'] }),
    ).toEqual([
      expect.stringMatching(/^allowedStrategies: /),
      expect.stringMatching(/^repositoryScope\[0\]: /),
    ]);
    expect(runPolicyFieldProblems(DEFAULT_RUN_POLICY)).toEqual([]);
  });

  describe("the native backfill's reach (every repository the rules cover for a destination)", () => {
    const SEOUL = { region: 'ap-northeast-2', registryId: '111111111111' };
    const IRELAND = { region: 'eu-west-1', registryId: '111111111111' };
    const rule = (destinations: (typeof SEOUL)[], ...prefixes: string[]) => ({
      destinations,
      repositoryFilters: prefixes.map((filter) => ({ filter, filterType: 'PREFIX_MATCH' })),
    });

    it('lies inside an empty scope, and inside a scope that holds every filter of every rule for the destination', () => {
      expect(nativeReachBeyondScope([rule([SEOUL])], [SEOUL], [])).toEqual([]);
      expect(
        nativeReachBeyondScope(
          [rule([SEOUL], 'team-a/api', 'team-a/'), rule([SEOUL], 'shared/base'), rule([IRELAND])],
          [SEOUL],
          ['team-a/', 'shared/*'],
        ),
      ).toEqual([]);
      expect(nativeReachBeyondScope([rule([SEOUL])], [SEOUL], ['*'])).toEqual([]);
    });

    it('goes beyond a scope that misses a filter, or any repository at all for a rule without filters', () => {
      expect(nativeReachBeyondScope([rule([SEOUL])], [SEOUL], ['team-a/'])).toEqual([
        'rule 0 covers every repository (no filter)',
      ]);
      // `team-` reaches team-b/ too; a glob other than "head*" is not decided, so it does not hold.
      expect(
        nativeReachBeyondScope(
          [rule([IRELAND]), rule([SEOUL], 'team-a/x', 'team-', 'shared/')],
          [SEOUL],
          ['team-a/', 'shared/*-base'],
        ),
      ).toEqual(['rule 1 covers every repository starting with "team-", "shared/"']);
    });

    it('bars native for a policy that does not allow it, or a reach beyond the scope', () => {
      expect(nativeBarredBy(DEFAULT_RUN_POLICY, [rule([SEOUL])], [SEOUL])).toEqual([]);
      expect(
        nativeBarredBy(
          { ...DEFAULT_RUN_POLICY, allowedMethods: ['repush', 'auto'], repositoryScope: ['team-a/'] },
          [rule([SEOUL])],
          [SEOUL],
        ),
      ).toEqual([
        expect.stringMatching(/does not allow method native \(allowed: repush, auto;/),
        expect.stringMatching(
          /beyond this deployment's repository scope \(team-a\/;.*rule 0 covers every repository/,
        ),
      ]);
    });
  });

  it('judge method, includeUntagged, includeArchived and replicationTimeoutMinutes', () => {
    const policy = {
      ...DEFAULT_RUN_POLICY,
      allowedMethods: ['repush' as const],
      allowIncludeUntagged: false,
      maxReplicationTimeoutMinutes: 10,
    };
    expect(
      runPolicyProblems(
        policyChoicesOf({
          method: 'native',
          includeUntagged: true,
          includeArchived: true,
          replicationTimeoutMinutes: 11,
        }),
        policy,
      ),
    ).toEqual([
      expect.stringMatching(/^method: "native" is not allowed/),
      expect.stringMatching(/^includeUntagged: not allowed/),
      expect.stringMatching(/^includeArchived: not allowed/),
      expect.stringMatching(/^replicationTimeoutMinutes: must be ≤ 10/),
    ]);
    expect(
      runPolicyProblems({ method: 'repush', includeArchived: false, replicationTimeoutMinutes: 10 }, policy),
    ).toEqual([]);
  });
});
