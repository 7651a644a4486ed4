/**
 * The deployer's own inputs are typed and checked at synth (issue 23): `defaultInput` and
 * `startOnDeploy.input` take the documented ExecutionInput, a typo fails typecheck (the
 * `@ts-expect-error` lines below fail `npm run typecheck` if it ever compiles) and synth, naming the
 * field; an input the deployment cannot run (outside its Regions, roles, accounts, replication or run
 * policy) fails synth too; unknown context keys are refused with the key meant.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ContextError, readAppOptions, type ContextKey } from '../../infra/context.ts';
import {
  backfillPropsFromContext,
  EcrReplicationBackfill,
  type EcrReplicationBackfillProps,
  type ExecutionInput,
} from '../../infra/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ACCOUNT = '111122223333';
const OTHER_ACCOUNT = '444455556666';

/** The message synth fails with, or undefined when the construct is created. */
function synthError(props: EcrReplicationBackfillProps, account?: string): string | undefined {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Consumer', account ? { env: { account, region: 'us-east-1' } } : {});
  try {
    new EcrReplicationBackfill(stack, 'Backfill', props);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('typed deployer inputs', () => {
  it('refuses a misspelt defaultInput field at typecheck and at synth, naming the field', () => {
    const message = synthError({
      // @ts-expect-error -- `repositores` is no field of ExecutionInput: a consumer's typo fails typecheck.
      defaultInput: { repositores: [] },
    });

    expect(message).toContain('defaultInput.repositores: unknown key (did you mean "repositories"?)');
  });

  it('refuses a misspelt startOnDeploy.input field, naming it', () => {
    const message = synthError({
      // @ts-expect-error -- `dryrun` is no field (it is dryRun).
      startOnDeploy: { input: { dryrun: true } },
    });

    expect(message).toContain('startOnDeploy.input.dryrun: unknown key (did you mean "dryRun"?)');
  });

  it('reports a bad strategy name as a bad name, not as a run-policy refusal', () => {
    const message = synthError({
      // @ts-expect-error -- no such strategy.
      defaultInput: { strategy: 'retag' },
    });

    expect(message).toContain(
      'defaultInput.strategy: must be one of "promote", "retag-source" (got "retag"; did you mean "retag-source"?)',
    );
    expect(message).not.toContain('run policy');
  });

  it('refuses a value the schema refuses, with its limit', () => {
    expect(synthError({ defaultInput: { batchSize: 500 } })).toContain(
      'defaultInput.batchSize: must be ≤ 100 (got 500)',
    );
  });

  it('checks startOnDeploy.input merged over defaultInput for the cross-field rules', () => {
    const message = synthError({
      defaultInput: { replicationTimeoutMinutes: 1 },
      startOnDeploy: { input: { replicationWaitSeconds: 60 } },
    });

    expect(message).toContain(
      'startOnDeploy.input (over defaultInput).replicationWaitSeconds: must be shorter than replicationTimeoutMinutes',
    );
  });

  it("refuses destinations outside the construct's grants: Regions, roles, accounts, managed replication", () => {
    const role = `arn:aws:iam::${OTHER_ACCOUNT}:role/EcrBackfillWriter`;
    const message = synthError(
      {
        destinationRegions: ['eu-west-1'],
        destinationRoleArns: [role],
        replication: { rules: [{ destinations: [{ region: 'eu-west-1' }] }] },
        defaultInput: {
          destinations: [
            'ap-south-1',
            { region: 'eu-west-1', registryId: OTHER_ACCOUNT, roleArn: `${role}-typo` },
            { region: 'eu-west-1', registryId: '777788889999' },
          ],
        },
      },
      ACCOUNT,
    );

    expect(message).toContain(
      'defaultInput.destinations[0]: ap-south-1 is not among destinationRegions (eu-west-1)',
    );
    expect(message).toContain(
      'defaultInput.destinations[0]: ap-south-1 is not a destination of the managed replication',
    );
    expect(message).toContain(
      `defaultInput.destinations[1].roleArn: ${role}-typo is not among destinationRoleArns (${role})`,
    );
    expect(message).toContain(
      'defaultInput.destinations[2]: account 777788889999 is another account, reached neither through a roleArn',
    );
  });

  it('accepts destinations within the grants, and another account named in directAccounts', () => {
    const input: ExecutionInput = {
      destinations: ['eu-west-1', { region: 'eu-west-1', registryId: OTHER_ACCOUNT }],
      repositories: ['team-a/'],
      batchSize: 20,
    };

    expect(
      synthError(
        {
          destinationRegions: ['eu-west-1'],
          directAccounts: [OTHER_ACCOUNT],
          defaultInput: input,
          startOnDeploy: { input: { dryRun: true } },
        },
        ACCOUNT,
      ),
    ).toBeUndefined();
  });
});

describe('deployer inputs from CDK context', () => {
  it('refuses -c startOnDeploy with a misspelt field at synth, naming it', () => {
    const { props, problems } = backfillPropsFromContext({ startOnDeploy: '{"dryrun":true}' });
    expect(problems).toEqual([]);

    expect(synthError(props)).toContain('startOnDeploy.input.dryrun: unknown key (did you mean "dryRun"?)');
  });

  const contextOf =
    (values: Record<string, unknown>) =>
    (key: ContextKey): unknown =>
      values[key];

  it('refuses an unknown context key with the key it most likely meant', () => {
    const context = { destinationRegion: 'eu-west-1' };

    expect(() => readAppOptions(contextOf(context), Object.keys(context))).toThrow(ContextError);
    expect(() => readAppOptions(contextOf(context), Object.keys(context))).toThrow(
      'Context "destinationRegion": unknown key (did you mean "destinationRegions"?)',
    );
  });

  it("leaves CDK's own keys to CDK: feature flags, aws:cdk settings, kebab-case keys", () => {
    const keys = [
      '@aws-cdk/aws-s3:publicAccessBlockedByDefault',
      'aws:cdk:enable-path-metadata',
      'acknowledged-issue-numbers',
      'availability-zones:account=111122223333:region=eu-west-1',
      'destinationRegions',
    ];

    expect(() => readAppOptions(contextOf({ destinationRegions: 'eu-west-1' }), keys)).not.toThrow();
  });

  it('the CDK app refuses `-c destinationRegion=…` before it synthesizes anything', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ecr-backfill-context-'));
    try {
      const failure = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
        cwd: ROOT,
        env: {
          ...process.env,
          CDK_OUTDIR: out,
          // How the CDK CLI hands `-c` values (and cdk.json's context) to the app.
          CDK_CONTEXT_JSON: JSON.stringify({ destinationRegion: 'eu-west-1' }),
        },
      }).then(
        () => undefined,
        (error: { code?: number; stderr?: string }) => error,
      );

      expect(failure?.code).not.toBe(0);
      expect(failure?.stderr).toContain('unknown key (did you mean "destinationRegions"?)');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
