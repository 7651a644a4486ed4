import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ECRClient } from '@aws-sdk/client-ecr';
import { BackfillManager } from './backfill.ts';
import { CallLog } from './call-log.ts';
import { ecrClientFor, type EcrClientOptions } from './client.ts';
import { Faults } from './faults.ts';
import { ApiLatency } from './latency.ts';
import { allowAccountsPolicy, parseRegistryPolicy } from './registry-policy.ts';
import { seedBuiltImage, seedFixture, type Fixture } from './fixture.ts';
import type { BuiltImage } from './images.ts';
import { Quotas } from './quotas.ts';
import {
  ReplicationEngine,
  type ReplicationFailureHandle,
  type ReplicationFailureRule,
} from './replication-engine.ts';
import { EmulatorPrincipals } from './iam/principals.ts';
import { IamDecisionLog } from './iam/decisions.ts';
import { createRequestHandler } from './server.ts';
import { takeSnapshot, type EmulatorSnapshot } from './snapshot.ts';
import {
  World,
  type ImageRecord,
  type ImageStatus,
  type ReplicationDestination,
  type RepositorySettings,
} from './world.ts';

export interface EcrEmulatorOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Default account: the registry that calls naming no registryId act on. Default 111111111111. */
  account?: string;
  /** Delay between a push and its copy in each destination. Default 1000 ms. */
  replicationLatencyMs?: number;
  /** Multiplies every API rate quota; Infinity disables throttling. Default 1 (AWS defaults). */
  quotaScale?: number;
  /** Per-operation rates (calls/s before scaling) replacing AWS's defaults. */
  quotaRates?: Record<string, number>;
  /** Share of calls failing at random with ThrottlingException or ServerException. Default 0. */
  faultRate?: number;
  /** Seed of the fault PRNG and of the latency jitter (two separate streams). Default 0. */
  seed?: number;
  /**
   * Mean delay of every API call, in ms (real ECR calls take tens of milliseconds; see latency.ts).
   * Default 0: calls answer at once.
   */
  apiLatencyMs?: number;
  /** Jitter of the per-call latency: ± this share of the mean, uniform. Default 0.5. */
  apiLatencyJitter?: number;
  /** Restrict random faults to these operations. */
  faultOperations?: string[];
  /** Registry to seed (directly, without quotas or replication). */
  fixture?: Fixture;
  /** Native backfill: replications processed per latency tick. Default 100. */
  backfillBatchSize?: number;
  /** Call log entries kept (oldest dropped first). Default 200,000. */
  callLogLimit?: number;
  /**
   * Settings of the repositories replication creates in a destination, like a repository creation
   * template with `appliedFor: REPLICATION`. Default: none (MUTABLE, AES256), as ECR does without one.
   * https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html
   */
  replicationRepositoryTemplate?: (
    destination: ReplicationDestination,
    repositoryName: string,
  ) => RepositorySettings | undefined;
}

export const DEFAULT_ACCOUNT = '111111111111';
export const DEFAULT_REPLICATION_LATENCY_MS = 1000;

/** A running emulator: the HTTP endpoint plus programmatic access to its state and controls. */
export class EcrEmulator {
  readonly world: World;
  readonly callLog: CallLog;
  readonly faults: Faults;
  readonly quotas: Quotas;
  readonly replicationEngine: ReplicationEngine;
  readonly backfills: BackfillManager;
  readonly latency: ApiLatency;
  readonly defaultAccount: string;
  /** Role sessions the emulator authorizes by their identity policies (iam/principals.ts). */
  readonly principals = new EmulatorPrincipals();
  /** Every IAM decision made, in order (iam/decisions.ts). */
  readonly iamDecisions = new IamDecisionLog();
  private server: Server | undefined;
  private portValue = 0;

  /** Replication controls: inject failures, await idleness. */
  readonly replication: {
    fail(
      rule: Omit<ReplicationFailureRule, 'mode'> & { mode?: ReplicationFailureRule['mode'] },
    ): ReplicationFailureHandle;
    clearFailures(): void;
    whenIdle(): Promise<void>;
    /** Runs all scheduled replication and backfill steps now (no waiting for the latency). */
    flush(): void;
    readonly pending: number;
    latencyMs: number;
  };

