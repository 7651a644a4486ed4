import type { ECRClient } from '@aws-sdk/client-ecr';
import { startEcrEmulator, type EcrEmulator, type EcrEmulatorOptions } from '../../ecr-emulator/index.ts';

/** Fast defaults for tests: short replication latency and no throttling unless a test asks for it. */
export const FAST: EcrEmulatorOptions = { replicationLatencyMs: 20, quotaScale: Infinity };

export interface Harness {
  emulator: EcrEmulator;
  client(region: string, options?: { account?: string; maxAttempts?: number }): ECRClient;
  close(): Promise<void>;
}

/** Starts an emulator and tracks the clients made for it, so `close` releases everything. */
export async function startHarness(options: EcrEmulatorOptions = {}): Promise<Harness> {
  const emulator = await startEcrEmulator({ ...FAST, ...options });
  const clients: ECRClient[] = [];
  return {
    emulator,
    client(region, clientOptions = {}) {
      const client = emulator.client(region, clientOptions);
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.destroy();
      await emulator.close();
    },
  };
}

/** Runs `fn` and returns the error it throws (fails the test if it does not throw). */
export async function errorOf(
  fn: () => Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
