/**
 * `ecr-backfill local -c startOnDeploy=…` on a deployment whose start-on-deploy role lacks
 * states:StartExecution: the run fails as the stack would (the custom resource's CREATE_FAILED with
 * Step Functions' AccessDeniedException naming the role), exit 1, nothing run. The synthesizer is
 * replaced (in this file only) by one that takes the grant out of what it synthesizes, as a
 * construct that forgot it would.
 */
import { describe, expect, it, vi } from 'vitest';
import { withoutStartGrant } from '../support/start-on-deploy.ts';
import { runCli } from '../cli/cli-harness.ts';
import type * as Synth from '../../local/synth/synth.ts';

vi.mock('../../local/synth/synth.ts', async (importOriginal) => {
  const original = await importOriginal<typeof Synth>();
  return {
    ...original,
    synthesizeBackfillStack: (...args: Parameters<typeof original.synthesizeBackfillStack>) =>
      withoutStartGrant(original.synthesizeBackfillStack(...args)),
  };
});

describe('ecr-backfill local with startOnDeploy, the role without its grant', () => {
  it('fails as the deployment would: CREATE_FAILED with the AccessDeniedException naming the role, exit 1, no execution', async () => {
    // Act
    const run = await runCli(['local', '-c', 'startOnDeploy=true']);

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("The deployment's start-on-deploy failed:");
    expect(run.stderr).toMatch(
      /CREATE_FAILED: Received response status \[FAILED\] from custom resource\. Message returned: User: arn:aws:sts::111111111111:assumed-role\/[^/ ]*StartOnDeployRole[^/ ]*\/[^ ]+ is not authorized to perform: states:StartExecution on resource: arn:aws:states:[^ ]+:stateMachine:/,
    );
    expect(run.stdout).not.toContain('Execution deploy-');
    expect(run.stdout).not.toContain('PlanSlices');
  });
});
