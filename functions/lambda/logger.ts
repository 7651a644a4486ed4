/**
 * Structured logging (Powertools Logger). Every line of a step carries the run id; lines about one
 * image add `repository` and `digest`, so a run, or one image across its steps, is one log query away.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';

export const SERVICE_NAME = 'ecr-backfill';

/**
 * Powertools' Logger, with one correction: `createChild` hands the Lambda context to the child, which
 * then works out the cold start again from its own, fresh state, so every per-invocation child would
 * claim `cold_start: true`. Here a child inherits the flag its parent computed for this invocation.
 */
class BackfillLogger extends Logger {
  private inheritedColdStart: boolean | undefined;
  private lastColdStart: boolean | undefined;

  protected override getColdStart(): boolean {
    const coldStart = this.inheritedColdStart ?? super.getColdStart();
    this.lastColdStart = coldStart;
    return coldStart;
  }

  protected override createLogger(options?: ConstructorOptions): Logger {
    const child = new BackfillLogger(options);
    child.inheritedColdStart = this.lastColdStart ?? false;
    return child;
  }
}

/**
 * The process-wide logger. Level and sampling follow the Powertools environment variables
 * (`POWERTOOLS_LOG_LEVEL`, …); `logLevel` overrides them (tests pass `'SILENT'`).
 */
export function createLogger(
  options: { logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT' } = {},
): Logger {
  return new BackfillLogger({
    serviceName: SERVICE_NAME,
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
  });
}

/** A child logger whose every line carries the run id (one per invocation: no state leaks between runs). */
export function runLogger(logger: Logger, runId: string, step: string): Logger {
  return logger.createChild({ persistentKeys: { runId, step } });
}

/** Correlation keys for a line about one image. */
export const imageKeys = (
  repositoryName: string,
  imageDigest: string,
): { repository: string; digest: string } => ({
  repository: repositoryName,
  digest: imageDigest,
});
