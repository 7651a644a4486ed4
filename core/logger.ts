/**
 * The logger the domain and the steps write to: a small interface, so step logic and the CLI log
 * without Powertools. In Lambda it is Powertools' Logger (functions/lambda/powertools-logger.ts),
 * which has exactly this shape; elsewhere anything that does, such as `silentLogger`.
 *
 * Every line of a step carries the run id; lines about one image add `repository` and `digest`, so a
 * run, or one image across its steps, is one log query away.
 */

/** Structured attributes of a log line. */
export type LogAttributes = Record<string, unknown>;

export interface Logger {
  debug(message: string, ...attributes: LogAttributes[]): void;
  info(message: string, ...attributes: LogAttributes[]): void;
  warn(message: string, ...attributes: LogAttributes[]): void;
  error(message: string, ...attributes: LogAttributes[]): void;
  /** Adds keys to every later line of this logger. */
  appendKeys(attributes: LogAttributes): void;
  /** A logger whose every line also carries `persistentKeys`. */
  createChild(options: { persistentKeys: LogAttributes }): Logger;
}

/** Writes nothing: for code that runs outside Lambda and has nothing to say (the CLI's planning). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  appendKeys: () => undefined,
  createChild: () => silentLogger,
};

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
