/**
 * Structured logging (Powertools Logger). Every line of a step carries the run id; lines about one
 * image add `repository` and `digest`, so a run, or one image across its steps, is one log query away.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const SERVICE_NAME = 'ecr-backfill';

/**
 * The process-wide logger. Level and sampling follow the Powertools environment variables
 * (`POWERTOOLS_LOG_LEVEL`, …); `logLevel` overrides them (tests pass `'SILENT'`).
 */
export function createLogger(
  options: { logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT' } = {},
): Logger {
  return new Logger({
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
