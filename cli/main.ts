import { Command, CommanderError } from 'commander';
import { registerStartCommand } from './commands/start.ts';
import { registerWatchCommand } from './commands/watch.ts';
import { registerRedriveCommand } from './commands/redrive.ts';
import { registerCleanupCommand } from './commands/cleanup.ts';
import { registerPlanCommand } from './commands/plan.ts';
import { registerReportCommand } from './commands/report.ts';
import { packageVersion } from './kit/version.ts';
import { addRigCommandPointers } from './rig-commands.ts';

/**
 * Builds the product's `ecr-backfill` program: the AWS-mode commands. Exported so tests can drive it
 * without spawning a process, and so the offline rig (local/) can add its own commands to it.
 */
export function buildProgram(): Command {
  const program = new Command('ecr-backfill')
    .description('Backfill existing Amazon ECR images into replication destinations.')
    .version(packageVersion(), '-V, --version', 'print the version of ecr-backfill')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  registerStartCommand(program);
  registerWatchCommand(program);
  registerRedriveCommand(program);
  registerCleanupCommand(program);
  registerPlanCommand(program);
  registerReportCommand(program);
  return program;
}

/**
 * The installed package's program: the product's commands, and stand-ins for the offline rig's
 * commands that say where they are (the repository's program registers the real ones).
 */
export function buildInstalledProgram(): Command {
  return addRigCommandPointers(buildProgram());
}

/** Runs a program (the installed package's unless given) on `argv`; sets the exit code instead of exiting. */
export async function main(argv: string[], program: Command = buildInstalledProgram()): Promise<void> {
  program.exitOverride();
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
