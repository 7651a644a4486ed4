/**
 * The `ecr-backfill` program of the repository: the product's AWS-mode commands plus the offline
 * rig's (demo, local, emulator, bench). `npx ecr-backfill` from the repository root runs this one;
 * the published package's bin runs the product's program alone.
 */
import '../polyfills.ts';
import type { Command } from 'commander';
import { buildProgram as buildProductProgram, main as runProgram } from 'ecr-backfill/cli';
import { registerBenchCommand } from './commands/bench.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerEmulatorCommand } from './commands/emulator.ts';
import { registerLocalCommand } from './commands/local.ts';

export function buildProgram(): Command {
  const program = buildProductProgram();
  registerEmulatorCommand(program);
  registerDemoCommand(program);
  registerLocalCommand(program);
  registerBenchCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await runProgram(argv, buildProgram());
}
