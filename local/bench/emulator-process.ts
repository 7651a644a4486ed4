/**
 * An ECR emulator in a child process, seeded with a generated registry. The planner-scale bench runs
 * the emulator here so the parent's heap holds only what the planner itself holds (a 100,000-image
 * registry would otherwise dominate every memory figure), and the emulator gets a core of its own.
 *
 * Protocol (IPC messages): parent → `{ type: 'start', options, shape }`; child → `{ type: 'ready',
 * endpoint, summary }`; parent → `{ type: 'stats' }`; child → `{ type: 'stats', stats }`; parent →
 * `{ type: 'close' }`, and the child exits.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EcrEmulatorOptions } from '../ecr-emulator/index.ts';
import type { CallStats } from './call-stats.ts';
import type { RegistryShape } from './registry-generator.ts';

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

export type ChildMessage =
  | { type: 'ready'; endpoint: string; summary: RegistrySummary }
  | { type: 'stats'; stats: CallStats }
  | { type: 'error'; message: string };

/** Emulator options that survive IPC (no functions, no fixture). */
export type ProcessEmulatorOptions = Omit<EcrEmulatorOptions, 'fixture' | 'replicationRepositoryTemplate'>;

export type ParentMessage =
  | { type: 'start'; options: ProcessEmulatorOptions; shape: RegistryShape }
  | { type: 'stats' }
  | { type: 'close' };

export interface EmulatorProcess {
  endpoint: string;
  summary: RegistrySummary;
  stats(): Promise<CallStats>;
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
): Promise<EmulatorProcess> {
  const child = fork(CHILD_ENTRY, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    // Structured clone keeps Infinity (quotaScale) intact; JSON would turn it into null.
    serialization: 'advanced',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const send = (message: ParentMessage) => child.send(message);
  try {
    const ready = nextMessage(child, 'ready');
    send({ type: 'start', options, shape });
    const message = await ready;
    if (message.type !== 'ready') throw new Error('unexpected message');
    return {
      endpoint: message.endpoint,
      summary: message.summary,
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