  constructor(options: EcrEmulatorOptions = {}) {
    const account = options.account ?? options.fixture?.defaultAccount ?? DEFAULT_ACCOUNT;
    if (!/^\d{12}$/.test(account)) throw new Error(`account must be 12 digits, got '${account}'`);
    const latency = options.replicationLatencyMs ?? DEFAULT_REPLICATION_LATENCY_MS;
    if (!(latency >= 0) || !Number.isFinite(latency)) throw new Error(`replicationLatencyMs must be >= 0`);
    this.defaultAccount = account;
    this.world = new World();
    this.callLog = new CallLog(options.callLogLimit);
    this.faults = new Faults({
      rate: options.faultRate ?? 0,
      seed: options.seed ?? 0,
      ...(options.faultOperations ? { operations: options.faultOperations } : {}),
    });
    this.quotas = new Quotas({
      scale: options.quotaScale ?? 1,
      ...(options.quotaRates ? { rates: options.quotaRates } : {}),
    });
    this.latency = new ApiLatency({
      meanMs: options.apiLatencyMs ?? 0,
      ...(options.apiLatencyJitter !== undefined ? { jitter: options.apiLatencyJitter } : {}),
      seed: options.seed ?? 0,
    });
    this.replicationEngine = new ReplicationEngine(this.world, {
      latencyMs: latency,
      ...(options.replicationRepositoryTemplate
        ? { destinationRepositorySettings: options.replicationRepositoryTemplate }
        : {}),
    });
    this.backfills = new BackfillManager(this.world, this.replicationEngine, {
      ...(options.backfillBatchSize ? { batchSize: options.backfillBatchSize } : {}),
    });
    const engine = this.replicationEngine;
    this.replication = {
      fail: (rule) => engine.addFailure({ mode: 'fail', ...rule }),
      clearFailures: () => engine.clearFailures(),
      whenIdle: () => engine.whenIdle(),
      flush: () => engine.flush(),
      get pending() {
        return engine.pending;
      },
      get latencyMs() {
        return engine.latencyMs;
      },
      set latencyMs(value: number) {
        engine.latencyMs = value;
      },
    };
    if (options.fixture) seedFixture(this.world, options.fixture);
  }

