/**
 * The offline rig's commands (demo, local, emulator, bench) live in the source repository only: the
 * rig (ECR emulator, local S3, local Step Functions runner) is never published. An installed
 * package's `ecr-backfill demo` would otherwise say "unknown command 'demo'", while the README
 * names the command; these hidden stand-ins say where the command is and how to get it.
 */
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { runCommand } from './kit/command-kit.ts';
import { CliError } from './kit/errors.ts';
import { EXIT_CODES } from './kit/exit-codes.ts';

export const RIG_COMMANDS = ['demo', 'local', 'emulator', 'bench'] as const;

/** The source repository's clone URL from package.json `repository`, when the package names one. */
function repositoryUrl(): string | undefined {
  const manifest = createRequire(import.meta.url)('ecr-backfill/package.json') as {
    repository?: string | { url?: string };
  };
  const url = typeof manifest.repository === 'string' ? manifest.repository : manifest.repository?.url;
  return url?.replace(/^git\+/, '');
}

export function rigCommandError(name: string): CliError {
  const url = repositoryUrl() ?? '<the ecr-backfill source repository>';
  return new CliError(
    `\`${name}\` is a command of the source repository's offline rig, which the installed package does not include.`,
    {
      exitCode: EXIT_CODES.usage,
      hints: [
        'The rig (ECR emulator, local S3, local Step Functions runner) is never published. To run it:',
        `  git clone ${url} ecr-backfill && cd ecr-backfill && npm install && npx ecr-backfill ${name} --help`,
        'The installed package runs against AWS: plan, start, watch, redrive, report, cleanup.',
      ],
    },
  );
}

/** Adds a hidden stand-in for each rig command the program lacks, and a line to `--help`. */
export function addRigCommandPointers(program: Command): Command {
  const missing = RIG_COMMANDS.filter((name) => !program.commands.some((command) => command.name() === name));
  if (missing.length === 0) return program;
  for (const name of missing) {
    program.addCommand(
      new Command(name)
        .description(`in the source repository only (${name} is part of the offline rig)`)
        .helpOption(false)
        .allowUnknownOption()
        .allowExcessArguments()
        .argument('[args...]')
        .action((_args: string[], _options: unknown, command: Command) =>
          runCommand(command, () => Promise.reject(rigCommandError(name))),
        ),
      { hidden: true },
    );
  }
  program.addHelpText(
    'after',
    `\nThe offline rig's commands (${missing.join(', ')}) are in the source repository only, not in the installed package.`,
  );
  return program;
}
