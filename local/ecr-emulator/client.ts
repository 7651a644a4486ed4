import { ECRClient } from '@aws-sdk/client-ecr';

export interface EcrClientOptions {
  /** The calling account: the access key is `AKIA<account>`, which the emulator reads back. */
  account?: string;
  /** SDK attempts per call; default 1 so throttles and faults surface in tests. */
  maxAttempts?: number;
}

/** A real ECRClient pointed at the emulator, with static fake credentials. */
export function ecrClientFor(endpoint: string, region: string, options: EcrClientOptions = {}): ECRClient {
  return new ECRClient({
    endpoint,
    region,
    maxAttempts: options.maxAttempts ?? 1,
    credentials: {
      accessKeyId: options.account ? `AKIA${options.account}` : 'AKIAEMULATOREXAMPLE',
      secretAccessKey: 'emulator-secret-key',
    },
  });
}
