/**
 * Real AWS clients for the CLI, configured the way every AWS tool is: credentials and Region from
 * the SDK's default chain (environment, `~/.aws/config`, SSO, instance roles), `--profile` and
 * `--region` passed to the client when given.
 * https://docs.aws.amazon.com/sdkref/latest/guide/creds-config-files.html
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { EcrClientProvider } from '../../core/deps.ts';
import { createEcrClientProvider } from '../../core/ecr/ecr.ts';

/** How to reach AWS: the usual SDK configuration, optionally overridden by `--profile`/`--region`. */
export interface AwsOptions {
  profile?: string;
  region?: string;
  /** An endpoint override (the local ECR emulator, an S3 emulator). */
  endpoint?: string;
}

export interface ClientFactories {
  sfn(aws: AwsOptions): SFNClient;
  s3(aws: AwsOptions): S3Client;
  /** One provider per command run: it caches a client per (Region, role). */
  ecr(aws: AwsOptions): EcrClientProvider;
}

/**
 * The CLI has no Step Functions retry behind it, and ECR's Describe* quotas are low: let the SDK
 * retry throttling a few more times than the Lambdas do.
 */
export const CLI_ECR_MAX_ATTEMPTS = 5;

function baseConfig(aws: AwsOptions): { profile?: string; region?: string } {
  return {
    ...(aws.profile ? { profile: aws.profile } : {}),
    ...(aws.region ? { region: aws.region } : {}),
  };
}

/** The emulator reads the calling account from an access key ending in 12 digits. */
function emulatorCredentials(account?: string): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: account ? `AKIA${account}` : 'AKIALOCALEXAMPLE', secretAccessKey: 'local' };
}

/**
 * ECR clients per (Region, role), created once. A destination in another account is read and
 * written through its role (`account:region:roleArn` destinations), assumed with the caller's
 * credentials. Against an emulator endpoint, static credentials stand in (a developer machine may
 * have no AWS credentials at all), and a role acts as its own account.
 */
export function ecrClientProviderFor(aws: AwsOptions): EcrClientProvider {
  if (aws.endpoint) {
    return createEcrClientProvider({
      endpoint: aws.endpoint,
      maxAttempts: CLI_ECR_MAX_ATTEMPTS,
      credentials: emulatorCredentials(),
      credentialsForRole: (roleArn) => emulatorCredentials(roleArn.split(':')[4]),
    });
  }
  const base = aws.profile ? fromNodeProviderChain({ profile: aws.profile }) : undefined;
  return createEcrClientProvider({
    maxAttempts: CLI_ECR_MAX_ATTEMPTS,
    ...(base ? { credentials: base } : {}),
    credentialsForRole: (roleArn, region) =>
      fromTemporaryCredentials({
        params: { RoleArn: roleArn, RoleSessionName: 'ecr-backfill-cli' },
        clientConfig: { region },
        ...(base ? { masterCredentials: base } : {}),
      }),
  });
}

export function defaultClientFactories(): ClientFactories {
  return {
    sfn: (aws) => new SFNClient(baseConfig(aws)),
    s3: (aws) =>
      new S3Client({
        ...baseConfig(aws),
        // S3 emulators serve buckets by path, not by virtual host.
        ...(aws.endpoint ? { endpoint: aws.endpoint, forcePathStyle: true } : {}),
      }),
    ecr: (aws) => ecrClientProviderFor(aws),
  };
}

/**
 * The Region the SDK would use: `--region`, else AWS_REGION or the profile's Region (read from the
 * environment and config files; no AWS call).
 */
export async function resolveRegion(aws: AwsOptions): Promise<string> {
  if (aws.region) return aws.region;
  const client = new SFNClient(baseConfig(aws));
  try {
    return await client.config.region();
  } finally {
    client.destroy();
  }
}
