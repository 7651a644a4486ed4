import type { BackfillManager } from './backfill.ts';
import type { ReplicationEngine } from './replication-engine.ts';
import type { World } from './world.ts';

/** What an operation handler gets: the state, the engines, and who is calling where. */
export interface OperationContext {
  world: World;
  replication: ReplicationEngine;
  backfills: BackfillManager;
  /** Region from the SigV4 credential scope. */
  region: string;
  /** The registry the call acts on: `registryId` if given, else the caller's account. */
  account: string;
  /** The emulator's own base URL as the caller reached it (`http://host:port`): where download URLs point. */
  endpoint?: string;
}

export type OperationHandler = (ctx: OperationContext, input: Record<string, unknown>) => unknown;

/** Epoch seconds, as awsJson1_1 serializes timestamps. */
export const epochSeconds = (ms: number): number => ms / 1000;
