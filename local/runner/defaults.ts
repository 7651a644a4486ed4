/** Defaults of a local backfill run, in a module light enough for the CLI to import eagerly. */

export const DEFAULT_SOURCE_REGION = 'us-east-1';
/** Waits and retry intervals run 1,000 times faster than in AWS; order and attempt counts do not change. */
export const DEFAULT_TIME_SCALE = 0.001;
export const DEFAULT_ACCOUNT = '111111111111';

/**
 * The run policy of a deployment that lets executions choose every strategy and overwrite
 * conflicts (and include archived images): what the bench and the invariant suites deploy, since they exercise both strategies.
 * (The construct's own default allows `promote` only.)
 */
export const ALL_STRATEGIES_ALLOWED = {
  allowedStrategies: ['promote', 'retag-source'],
  allowOverwriteConflicts: true,
  allowIncludeArchived: true,
} as const;
