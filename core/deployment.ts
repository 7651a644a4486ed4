/**
 * Facts about a deployment that more than one layer needs: the CDK app and construct that deploy it
 * (infra/), the steps that run in it (functions/) and the CLI that finds what it deployed (cli/).
 */

/** The stack the repository's CDK app deploys unless context `stackName` says otherwise. */
export const DEFAULT_STACK_NAME = 'EcrBackfill';

/**
 * The steps' service name in their logs and metrics, and their CloudWatch metric namespace. The
 * construct sets both in each function's environment (POWERTOOLS_SERVICE_NAME,
 * POWERTOOLS_METRICS_NAMESPACE); the steps' logger and metrics use them where that is not set.
 */
export const SERVICE_NAME = 'ecr-backfill';
export const METRICS_NAMESPACE = 'EcrBackfill';
