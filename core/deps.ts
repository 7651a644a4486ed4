/**
 * What a step's logic depends on, passed in rather than reached for, so the same handler code runs
 * in Lambda (real clients), in the local runner (clients pointed at the emulators, a possibly
 * compressed clock) and in tests.
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { Logger } from './logger.ts';
import type { StepMetrics } from './metrics.ts';
import type { RunStore } from './run-files/run-store.ts';
import type { RunPolicy } from './contracts/run-policy.ts';

/** Milliseconds since the epoch. Injected so tests and the local runner can control time. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Identifies the registry an ECR client talks to. */
export interface EcrTarget {
  region: string;
  /** Account of the registry; the caller's own account when omitted. */
  registryId?: string;
  /** Role to assume for a registry in another account. */
  roleArn?: string;
}

/** Returns one cached client per (Region, role): clients are created once, not per call. */
export type EcrClientProvider = (target: EcrTarget) => ECRClient;

export interface StepDeps {
  ecr: EcrClientProvider;
  /** The run files (the run bucket in production). */
  runStore: RunStore;
  clock: Clock;
  logger: Logger;
  /** Where outcome metrics go (EMF through Powertools in Lambda). */
  metrics: StepMetrics;
  env: StepEnvironment;
}

/** Configuration every step reads from its environment at init (checked, never defaulted silently). */
export interface StepEnvironment {
  /** The run bucket (RUN_BUCKET). */
  runBucket: string;
  /** The source Region: the deployment's Region (AWS_REGION) unless SOURCE_REGION overrides it. */
  sourceRegion: string;
  /** Deploy-time default input merged under the execution input (DEFAULT_INPUT, JSON). */
  defaultInput: Record<string, unknown>;
  /** Share of the source Region's PutImage quota (per second) this invocation may use (PUT_IMAGE_RATE). */
  putImageRatePerSecond: number;
  /**
   * The whole PutImage rate the deployment may use per Region (PUT_IMAGE_QUOTA: the construct's
   * `putImageRatePerSecond`), which the plan's quota bound and ETA are computed at. Absent: ECR's
   * default quota, 10/s.
   */
  putImageQuotaPerSecond?: number;
  /**
   * The deployer's limits on any execution's input (RUN_POLICY, JSON; core/contracts/run-policy.ts).
   * Absent: the construct's default policy (promote only, no overwrites, the default concurrency limit).
   */
  runPolicy?: RunPolicy;
  /**
   * The ECR actions this step may use in a destination account through a role (DESTINATION_ACTIONS,
   * comma-separated): the session policy of every AssumeRole. Absent: no session policy.
   */
  destinationActions?: string[];
  /**
   * Other accounts whose registries the functions reach with their own roles, without a destination
   * role (DIRECT_ACCOUNTS, comma-separated; the construct's `directAccounts`). Plan refuses a
   * destination in any other account that has no `roleArn`. Absent: none.
   */
  directAccounts?: string[];
  /**
   * The destination roles the deployment may assume (DESTINATION_ROLE_ARNS, comma-separated; the
   * construct's `destinationRoleArns`, given to Plan only). Plan reaches a destination the run does
   * not select, but its pushes replicate to, through the role of that destination's account.
   * Absent: none.
   */
  destinationRoleArns?: string[];
}
