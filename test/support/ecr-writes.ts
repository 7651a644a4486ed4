/**
 * The ECR operations that change a registry, for tests that check a part of the workflow wrote
 * nothing (planning, a dry run, rejected input) or count what it wrote, on the emulator's call log.
 */
import type { CallLogEntry } from '../../local/ecr-emulator/index.ts';

/** ECR operations that change a registry. */
export const ECR_WRITES: ReadonlySet<string> = new Set([
  'PutImage',
  'BatchDeleteImage',
  'CreateRepository',
  'DeleteRepository',
  'InitiateLayerUpload',
  'UploadLayerPart',
  'CompleteLayerUpload',
  'PutReplicationConfiguration',
  'PutImageTagMutability',
  'StartReplicationBackfill',
  'StopReplicationBackfill',
]);

/** The calls among `calls` that changed a registry. */
export const writesIn = (calls: readonly CallLogEntry[]): CallLogEntry[] =>
  calls.filter((call) => ECR_WRITES.has(call.operation));
