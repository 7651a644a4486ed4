/**
 * The deployed functions' logger: Powertools Logger, structured JSON, which has the shape of the
 * core's `Logger` (core/logger.ts) and adds what only Lambda uses (the invocation's context).
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';
import { SERVICE_NAME } from '../../core/deployment.ts';

export { PowertoolsLogger };

/**
 * Powertools' Logger, with one correction: `createChild` hands the Lambda context to the child, which
 * then works out the cold start again from its own, fresh state, so every per-invocation child would
 * claim `cold_start: true`. Here a child inherits the flag its parent computed for this invocation.
 */
class BackfillLogger extends PowertoolsLogger {
  private inheritedColdStart: boolean | undefined;
  private lastColdStart: boolean | undefined;

  protected override getColdStart(): boolean {
    const coldStart = this.inheritedColdStart ?? super.getColdStart();
    this.lastColdStart = coldStart;
    return coldStart;
  }

  protected override createLogger(options?: ConstructorOptions): PowertoolsLogger {
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
): PowertoolsLogger {
  return new BackfillLogger({
    serviceName: SERVICE_NAME,
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
  });
}
