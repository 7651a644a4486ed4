import '../local/polyfills.ts';
import { Command, CommanderError } from 'commander';
import { registerEmulatorCommand } from './commands/emulator.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerStartCommand } from './commands/start.ts';
import { registerWatchCommand } from './commands/watch.ts';
import { registerRedriveCommand } from './commands/redrive.ts';
import { registerCleanupCommand } from './commands/cleanup.ts';
import { registerPlanCommand } from './commands/plan.ts';
import { registerReportCommand } from './commands/report.ts';
import { registerLocalCommand } from './commands/local.ts';
import { registerBenchCommand } from './commands/bench.ts';

/** Builds the `ecr-backfill` program; exported so tests can drive it without spawning a process. */
export function buildProgram(): Command {
  const program = new Command('ecr-backfill')
    .description('Backfill existing Amazon ECR images into replication destinations.')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  registerEmulatorCommand(program);
  registerDemoCommand(program);
  registerStartCommand(program);
  registerWatchCommand(program);
  registerRedriveCommand(program);
  registerCleanupCommand(program);
  registerPlanCommand(program);
  registerReportCommand(program);
  registerLocalCommand(program);
  registerBenchCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`ecr-backfill: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
