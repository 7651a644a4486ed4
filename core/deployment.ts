/**
 * Facts about a deployment that both sides of it need: the CDK app that deploys the stack
 * (infra/) and the CLI that finds what it deployed (cli/).
 */

/** The stack the repository's CDK app deploys unless context `stackName` says otherwise. */
export const DEFAULT_STACK_NAME = 'EcrBackfill';
