/**
 * Drives the real `ecr-backfill` program in-process: captured output streams (optionally posing as
 * a terminal), injected clients, and a fake clock whose `sleep` advances time instantly.
 */
import { CommanderError, type Command } from 'commander';
import { buildProgram } from '../../local/cli/main.ts';
import { bindCliContext, type CliContext } from '../../cli/kit/context.ts';
import { CapturedStream } from './captured-stream.ts';

export { CapturedStream };

export interface FakeTime {
  now: number;
  clock: { now(): number };
  sleep(ms: number): Promise<void>;
  sleeps: number[];
}

export function fakeTime(start = Date.UTC(2026, 4, 1, 12, 0, 0)): FakeTime {
  const time: FakeTime = {
    now: start,
    clock: { now: () => time.now },
    sleeps: [],
    sleep: (ms) => {
      time.sleeps.push(ms);
      time.now += ms;
      return Promise.resolve();
    },
  };
  return time;
}

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

/** Runs `ecr-backfill <args>`; `tty` makes stdout a terminal (progress bar instead of lines). */
export async function runCli(
  args: string[],
  options: {
    tty?: boolean;
    context?: Partial<CliContext>;
    time?: FakeTime;
    /** The program to drive: the repository's (product and rig) unless given. */
    program?: () => Command;
  } = {},
): Promise<CliRun> {
  const stdout = new CapturedStream(options.tty ?? false);
  const stderr = new CapturedStream(false);
  const time = options.time ?? fakeTime();
  let exitCode = 0;
  const program = (options.program ?? buildProgram)();
  for (const command of allCommands(program)) {
    command.exitOverride();
    command.configureOutput({
      writeOut: (text) => stdout.write(text),
      writeErr: (text) => stderr.write(text),
    });
  }
  bindCliContext(program, {
    stdout,
    stderr,
    clock: time.clock,
    sleep: (ms) => time.sleep(ms),
    setExitCode: (code) => {
      exitCode = code;
    },
    readTextFile: () => Promise.reject(new Error('no files in tests unless a test provides readTextFile')),
    writeTextFile: () => Promise.reject(new Error('no files in tests unless a test provides writeTextFile')),
    onInterrupt: () => () => undefined,
    ...options.context,
  });
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    exitCode = error.exitCode;
  }
  return { exitCode, stdout: stdout.text, stderr: stderr.text };
}
