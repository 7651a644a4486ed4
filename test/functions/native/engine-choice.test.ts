/** The engine choice (method repush/native/auto): every reason, with ECR's answers mocked. */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ECRClient,
  ECRServiceException,
  ListReplicationBackfillsCommand,
  type ReplicationBackfillSummary,
} from '@aws-sdk/client-ecr';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import type { RunConfig } from '../../../core/contracts/contracts.ts';
import {
  backfillBlockers,
  chooseEngine,
  selectionFilters,
} from '../../../functions/native-engine/native-engine-choice.ts';
import type { BackfillSummary } from '../../../core/native/native-backfill-api.ts';
import { runConfig } from '../../support/run-config.ts';

const SOURCE = '111111111111';
const OTHER = '222222222222';
const SEOUL = 'ap-northeast-2';
const IRELAND = 'eu-west-1';

function config(overrides: Partial<RunConfig> = {}): RunConfig {
  return runConfig({
    sourceRegistryId: SOURCE,
    destinations: [{ region: SEOUL, registryId: SOURCE }],
    ...overrides,
  });
}

const summary = (
  id: string,
  status: ReplicationBackfillSummary['status'],
  region: string,
  registryId: string,
): ReplicationBackfillSummary => ({
  replicationBackfillId: id,
  status,
  destination: { region, registryId },
  startedAt: new Date(0),
});

const serviceError = (name: string, status = 400) =>
  new ECRServiceException({
    name,
    $fault: 'client',
    message: `${name} says no`,
    $metadata: { httpStatusCode: status },
  });

let stub: AwsClientStub<ECRClient> | undefined;
afterEach(() => {
  stub?.restore();
  stub = undefined;
});

function ecrAnswering(backfills: ReplicationBackfillSummary[] | Error) {
  stub = mockClient(ECRClient);
  if (backfills instanceof Error) stub.on(ListReplicationBackfillsCommand).rejects(backfills);
  else stub.on(ListReplicationBackfillsCommand).resolves({ backfills });
  const client = new ECRClient({ region: 'ap-south-1' });
  return () => client;
}

