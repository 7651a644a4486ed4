import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { loadFixture } from '../../ecr-emulator/fixture.ts';
import { startEcrEmulator } from '../../ecr-emulator/index.ts';

const number = (label: string) =>
  z
    .string()
    .trim()
    .min(1, `${label} needs a value`)
    .transform((value, ctx) => {
      const parsed = /^(inf|infinity)$/i.test(value) ? Infinity : Number(value);
      if (Number.isNaN(parsed)) {
        ctx.addIssue({ code: 'custom', message: `${label} must be a number, got '${value}'` });
        return z.NEVER;
      }
      return parsed;
    });

export const emulatorOptionsSchema = z.object({
  port: number('--port').pipe(z.number().int('--port must be an integer').min(0).max(65535)),
  fixture: z.string().min(1).optional(),
  replicationLatencyMs: number('--replication-latency-ms')
    .pipe(z.number().int().min(0, '--replication-latency-ms must be >= 0').max(86_400_000))
    .optional(),
  // `inf` (or `Infinity`) becomes Infinity above; zod's z.number() refuses non-finite numbers, so
  // Infinity is its own literal here: quotas off.
  quotaScale: number('--quota-scale')
    .pipe(
      z.union([
        z.literal(Number.POSITIVE_INFINITY),
        z.number().positive('--quota-scale must be > 0 (use inf to disable quotas)'),
      ]),
    )
    .optional(),
  faultRate: number('--fault-rate')
    .pipe(z.number().min(0).max(1, '--fault-rate must be between 0 and 1'))
    .optional(),
  apiLatencyMs: number('--api-latency-ms')
    .pipe(z.number().min(0, '--api-latency-ms must be >= 0').max(60_000, '--api-latency-ms must be <= 60000'))
    .optional(),
  seed: number('--seed').pipe(z.number().int('--seed must be an integer')).optional(),
  account: z
    .string()
    .regex(/^\d{12}$/, '--account must be a 12-digit AWS account id')
    .optional(),
  stateOut: z.string().min(1).optional(),
});

export type EmulatorCliOptions = z.input<typeof emulatorOptionsSchema>;

export function registerEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description(
      'Run the local ECR emulator (awsJson1_1 on 127.0.0.1; the Region comes from the SigV4 scope). ' +
        'Point any client at it: AWS_ENDPOINT_URL_ECR=http://127.0.0.1:<port>, with any keys (clients sign every ' +
        'request; the emulator accepts any): AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x.',
    )
    .option('--port <n>', 'TCP port on 127.0.0.1 (0 picks a free one)', '4599')
    .option('--fixture <file>', 'JSON registry fixture to seed (see local/ecr-emulator/fixture.ts)')
    .option(
      '--replication-latency-ms <n>',
      'delay between a push and its copy in each destination (default 1000)',
    )
    .option('--quota-scale <x>', 'multiply AWS default API rate quotas (inf disables throttling; default 1)')
    .option(
      '--fault-rate <p>',
      'share of calls failing with ThrottlingException or ServerException (default 0)',
    )
    .option(
      '--api-latency-ms <n>',
      'mean delay of every API call, ±50 % seeded jitter (default 0; real ECR calls take tens of ms)',
    )
    .option('--seed <n>', 'seed of the fault injection and latency jitter PRNGs (default 0)')
    .option('--account <id>', 'default account: the registry that calls naming no registryId act on')
    .option('--state-out <file>', 'write a JSON snapshot of the emulator state here on exit')
    .action(async (raw: Record<string, string | undefined>) => {
      const parsed = emulatorOptionsSchema.safeParse(raw);
      if (!parsed.success) {
        throw new Error(`invalid emulator options:\n${z.prettifyError(parsed.error)}`);
      }
      await runEmulator(parsed.data);
    });
}

async function runEmulator(options: z.output<typeof emulatorOptionsSchema>): Promise<void> {
  const fixture = options.fixture ? await loadFixture(options.fixture) : undefined;
  const emulator = await startEcrEmulator({
    port: options.port,
    ...(options.account ? { account: options.account } : {}),
    ...(options.replicationLatencyMs !== undefined
      ? { replicationLatencyMs: options.replicationLatencyMs }
      : {}),
    ...(options.quotaScale !== undefined ? { quotaScale: options.quotaScale } : {}),
    ...(options.faultRate !== undefined ? { faultRate: options.faultRate } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.apiLatencyMs !== undefined ? { apiLatencyMs: options.apiLatencyMs } : {}),
    ...(fixture ? { fixture } : {}),
  });
  process.stdout.write(`listening on ${emulator.endpoint}\n`);

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stderr.write(`ecr-backfill emulator: ${signal}, stopping\n`);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

  if (options.stateOut) {
    await writeFile(options.stateOut, `${JSON.stringify(emulator.snapshot(), null, 2)}\n`);
  }
  await emulator.close();
}
