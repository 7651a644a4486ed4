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

/** The demo's other account (Ireland): its registry policy allows the source account (demo-registry.ts). */
export const DEMO_OTHER_ACCOUNT = '222222222222';

/**
 * The deployment the local world runs by default: it reaches the demo's other account directly
 * (`directAccounts`), so its functions' policies cover that account's repositories, as a deployer
 * would configure it for that registry. A destination in any other account needs a `roleArn`.
 */
export const LOCAL_DEPLOYMENT = { directAccounts: [DEMO_OTHER_ACCOUNT] } as const;