describe('chooseEngine', () => {
  it('runs the re-push engine when asked, without asking ECR anything', async () => {
    const ecr = ecrAnswering([]);

    const choice = await chooseEngine({ config: config({ method: 'repush' }), counts: {}, ecr });

    expect(choice).toEqual({ method: 'repush', reason: 'method repush requested' });
    expect(stub?.calls()).toHaveLength(0);
  });

  it('auto: picks native for the whole replication scope when the API answers and nothing else is active', async () => {
    const ecr = ecrAnswering([summary('old', 'COMPLETE', SEOUL, OTHER)]);

    const choice = await chooseEngine({ config: config(), counts: { MISSING: 3 }, ecr });

    expect(choice.method).toBe('native');
    expect(choice.reason).toBe(
      'method auto: the selection is the whole replication scope, ListReplicationBackfills answers, and no other backfill is active in ap-northeast-2',
    );
  });

  it('auto: re-pushes where the run policy bars native (reach beyond the scope), without asking ECR; native is refused', async () => {
    const ecr = ecrAnswering([]);
    const nativeBarred = ['a native backfill (StartReplicationBackfill) copies every repository … rule 0'];

    const choice = await chooseEngine({ config: config(), counts: { MISSING: 3 }, ecr, nativeBarred });

    expect(choice).toEqual({ method: 'repush', reason: `method auto: ${nativeBarred[0]}` });
    await expect(
      chooseEngine({ config: config({ method: 'native' }), counts: {}, ecr, nativeBarred }),
    ).rejects.toMatchObject({ name: 'InvalidInput' });
    expect(stub?.calls()).toHaveLength(0);
  });

  it('auto: picks re-push when referrers are missing (a native backfill is not documented to copy them)', async () => {
    const ecr = ecrAnswering([]);

    const choice = await chooseEngine({
      config: config(),
      counts: { MISSING: 3, REFERRERS_MISSING: 2 },
      ecr,
    });

    expect(choice.method).toBe('repush');
    expect(choice.reason).toContain('2 referrer copies');
    expect(stub?.calls()).toHaveLength(0);
  });

  it('auto: picks re-push for a narrower selection, naming every filter', async () => {
    const ecr = ecrAnswering([]);

    const choice = await chooseEngine({
      config: config({
        repositories: ['shop/'],
        pushedAfter: '2024-01-01T00:00:00.000Z',
        includeUntagged: true,
      }),
      counts: {},
      ecr,
    });

    expect(choice.method).toBe('repush');
    expect(choice.reason).toContain(
      'narrower than the replication scope (repositories, pushedAfter, includeUntagged)',
    );
    expect(stub?.calls()).toHaveLength(0);
  });

  it.each([['UnknownOperationException'], ['AccessDeniedException'], ['ValidationException']])(
    'auto and native: pick re-push when ListReplicationBackfills answers %s',
    async (name) => {
      const ecr = ecrAnswering(serviceError(name));

      const auto = await chooseEngine({ config: config(), counts: {}, ecr });
      const native = await chooseEngine({ config: config({ method: 'native' }), counts: {}, ecr });

      for (const choice of [auto, native]) {
        expect(choice.method).toBe('repush');
        expect(choice.reason).toContain(
          `the native backfill API is not available: ListReplicationBackfills failed with ${name}`,
        );
      }
    },
  );

  it('lets throttling fail the step (retried by the state machine) instead of deciding on it', async () => {
    const ecr = ecrAnswering(serviceError('ThrottlingException'));

    const error = await chooseEngine({ config: config(), counts: {}, ecr }).catch((e: unknown) => e);

    expect((error as Error).name).toBe('Throttled');
  });

  it('auto: picks re-push while a backfill for another destination holds the Region', async () => {
    const ecr = ecrAnswering([summary('theirs', 'IN_PROGRESS', SEOUL, OTHER)]);

    const choice = await chooseEngine({ config: config(), counts: {}, ecr });

    expect(choice.method).toBe('repush');
    expect(choice.reason).toBe(
      `method auto: a native backfill would have to queue: backfill theirs (IN_PROGRESS) for ${OTHER}/${SEOUL} holds the destination Region ${SEOUL}`,
    );
  });

  it('auto: an active backfill for the same destination does not block (the native path adopts it)', async () => {
    const ecr = ecrAnswering([summary('same', 'PREPARING', SEOUL, SOURCE)]);

    const choice = await chooseEngine({ config: config(), counts: {}, ecr });

    expect(choice.method).toBe('native');
  });

  it('native: runs natively even behind another backfill (it queues), and says when it copies beyond the selection', async () => {
    const ecr = ecrAnswering([summary('theirs', 'IN_PROGRESS', SEOUL, OTHER)]);

    const choice = await chooseEngine({
      config: config({ method: 'native', tags: ['v*'] }),
      counts: {},
      ecr,
    });

    expect(choice.method).toBe('native');
    expect(choice.reason).toContain('beyond this selection (tags)');
  });

  it.each(['auto', 'native'] as const)(
    '%s: never lets replication overwrite destination tags the plan found at another digest',
    async (method) => {
      const ecr = ecrAnswering([]);

      const conflicts = await chooseEngine({
        config: config({ method }),
        counts: { CONFLICT: 2, MISSING: 5 },
        ecr,
      });
      const allowed = await chooseEngine({
        config: config({ method, overwriteConflicts: true }),
        counts: { DIVERGED: 2, MISSING: 5 },
        ecr,
      });

      expect(conflicts.method).toBe('repush');
      expect(conflicts.reason).toBe(
        `method ${method}: 2 destination tag(s) point to another digest; replication would overwrite them, so the re-push engine runs and reports them as CONFLICT (set overwriteConflicts to let them move)`,
      );
      expect(allowed.method).toBe('native');
    },
  );
});

describe('the rules behind the choice', () => {
  it('counts the default input as the whole scope', () => {
    expect(selectionFilters(config())).toEqual([]);
    expect(
      selectionFilters(config({ excludeTags: ['dev-*'], latestPerRepository: 3, includeArchived: true })),
    ).toEqual(['excludeTags', 'latestPerRepository', 'includeArchived']);
  });

  it('sees the registry limit of 10 active backfills', () => {
    const active: BackfillSummary[] = Array.from({ length: 10 }, (_, i) => ({
      id: `b${i}`,
      destination: { region: `us-west-${i}`, registryId: OTHER },
      status: 'IN_PROGRESS',
      progress: { total: 0, completed: 0, failed: 0, failureCodes: [] },
      prepared: true,
    }));

    const blockers = backfillBlockers(
      config({ destinations: [{ region: IRELAND, registryId: SOURCE }] }),
      active,
    );

    expect(blockers).toEqual([
      "10 backfills are active in the registry; 1 more would exceed ECR's limit of 10",
    ]);
  });
});
