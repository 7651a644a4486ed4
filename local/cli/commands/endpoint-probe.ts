/**
 * `local --ecr-endpoint <url>`: one request to the endpoint before anything else, so a stopped
 * emulator is reported as such. Without it the workflow's first ECR call fails inside a Lambda
 * step, and the run ends FAILED with that step's advice ("redrive"), which cannot help.
 */
import { CliError, emulatorCommandFor, networkCodeOf } from 'ecr-backfill/cli';

/** Generous: a busy machine's emulator answers in milliseconds, a stopped one refuses at once. */
const PROBE_TIMEOUT_MS = 10_000;

/** Resolves when the endpoint answers HTTP (any status); throws a CliError saying how to start it. */
export async function assertEndpointReachable(endpoint: string): Promise<void> {
  try {
    const response = await fetch(endpoint, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await response.body?.cancel();
  } catch (error) {
    const why = networkCodeOf(error) ?? (error instanceof Error ? error.name : String(error));
    throw new CliError(`The ECR endpoint ${endpoint} is not reachable (${why}): is the emulator running?`, {
      cause: error,
      hints: [
        `Start it in another terminal: ${emulatorCommandFor(endpoint)}`,
        'or leave out --ecr-endpoint to run against an embedded emulator with the demo registry.',
      ],
    });
  }
}
