/**
 * What every AWS-mode command reaches the outside world through: output streams, AWS clients, time.
 *
 * Commands never touch `process.stdout`, `new SFNClient()` or `Date.now()` directly, so tests drive
 * them in-process with captured streams, mocked or emulator-backed clients and an instant clock.
 * The context is bound to the root commander program (`bindCliContext`), which keeps
 * `buildProgram()` free of parameters that only tests care about.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import type { Clock } from '../../core/deps.ts';
import { systemClock } from '../../core/deps.ts';
import { defaultClientFactories, type ClientFactories } from '../aws/aws-clients.ts';

/** The part of a Node writable stream the CLI uses; `isTTY` selects the progress bar. */
export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliContext extends ClientFactories {
  stdout: OutputStream;
  stderr: OutputStream;
  clock: Clock;
  sleep(ms: number): Promise<void>;
  setExitCode(code: number): void;
  readTextFile(path: string): Promise<string>;
  /** Writes a file, creating its directory if needed. */
  writeTextFile(path: string, text: string): Promise<void>;
  /** Runs `handler` on Ctrl-C, then exits 130; returns a function that removes it. */
  onInterrupt(handler: () => void): () => void;
}

export function defaultCliContext(): CliContext {
  return {
    ...defaultClientFactories(),
    stdout: process.stdout,
    stderr: process.stderr,
    clock: systemClock,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    setExitCode: (code) => {
      process.exitCode = code;
    },
    readTextFile: (path) => readFile(path, 'utf8'),
    writeTextFile: async (path, text) => {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text, 'utf8');
    },
    onInterrupt: (handler) => {
      const listener = () => {
        handler();
        process.exit(130);
      };
      process.once('SIGINT', listener);
      return () => process.off('SIGINT', listener);
    },
  };
}

const contexts = new WeakMap<Command, CliContext>();

function rootOf(command: Command): Command {
  let current = command;
  while (current.parent) current = current.parent;
  return current;
}

/** Binds a context (parts override the defaults) to the program `command` belongs to. */
export function bindCliContext(command: Command, overrides: Partial<CliContext>): CliContext {
  const context = { ...defaultCliContext(), ...overrides };
  contexts.set(rootOf(command), context);
  return context;
}

/** The context bound to the program, or the real-world default. */
export function cliContextOf(command: Command): CliContext {
  const root = rootOf(command);
  let context = contexts.get(root);
  if (!context) {
    context = defaultCliContext();
    contexts.set(root, context);
  }
  return context;
}
