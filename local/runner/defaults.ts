/** Defaults of a local backfill run, in a module light enough for the CLI to import eagerly. */

export const DEFAULT_SOURCE_REGION = 'us-east-1';
/** Waits and retry intervals run 1,000 times faster than in AWS; order and attempt counts do not change. */
export const DEFAULT_TIME_SCALE = 0.001;
export const DEFAULT_ACCOUNT = '111111111111';
