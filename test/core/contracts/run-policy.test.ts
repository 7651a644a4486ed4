/**
 * The run policy's rules, written once (core/contracts/run-policy.ts): Plan applies them to the
 * resolved input, the construct to its deployer's raw inputs. Plan's side is tested end to end in
 * test/functions/plan/run-policy.test.ts, the construct's in test/infra/run-policy.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RUN_POLICY,
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
});
