/**
 * The CLI's permissions, from its declaration (cli/permissions.ts): `plan` and `cleanup` run against
 * the local world as an identity holding exactly their generated policy (docs/iam/cli-<command>.json),
 * with IAM enforced by the emulator; every call is allowed, and without any one of the policy's
 * actions the command fails on that action. A destination named with a `roleArn` is reached by
 * AssumeRole in the local world (the role: the README's documented one, trusting the source account).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEcrClientProvider } from '../../core/ecr/ecr.ts';
import { cliPolicy, type CliPermissionCommand } from '../../cli/permissions.ts';
import type { EcrEmulator } from '../../local/ecr-emulator/index.ts';
import { destinationRoleSessions } from '../../local/runner/iam.ts';
import { runCli } from './cli-harness.ts';

import {
  OPERATOR,
  OREGON,
  OTHER,
  registerOperator,
  ROLE,
  RUN,
  SEOUL,
  SOURCE,
  startPermissionWorld,
} from './permission-world.ts';

let emulator: EcrEmulator;

beforeEach(async () => {
  emulator = await startPermissionWorld();
});

afterEach(async () => {
  await emulator.close();
});

/** An identity of the source account holding exactly `policy`, registered with the emulator. */
const operatorWith = (policy: Record<string, unknown>): Promise<string> => registerOperator(emulator, policy);

/** The policy without one action (a statement left empty is dropped). */
function without(policy: Record<string, unknown>, action: string): Record<string, unknown> {
  const statements = (policy.Statement as { Action: string[] }[])
    .map((s) => ({ ...s, Action: s.Action.filter((a) => a !== action) }))
    .filter((s) => s.Action.length > 0);
  return { ...policy, Statement: statements };
}

const actionsOf = (policy: Record<string, unknown>): string[] =>
  (policy.Statement as { Action: string[] }[]).flatMap((s) => s.Action);

/** Runs `ecr-backfill <args>` as the identity with `accessKeyId`, its role destinations through the local STS. */
function runAs(accessKeyId: string, args: string[]) {
  return runCli([...args, '--ecr-endpoint', emulator.endpoint, '--region', SOURCE], {
    context: {
      ecr: (aws) =>
        createEcrClientProvider({
          ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
          maxAttempts: 1,
          credentials: { accessKeyId, secretAccessKey: 'local' },
          credentialsForRole: destinationRoleSessions(emulator.endpoint, { accessKeyId }),
        }),
    },
  });
}

const denials = () => emulator.iamDecisions.entries().filter((d) => !d.allowed);

const PLAN_THROUGH_ROLE = ['plan', '--destination', SEOUL, '--destination', `${OTHER}:${OREGON}:${ROLE}`];

/** Each command run, and the actions of its policy it proves needed (default: all). */
const COMMANDS: Record<string, { policy: CliPermissionCommand; args: string[]; proves?: string[] }> = {
  'plan, Oregon through its role, untagged images selected': {
    policy: 'plan',
    args: [...PLAN_THROUGH_ROLE, '--include-untagged', '--json'],
    // With untagged images the selection is narrower than replication: the native engine is out of the question.
    proves: actionsOf(cliPolicy('plan')).filter((action) => action !== 'ecr:ListReplicationBackfills'),
  },
  'plan, Oregon through its role': {
    policy: 'plan',
    args: [...PLAN_THROUGH_ROLE, '--json'],
    proves: ['ecr:ListReplicationBackfills'],
  },
  // --force: whether the run still goes is Step Functions' answer, which the ECR emulator does not give;
  // that check's calls are exercised by test/cli/cleanup.test.ts.
  'cleanup --yes --force': {
    policy: 'cleanup',
    args: ['cleanup', '--run', RUN, '--yes', '--force', '--json'],
    proves: actionsOf(cliPolicy('cleanup')).filter((action) => action.startsWith('ecr:')),
  },
};

describe('the CLI with exactly its documented policy', () => {
  it.each(Object.entries(COMMANDS))('%s: every call is allowed', async (_name, { policy, args }) => {
    // Prepare
    const key = await operatorWith(cliPolicy(policy));

    // Act
    const run = await runAs(key, args);

    // Assess
    expect(run.stderr).not.toContain('ecr-backfill:');
    expect(run.exitCode).toBe(0);
    expect(denials()).toEqual([]);
    // The command made calls as the operator (not as anyone the emulator lets do anything).
    expect(emulator.iamDecisions.entries().some((d) => d.principal === OPERATOR && d.allowed)).toBe(true);
  });

  for (const [name, { policy, args, proves }] of Object.entries(COMMANDS)) {
    it.each(proves ?? actionsOf(cliPolicy(policy)))(
      `${name}: without %s it fails on that action`,
      async (action) => {
        // Prepare
        const key = await operatorWith(without(cliPolicy(policy), action));

        // Act
        const run = await runAs(key, args);

        // Assess: the command fails, or (plan without ListReplicationBackfills) plans without the native
        // engine because that call was refused, and says so.
        const refusedInOutput = run.stdout.includes(`${action.split(':')[1]} failed with AccessDenied`);
        expect(run.exitCode !== 0 || refusedInOutput, run.stdout + run.stderr).toBe(true);
        expect(denials().map((d) => `${d.principal} ${d.action}`)).toContain(`${OPERATOR} ${action}`);
      },
    );
  }
});
