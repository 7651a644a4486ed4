/**
 * `ecr-backfill/core`: the domain, as the offline rig (`local/`, the private `@ecr-backfill/local`
 * workspace) uses it. The rig imports the product only through these entry points (package.json
 * `exports`, condition `ecr-backfill-source`), never by a path into a product folder; the published
 * package resolves none of them (docs/architecture.md §3).
 */
export {
  PlannedRunSchema,
  ReportRowSchema,
  RunReportSchema,
  RunReportSummarySchema,
  type RunReport,
  type RunReportSummary,
  type S3ObjectRef,
} from './contracts/contracts.ts';
export { PRICES_USD } from './contracts/estimate.ts';
export {
  DEFAULT_TEMP_TAG_PREFIX,
  DEFAULTS,
  EXECUTION_INPUT_KEYS,
  executionInputJsonSchema,
} from './contracts/input-schema.ts';
export { compileStarGlob } from './contracts/patterns.ts';
export type { RunPolicy } from './contracts/run-policy.ts';
export { DEFAULT_STACK_NAME } from './deployment.ts';
export {
  systemClock,
  type Clock,
  type EcrClientProvider,
  type StepDeps,
  type StepEnvironment,
} from './deps.ts';
export { createEcrClientProvider, SDK_MAX_ATTEMPTS, type EcrClientProviderOptions } from './ecr/ecr.ts';
export { describeRegistryWithDeleteReplication } from './ecr/delete-replication.ts';
export {
  parsePolicyStatements,
  policyAllows,
  replicationPermission,
  repositoryArn,
  type PolicyStatement,
} from './ecr/registry-policy.ts';
export { isTempTag, tempTagFor } from './ecr/temp-tags.ts';
export { redriveVerdict, renderTroubleshootingTable } from './errors/error-catalog.ts';
export { ERROR_NAMES } from './errors/error-names.ts';
export { silentLogger } from './logger.ts';
export { silentMetrics } from './metrics.ts';
export { isLambdaStepName, STATE_NAMES, stepOf, type LambdaStepName } from './steps.ts';
export { ECR_DEFAULT_PUT_IMAGE_PER_SECOND } from './quotas.ts';
export { runIdFromExecutionName, runPrefixFor } from './run-files/run-layout.ts';
export { getJson, getText, type RunStore } from './run-files/run-store.ts';
export { S3RunStore } from './run-files/s3-run-store.ts';
export { destinationRolePolicy } from './destination-role.ts';
