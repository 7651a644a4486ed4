/**
 * An ECR emulator in a child process, seeded with a generated registry. The bench runs its emulators
 * here, as ECR is in AWS: apart from the client. The emulator gets a core of its own (the steps, the
 * SDK and the runner are one Node process, and at a few thousand images that process alone was
 * CPU-bound with the emulator in it: every call's cost on both ends of the HTTP round trip fell on
 * one event loop), and the parent's heap holds only what the planner or the steps hold (a
 * 100,000-image registry would otherwise dominate every memory figure).
 *
 * Protocol (IPC messages): parent → `{ type: 'start', options, shape, observe? }`; child →
 * `{ type: 'ready', endpoint, summary, registry, snapshot }` (the seeded state, and with `observe`
 * the source-tag observer started); parent → `{ type: 'stats' }`; child → `{ type: 'stats', stats }`;
 * parent → `{ type: 'settle' }`; child, once replication is idle and the observer stopped →
 * `{ type: 'settled', snapshot, calls, observed }`; parent → `{ type: 'close' }`, and the child exits.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EcrEmulatorOptions } from '../ecr-emulator/index.ts';
import type { CallLogEntry } from '../ecr-emulator/call-log.ts';
import type { EmulatorSnapshot } from '../ecr-emulator/snapshot.ts';
import type { CallStats } from './call-stats.ts';
import type { SourceChanges, UnavailabilityReport } from './observer.ts';
import type { OwnTempTags } from './own-temp-tags.ts';
import type { GeneratedRegistry, RegistryShape } from './registry-generator.ts';

export interface RegistrySummary {
  repositories: number;
  coveredRepositories: number;
  /** Source images the planner lists (tagged, active) and images in destinations. */
  sourceImages: number;
  destinationImages: number;
  /**
   * The fewest ECR read calls planning can make: one DescribeRegistry, ceil(repositories / 1000)
   * DescribeRepositories pages, and per covered repository, per Region it is read in (the source and
   * each covering destination), ceil(images / 1000) DescribeImages pages (at least one).
   */
  minimumCalls: number;
}

/** The source-tag observer to run beside the emulator (observer.ts), and whose temp tags it ignores. */
export interface ObserveOptions {
  ownTempTags: OwnTempTags;
}

/** What the observer saw, as invariants.ts takes it. */
export interface Observed {
  unavailability: UnavailabilityReport;
  changes: SourceChanges;
}

/** The emulator's state once the run's replication settled. */
export interface Settled {
  snapshot: EmulatorSnapshot;
  calls: CallLogEntry[];
  /** Absent when the emulator was started without `observe`. */
  observed?: Observed;
}

export type ChildMessage =
  | {
      type: 'ready';
      endpoint: string;
      summary: RegistrySummary;
      registry: GeneratedRegistry;
      snapshot: EmulatorSnapshot;
    }
  | { type: 'stats'; stats: CallStats }
  | ({ type: 'settled' } & Settled)
  | { type: 'error'; message: string };

/** Emulator options that survive IPC (no functions, no fixture). */
export type ProcessEmulatorOptions = Omit<EcrEmulatorOptions, 'fixture' | 'replicationRepositoryTemplate'>;

export type ParentMessage =
  | { type: 'start'; options: ProcessEmulatorOptions; shape: RegistryShape; observe?: ObserveOptions }
  | { type: 'stats' }
  | { type: 'settle' }
  | { type: 'close' };

export interface EmulatorProcess {
  endpoint: string;
  summary: RegistrySummary;
  /** The registry as generated and seeded. */
  registry: GeneratedRegistry;
  /** The emulator's state right after seeding, before any client call. */
  seeded: EmulatorSnapshot;
  stats(): Promise<CallStats>;
  /** Waits for replication to go idle, stops the observer, and returns the state and every call. */
  settle(): Promise<Settled>;
  close(): Promise<void>;
}

const CHILD_ENTRY = fileURLToPath(new URL('./emulator-child.ts', import.meta.url));

function nextMessage(child: ChildProcess, type: ChildMessage['type']): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: ChildMessage) => {
      if (message.type !== type && message.type !== 'error') return;
      cleanup();
      if (message.type === 'error') reject(new Error(`emulator process: ${message.message}`));
      else resolve(message);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`emulator process exited (${code ?? 'signal'}) before '${type}'`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Starts the emulator in a child process (TypeScript through tsx's loader) and seeds it. */
export async function startEmulatorProcess(
  options: ProcessEmulatorOptions,
  shape: RegistryShape,
  observe?: ObserveOptions,
): Promise<EmulatorProcess> {
  const child = fork(CHILD_ENTRY, [], {
    // The rig's own process: the product's entry points resolve to its sources, as in the parent.
    execArgv: ['--conditions=ecr-backfill-source', '--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    // Structured clone keeps Infinity (quotaScale) intact; JSON would turn it into null.
    serialization: 'advanced',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const send = (message: ParentMessage) => child.send(message);
  try {
    const ready = nextMessage(child, 'ready');
    send({ type: 'start', options, shape, ...(observe ? { observe } : {}) });
    const message = await ready;
    if (message.type !== 'ready') throw new Error('unexpected message');
    return {
      endpoint: message.endpoint,
      summary: message.summary,
      registry: message.registry,
      seeded: message.snapshot,
      async settle() {
        const reply = nextMessage(child, 'settled');
        send({ type: 'settle' });
        const answer = await reply;
        if (answer.type !== 'settled') throw new Error('unexpected message');
        const { type: _type, ...settled } = answer;
        return settled;
      },
      async stats() {
        const reply = nextMessage(child, 'stats');
        send({ type: 'stats' });
        const answer = await reply;
        if (answer.type !== 'stats') throw new Error('unexpected message');
        return answer.stats;
      },
      async close() {
        if (child.exitCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        send({ type: 'close' });
        await exited;
      },
    };
  } catch (error) {
    child.kill();
    throw error;
  }
}
