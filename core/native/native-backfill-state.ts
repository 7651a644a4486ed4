/**
 * Pieces the native steps share: the source registry's client, the state's `backfill` field from an
 * API summary, and the per-image results of a terminal backfill written to the run bucket (never
 * into the state: a backfill has one result per image and tag).
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { NativeBackfillState, NativeDestinationEvent } from '../contracts/contracts.ts';
import type { StepDeps } from '../deps.ts';
import { toStepError } from '../errors/errors.ts';
import { backfillResults, type BackfillSummary } from './native-backfill-api.ts';
import { nativeKeys } from './native-run-files.ts';
import { withJsonLinesWriter } from '../run-files/run-store.ts';

export function sourceClient(deps: Pick<StepDeps, 'ecr'>, event: NativeDestinationEvent): ECRClient {
  return deps.ecr({ region: event.sourceRegion, registryId: event.sourceRegistryId });
}

export function backfillField(
  summary: BackfillSummary,
  adopted: boolean,
): NonNullable<NativeBackfillState['backfill']> {
  return {
    id: summary.id,
    adopted,
    status: summary.status,
    ...(summary.failureCode !== undefined && { failureCode: summary.failureCode }),
    ...(summary.prepared && { progress: summary.progress }),
  };
}

/** The destination part of a step event (drops what a previous step added). */
export function destinationEvent(state: NativeDestinationEvent): NativeDestinationEvent {
  return {
    runId: state.runId,
    bucket: state.bucket,
    runPrefix: state.runPrefix,
    sourceRegion: state.sourceRegion,
    sourceRegistryId: state.sourceRegistryId,
    replicationTimeoutMinutes: state.replicationTimeoutMinutes,
    destination: state.destination,
  };
}

/** One line of `native/results/<destination>.jsonl`: DescribeReplicationBackfillResults' result, flattened. */
export interface NativeResultLine {
  repositoryName: string;
  imageDigest: string;
  imageTag?: string;
  status: string;
  failureCode?: string;
  subImageFailureCodes?: string[];
}

/**
 * Pages through every result of a terminal backfill (1000 per call) into the run bucket. Rewrites
 * the same key on a retry, so it is idempotent.
 */
export async function collectResults(
  deps: Pick<StepDeps, 'ecr' | 'runStore'>,
  state: NativeDestinationEvent,
  backfillId: string,
): Promise<NonNullable<NativeBackfillState['results']>> {
  const key = nativeKeys(state.runPrefix).results(state.destination);
  const client = sourceClient(deps, state);
  let failed = 0;
  try {
    const { count } = await withJsonLinesWriter(deps.runStore, state.bucket, key, async (writer) => {
      for await (const page of backfillResults(client, state.sourceRegistryId, backfillId)) {
        for (const result of page) {
          const line: NativeResultLine = {
            repositoryName: result.repositoryName ?? '',
            imageDigest: result.imageId?.imageDigest ?? '',
            ...(result.imageId?.imageTag !== undefined && { imageTag: result.imageId.imageTag }),
            status: result.status ?? 'UNKNOWN',
            ...(result.failureCode !== undefined && { failureCode: result.failureCode }),
            ...(result.subImageFailureCodes?.length && { subImageFailureCodes: result.subImageFailureCodes }),
          };
          if (line.status !== 'COMPLETE') failed += 1;
          await writer.write(line);
        }
      }
    });
    return { key, count, failed };
  } catch (error) {
    throw toStepError(error, `ECR DescribeReplicationBackfillResults ${backfillId}`);
  }
}
