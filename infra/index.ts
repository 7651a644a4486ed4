/**
 * The package's entry point (`import { EcrReplicationBackfill } from 'ecr-backfill'`): the
 * construct, its props (and how CDK context sets them), the stack the repository deploys, and the execution input's types and
 * schema (to type or validate an input before starting an execution).
 */
export {
  DEFAULT_CONCURRENT_PUSHERS,
  DEFAULT_PUT_IMAGE_RATE_PER_SECOND,
  EcrReplicationBackfill,
  type EcrReplicationBackfillProps,
  type ManagedReplication,
  type ReplicationRule,
  type StartOnDeploy,
  runPolicyOf,
} from './backfill-construct.ts';
export { BackfillStack, type BackfillStackProps } from './backfill-stack.ts';
export {
  backfillPropsFromContext,
  closestContextKey,
  CONTEXT_KEYS,
  unknownContextKeyProblems,
} from './context.ts';
export { LambdaAssetMissing } from './lambda-assets.ts';
export {
  ExecutionInputSchema,
  executionInputJsonSchema,
  type DestinationRequest,
  type ResolvedInput,
} from '../core/contracts/input-schema.ts';
export type { ExecutionInput } from '../core/contracts/execution-input.ts';
export type { Method, Strategy } from '../core/contracts/contracts.ts';
export type { LambdaStepName } from '../core/steps.ts';
