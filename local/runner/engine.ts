/** What every execution of one local state machine shares: handlers, rewritten states, S3, clock, counters. */
import type { S3Client } from '@aws-sdk/client-s3';
import type { ArnContext } from './arns.ts';
import type { AslDefinition, AslState, Json } from './asl.ts';
import type { DistributedMapSpec } from './distributed-map/spec.ts';
import type { ExecutionDescription, LocalExecution } from './execution.ts';
import type { LocalTaskHandler } from './lambda/lambda-task.ts';
import type { RunMetrics } from './metrics.ts';
import type { ServiceRoleAuthorizer } from './state-machine-role.ts';
import type { ProgressListener } from './progress.ts';

export interface ExecutionSpec {
  name: string;
  arn: string;
  stateMachineArn: string;
  /** Name used to build ARNs of nested Map Runs (`<parent>/<label>` for children). */
  stateMachineName: string;
  definition: AslDefinition;
  input: Json;
  type: 'STANDARD' | 'EXPRESS';
  /** The execution a user started (not a Map Run child): its states are reported as progress. */
  root: boolean;
}

export interface Engine {
  arnContext: ArnContext;
  /** Local handlers of the definition's own Tasks (Lambda and others), by state name. */
  handlers: Record<string, LocalTaskHandler>;
  distributedMaps: Record<string, DistributedMapSpec>;
  waits: Record<string, AslState>;
  s3: S3Client;
  /** Multiplies every Wait and retry interval (1 = real time). */
  timeScale: number;
  resultWriterMaxFileBytes: number;
  metrics: RunMetrics;
  emit: ProgressListener;
  createExecution(spec: ExecutionSpec): LocalExecution;
  /** Decides a call Step Functions makes as the state machine's role (absent: allowed). */
  authorize?: ServiceRoleAuthorizer;
  /** Called when a user's execution ends (any terminal status), before start/redrive/stop resolve. */
  executionEnded?: (execution: ExecutionDescription) => Promise<void>;
}
