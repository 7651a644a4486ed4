/**
 * The StepDeps the real step handlers get when the local runner invokes them: ECR clients pointed at
 * the emulator (one per Region and role, few SDK attempts), the local S3, a clock, a silent logger,
 * and the environment the template gives the deployed functions (run bucket, source Region,
 * deploy-time default input, PutImage rate).
 *
 * Both kinds of clients carry crash points (lambda/crash.ts): an invocation chosen to crash dies
 * after some ECR calls have reached the emulator, and sends nothing more, S3 included.
 */
import { silentMetrics } from 'ecr-backfill/core';
import { S3RunStore } from 'ecr-backfill/core';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Clock, EcrClientProvider, StepDeps, StepEnvironment } from 'ecr-backfill/core';
import type { EcrClientProviderOptions } from 'ecr-backfill/core';
import { systemClock } from 'ecr-backfill/core';
import { createEcrClientProvider, SDK_MAX_ATTEMPTS } from 'ecr-backfill/core';
import { createLogger } from 'ecr-backfill/functions';
import { withEcrCrashPoints, withS3CrashPoints } from './lambda/crash.ts';

/** What the ECR emulator reads the caller's account from: an access key ending in 12 digits. */
export function emulatorCredentials(account: string | undefined): {
  accessKeyId: string;
  secretAccessKey: string;
} {
  return {
    accessKeyId: account ? `AKIA${account}` : 'AKIAEMULATOREXAMPLE',
    secretAccessKey: 'emulator-secret-key',
  };
}

/** `arn:aws:iam::<account>:role/<name>` → the account. */
export function accountOfRole(roleArn: string): string | undefined {
  return /^arn:[^:]+:iam::(\d{12}):role\//.exec(roleArn)?.[1];
}

export interface LocalEcr {
  provider: EcrClientProvider;
  /** Closes every client the provider created (their keep-alive sockets would hold the process). */
  destroy(): void;
}

/**
 * ECR clients for the emulator. A destination reached through a role acts as the role's account,
 * the way assumed-role credentials would; everything else acts as the source account.
 */
export interface LocalEcrIdentity {
  /** The credentials of the principal the calls are made as (a function's role). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The step's destination actions: the session policy of each destination-role session. */
  sessionActions?: readonly string[];
  /** A destination role's session (run-backfill.ts registers it with the emulator, with its policies). */
  credentialsForRole: EcrClientProviderOptions['credentialsForRole'];
}

export function localEcrClients(
  endpoint: string,
  sourceAccount: string | undefined,
  /** Who calls; default: the source account's root user, and a destination role's account. */
  identity?: LocalEcrIdentity,
): LocalEcr {
  const created = new Set<ECRClient>();
  const base = createEcrClientProvider({
    endpoint,
    maxAttempts: SDK_MAX_ATTEMPTS,
    credentials: identity?.credentials ?? emulatorCredentials(sourceAccount),
    credentialsForRole:
      identity?.credentialsForRole ??
      ((roleArn) => emulatorCredentials(accountOfRole(roleArn) ?? sourceAccount)),
    ...(identity?.sessionActions ? { sessionActions: identity.sessionActions } : {}),
  });
  return {
    provider: (target) => {
      const client = withEcrCrashPoints(base(target));
      created.add(client);
      return client;
    },
    destroy: () => {
      for (const client of created) client.destroy();
      created.clear();
    },
  };
}

export interface BackfillDepsOptions {
  ecr: EcrClientProvider;
  /** A client of its own: crash points are added to it. */
  s3: S3Client;
  env: StepEnvironment;
  clock?: Clock;
}

export function localStepDeps(options: BackfillDepsOptions): StepDeps {
  return {
    ecr: options.ecr,
    runStore: new S3RunStore(withS3CrashPoints(options.s3)),
    clock: options.clock ?? systemClock,
    logger: createLogger({ logLevel: 'SILENT' }),
    metrics: silentMetrics,
    env: options.env,
  };
}