  /** Starts listening on 127.0.0.1. */
  async listen(port = 0): Promise<this> {
    const server = createServer(
      { keepAlive: true },
      createRequestHandler({
        world: this.world,
        replication: this.replicationEngine,
        backfills: this.backfills,
        quotas: this.quotas,
        faults: this.faults,
        callLog: this.callLog,
        latency: this.latency,
        defaultAccount: () => this.defaultAccount,
        principals: this.principals,
        iamDecisions: this.iamDecisions,
      }),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.portValue = (server.address() as AddressInfo).port;
    return this;
  }

  get port(): number {
    return this.portValue;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.portValue}`;
  }

  /** A real ECRClient for this emulator (maxAttempts 1 unless told otherwise). */
  client(region: string, options: EcrClientOptions = {}): ECRClient {
    return ecrClientFor(this.endpoint, region, options);
  }

  /** Seeds a fixture directly (no quota, no call log, no replication). */
  seed(fixture: Fixture): void {
    seedFixture(this.world, fixture);
  }

  /**
   * Seeds a built image (children first) directly into a repository (created MUTABLE if missing), in
   * the default account unless `account` is given. With `replicate: true` the seed counts as a push
   * and is replicated like one; by default it is not (the image "existed before replication").
   */
  seedImage(
    where: { region: string; repository: string; account?: string },
    image: BuiltImage,
    options: { tags?: string[]; status?: ImageStatus; pushedAt?: number; replicate?: boolean } = {},
  ): ImageRecord {
    const target = {
      account: where.account ?? this.defaultAccount,
      region: where.region,
      repository: where.repository,
    };
    seedBuiltImage(this.world, target, image, {
      ...(options.tags ? { tags: options.tags } : {}),
      ...(options.status === 'ARCHIVED' || options.status === 'ACTIVE' ? { status: options.status } : {}),
      ...(options.pushedAt !== undefined ? { pushedAt: options.pushedAt } : {}),
    });
    const repository = this.world.requireRepository(target.account, target.region, target.repository);
    const record = repository.images.get(image.digest) as ImageRecord;
    if (options.replicate) {
      const tags = options.tags ?? [];
      if (tags.length === 0) this.replicationEngine.onPush(repository, image.digest, undefined);
      for (const tag of tags) this.replicationEngine.onPush(repository, image.digest, tag);
    }
    return record;
  }

  /** Sets a registry's permissions policy directly (as PutRegistryPolicy in that account would). */
  putRegistryPolicy(account: string, region: string, policyText: string): void {
    this.world.setRegistryPolicy(account, region, {
      text: policyText,
      statements: parseRegistryPolicy(policyText),
    });
  }

  /**
   * Lets `sourceAccount` replicate into `destination` (ecr:ReplicateImage and ecr:CreateRepository),
   * plus any further actions (e.g. CROSS_ACCOUNT_BACKFILL_ACTIONS for calls without a role).
   */
  allowReplication(
    sourceAccount: string,
    destination: { account: string; region: string },
    actions: readonly string[] = ['ecr:ReplicateImage', 'ecr:CreateRepository'],
  ): void {
    this.putRegistryPolicy(
      destination.account,
      destination.region,
      allowAccountsPolicy([sourceAccount], actions),
    );
  }

  /** Resolves once every scheduled replication (and backfill step) has run. */
  whenReplicationIdle(): Promise<void> {
    return this.replicationEngine.whenIdle();
  }

  /** Plain JSON state of every registry. */
  snapshot(): EmulatorSnapshot {
    return takeSnapshot(this.world, this.defaultAccount, this.backfills.all());
  }

  /** Stops the server and cancels pending replication. */
  async close(): Promise<void> {
    this.replicationEngine.close();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

/** Starts an emulator on 127.0.0.1 (port 0 = a free port). */
export async function startEcrEmulator(options: EcrEmulatorOptions = {}): Promise<EcrEmulator> {
  return new EcrEmulator(options).listen(options.port ?? 0);
}

export { ecrClientFor, type EcrClientOptions } from './client.ts';
export { pushImage, type PushOptions } from './push.ts';
export {
  ARTIFACT_TYPES,
  allBlobs,
  buildArtifact,
  buildReferrer,
  subjectOf,
  buildDockerImage,
  buildDockerManifestList,
  buildImage,
  buildOciImage,
  buildOciIndex,
  type BuiltBlob,
  type BuiltImage,
  type ImageSpec,
  type Platform,
} from './images.ts';
export {
  fixtureSchema,
  fixtureJsonSchema,
  loadFixture,
  parseFixture,
  FixtureError,
  type Fixture,
} from './fixture.ts';
export type { CallLogEntry, CallParams, CallFilter } from './call-log.ts';
export type { IamDecision, IamDecisionEntry } from './iam/decisions.ts';
export type { FaultRule, FaultHandle, FaultError } from './faults.ts';
export type { ReplicationFailureRule, ReplicationFailureHandle } from './replication-engine.ts';
export type { EmulatorSnapshot, ImageSnapshot, RepositorySnapshot, RegistrySnapshot } from './snapshot.ts';
export type {
  World,
  WorldEvent,
  ImageRecord,
  RepositoryRecord,
  RepositorySettings,
  ReplicationConfiguration,
  ReplicationDestination,
} from './world.ts';
export { EcrError } from './errors.ts';
export { roleTrustingAccount, STS_ASSUME_ROLE_PATH, type FixtureRole } from './iam/roles.ts';
export { CROSS_ACCOUNT_BACKFILL_ACTIONS, allowAccountsPolicy } from './registry-policy.ts';
export * as mediaTypes from './media-types.ts';
export { DEFAULT_RATES, UNPUBLISHED_RATE } from './quotas.ts';
