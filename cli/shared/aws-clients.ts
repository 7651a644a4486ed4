/**
 * Real AWS clients for the CLI, configured the way every AWS tool is: credentials and Region from
 * the SDK's default chain (environment, `~/.aws/config`, SSO, instance roles), `--profile` and
 * `--region` passed to the client when given.
 * https://docs.aws.amazon.com/sdkref/latest/guide/creds-config-files.html
 */
import { ECRClient } from '@aws-sdk/client-ecr';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { EcrClientProvider, EcrTarget } from '../../functions/shared/deps.ts';
import type { AwsOptions, ClientFactories } from './context.ts';

function baseConfig(aws: AwsOptions): { profile?: string; region?: string } {
  return {
    ...(aws.profile ? { profile: aws.profile } : {}),
    ...(aws.region ? { region: aws.region } : {}),
  };
}

/**
 * ECR clients per (Region, role), created once. A destination in another account is read and
 * written through its role (`account:region:roleArn` destinations), assumed with the caller's
 * credentials. Emulator endpoints get static dummy credentials: the emulator only reads the Region
 * from the SigV4 scope, and a developer machine may have no AWS credentials at all.
 */
export function ecrClientProviderFor(aws: AwsOptions): EcrClientProvider {
  const clients = new Map<string, ECRClient>();
  return (target: EcrTarget) => {
    const key = `${target.region}|${target.roleArn ?? ''}`;
    let client = clients.get(key);
    if (!client) {
      const credentials = aws.endpoint
        ? { accessKeyId: 'local', secretAccessKey: 'local' }
        : target.roleArn
          ? fromTemporaryCredentials({
              params: { RoleArn: target.roleArn, RoleSessionName: 'ecr-backfill-cli' },
              clientConfig: { region: target.region },
              ...(aws.profile ? { masterCredentials: fromNodeProviderChain({ profile: aws.profile }) } : {}),
            })
          : undefined;
      client = new ECRClient({
        ...baseConfig(aws),
        region: target.region,
        ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
        ...(credentials ? { credentials } : {}),
      });
      clients.set(key, client);
    }
    return client;
  };
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
