/**
 * The CLI's declared permissions (cli/permissions.ts) against the calls it really makes. Every
 * command runs its scenarios with each SDK client it creates recording the commands it sends (a
 * wrapper on the client's `send`, so a paginator's pages, lib-storage's uploads and a mocked
 * client's calls all count), each mapped to the IAM action AWS authorizes it as. A call whose
 * action is not in the command's policy fails the test, and so does a declared action that no
 * scenario calls, unless it is named below with its reason.
 *
 * It complements test/cli/permissions.test.ts, which runs plan and cleanup as an identity holding
 * exactly the policy: that one proves each ECR action is needed, this one that nothing the code
 * calls is missing and nothing declared is dead, for every command, Step Functions and S3 included.
 * Step Functions is scripted (aws-sdk-client-mock), S3 is the local S3, ECR the emulator (with the
 * operator holding exactly the command's policy) or, for the native backfills' progress, a mock.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeReplicationBackfillResultsCommand,
  ECRClient,
  type DescribeReplicationBackfillResultsCommandOutput,
} from '@aws-sdk/client-ecr';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListMapRunsCommand,
  ListStateMachinesCommand,
  ListTagsForResourceCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import {
  CLI_PERMISSION_COMMANDS,
  CLI_PERMISSIONS,
  cliPolicy,
  type CliCommandPermissions,
  type CliPermissionCommand,
} from '../../cli/permissions.ts';
import type { CliContext } from '../../cli/kit/context.ts';
import type { PlannedRun, RunReport, RunReportSummary, WorkItem } from '../../core/contracts/contracts.ts';
import type { EcrClientProvider } from '../../core/deps.ts';
import { destinationRolePolicy } from '../../core/destination-role.ts';
import { createEcrClientProvider } from '../../core/ecr/ecr.ts';
import type { EcrEmulator } from '../../local/ecr-emulator/index.ts';
import { destinationRoleSessions } from '../../local/runner/iam.ts';
import { startLocalS3, type LocalS3 } from '../../local/s3/index.ts';
import { runConfig } from '../support/run-config.ts';
import {
  OREGON,
  OTHER,
  registerOperator,
  ROLE,
  RUN,
  SEOUL,
  SOURCE,
  startPermissionWorld,
} from './permission-world.ts';
import { runCli, type CliRun } from './cli-harness.ts';
import { EXECUTION_ARN, MAP_RUN_ARN, scriptExecution, type Frame } from './sfn-script.ts';

// ---- what an SDK call is authorized as --------------------------------------------------------------

/**
 * S3 operations authorized as another action: listing a bucket needs s3:ListBucket
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html), HeadObject s3:GetObject
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html), and a multipart upload's
 * parts s3:PutObject (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions).
 */
const S3_ACTIONS: Record<string, string> = {
  ListObjectsV2: 's3:ListBucket',
  ListObjects: 's3:ListBucket',
  HeadObject: 's3:GetObject',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
};
/**
 * ECR: ListImageReferrers needs ecr:BatchGetImage ("the IAM principal invoking this operation must
 * have the ecr:BatchGetImage permission",
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ListImageReferrers.html).
 */
const ECR_ACTIONS: Record<string, string> = { ListImageReferrers: 'ecr:BatchGetImage' };

type Sender = { send: (command: object, ...rest: unknown[]) => Promise<unknown> };

/**
 * The actions one scenario's clients were called with: as the operator (the CLI's own identity),
 * and through a destination role (that role's actions, which docs/iam/destination-role.json grants;
 * the operator only needs sts:AssumeRole on it).
 */
class CallRecorder {
  readonly actions = new Set<string>();
  readonly roleActions = new Set<string>();
  private readonly wrapped = new WeakSet<object>();

  /** Records every command `client` sends as `action(operation)`, then sends it. */
  private wrap<C extends object>(
    client: C,
    action: (operation: string) => string,
    through?: { roleArn: string },
  ): C {
    if (this.wrapped.has(client)) return client;
    this.wrapped.add(client);
    const sender = client as unknown as Sender;
    const send = sender.send.bind(client);
    sender.send = (command, ...rest) => {
      const operation = command.constructor.name.replace(/Command$/, '');
      if (through) {
        // The CLI first assumes the role (cli/aws/aws-clients.ts: fromTemporaryCredentials), as itself.
        this.actions.add('sts:AssumeRole');
        this.roleActions.add(action(operation));
      } else this.actions.add(action(operation));
      return send(command, ...rest);
    };
    return client;
  }

  /** The context's client factories, each client recording (defaults: the scenario's own). */
  context(base: Pick<CliContext, 'sfn' | 's3' | 'ecr'>): Pick<CliContext, 'sfn' | 's3' | 'ecr'> {
    return {
      sfn: (aws) => this.wrap(base.sfn(aws), (op) => `states:${op}`),
      s3: (aws) => this.wrap(base.s3(aws), (op) => S3_ACTIONS[op] ?? `s3:${op}`),
      ecr: (aws): EcrClientProvider => {
        const provider = base.ecr(aws);
        return (target) =>
          this.wrap(
            provider(target),
            (op) => ECR_ACTIONS[op] ?? `ecr:${op}`,
            target.roleArn ? { roleArn: target.roleArn } : undefined,
          );
      },
    };
  }
}

// ---- the worlds -------------------------------------------------------------------------------------

const BUCKET = 'run-bucket';
const RUN_ID = 'backfill-20260501-120000-abcdef12';
const PREFIX = `runs/${RUN_ID}`;
const STATE_MACHINE_ARN = 'arn:aws:states:ap-south-1:111122223333:stateMachine:BackfillStateMachineE1C2-AbCd';
/** What watch and report need of FinalizePlan's output: where the run's files are. */
const SEOUL_DESTINATION = { region: SEOUL, registryId: '111122223333' };
const ITEM: WorkItem = {
  repositoryName: 'team/api',
  imageDigest: `sha256:${'a'.repeat(64)}`,
  imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
  tags: ['v1'],
  destinations: [{ ...SEOUL_DESTINATION, tags: ['v1'], digestPresent: false }],
};
const PLANNED_RUN: PlannedRun = {
  runId: RUN_ID,
  bucket: BUCKET,
  runPrefix: PREFIX,
  config: runConfig({
    sourceRegistryId: '111122223333',
    destinations: [SEOUL_DESTINATION],
    method: 'repush',
  }),
  slices: { key: `${PREFIX}/slices.jsonl`, count: 1 },
  notCoveredRepositories: 0,
  items: { key: `${PREFIX}/items.jsonl`, count: 1 },
  plan: {
    items: 1,
    tags: 1,
    counts: { MISSING: 1 },
    putImageCalls: { [SOURCE]: 1, [SEOUL]: 1 },
    quotaBoundSeconds: 1,
    estimatedCostUsd: 0.01,
    engine: { method: 'repush', reason: 'method repush requested' },
  },
};
const REPORT_SUMMARY: RunReportSummary = {
  runId: RUN_ID,
  status: 'SUCCEEDED',
  counts: { BACKFILLED: 1 },
  failedItems: 0,
  reportJson: { bucket: BUCKET, key: `${PREFIX}/report.json` },
  reportCsv: { bucket: BUCKET, key: `${PREFIX}/report.csv` },
};
const REPORT: RunReport = {
  runId: RUN_ID,
  generatedAt: '2026-05-01T12:30:00.000Z',
  rows: [],
  summary: { ...REPORT_SUMMARY, rows: 0, items: 1, plan: PLANNED_RUN.plan },
};

let s3: LocalS3;
let sfn: AwsClientStub<SFNClient> | undefined;
let ecrMock: AwsClientStub<ECRClient> | undefined;
let emulator: EcrEmulator | undefined;

beforeAll(async () => {
  s3 = await startLocalS3({ buckets: [BUCKET] });
  const put = (key: string, body: unknown) =>
    s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: JSON.stringify(body) }));
  // A native run's backfill record (watch reads it), and a succeeded run's report (report reads it).
  await put(`${PREFIX}/native/backfills/111122223333-ap-northeast-2.json`, {
    source: { region: SOURCE, registryId: '111122223333' },
    destination: { region: SEOUL, registryId: '111122223333' },
    backfillId: 'bf-seoul',
    adopted: false,
  });
  await put(`${PREFIX}/report.json`, REPORT);
  // A failed run's map results, which report builds its report from (and stores).
  const results = `${PREFIX}/results/${MAP_RUN_ARN.split(':').at(-1) ?? ''}`;
  await s3.client.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/items.jsonl`, Body: `${JSON.stringify(ITEM)}\n` }),
  );
  await put(`${results}/FAILED_0.json`, [
    {
      ExecutionArn: `${EXECUTION_ARN}/1`,
      Name: 'batch-1',
      Status: 'FAILED',
      Input: JSON.stringify({ BatchInput: {}, Items: [ITEM] }),
      Error: 'ItemsFailed',
      Cause: 'one item failed',
    },
  ]);
  await put(`${results}/manifest.json`, {
    DestinationBucket: BUCKET,
    MapRunArn: MAP_RUN_ARN,
    ResultFiles: { SUCCEEDED: [], FAILED: [{ Key: `${results}/FAILED_0.json`, Size: 1 }], PENDING: [] },
  });
});
afterAll(async () => {
  await s3.close();
});
afterEach(async () => {
  sfn?.restore();
  sfn = undefined;
  ecrMock?.restore();
  ecrMock = undefined;
  await emulator?.close();
  emulator = undefined;
});

/** ECR clients acting as an operator holding exactly `command`'s policy, registered with the emulator. */
async function operatorEcr(world: EcrEmulator, command: CliPermissionCommand): Promise<CliContext['ecr']> {
  const accessKeyId = await registerOperator(world, cliPolicy(command));
  return (aws) =>
    createEcrClientProvider({
      ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
      maxAttempts: 1,
      credentials: { accessKeyId, secretAccessKey: 'local' },
      credentialsForRole: destinationRoleSessions(world.endpoint, { accessKeyId }),
    });
}

/** Step Functions finds the deployment's state machine by its stack's tag (`--stack-name EcrBackfill`). */
function stackLookup(stub: AwsClientStub<SFNClient>): void {
  stub.on(ListStateMachinesCommand).resolves({
    stateMachines: [
      {
        stateMachineArn: STATE_MACHINE_ARN,
        name: 'BackfillStateMachineE1C2-AbCd',
        type: 'STANDARD',
        creationDate: new Date(),
      },
    ],
  });
  stub
    .on(ListTagsForResourceCommand)
    .resolves({ tags: [{ key: 'aws:cloudformation:stack-name', value: 'EcrBackfill' }] });
}

const ecrOf =
  (client: () => ECRClient): CliContext['ecr'] =>
  () =>
  () =>
    client();
const localS3: CliContext['s3'] = () => s3.client;
/** Clients no scenario may create (its command must not reach that service). */
const none = (service: string) => () => {
  throw new Error(`this scenario's command created a ${service} client`);
};

// ---- the scenarios ----------------------------------------------------------------------------------

interface Scenario {
  /** The command whose declared policy its calls must fit. */
  command: CliPermissionCommand;
  /** Sets the world up; returns the command line and the scenario's own clients. */
  setup(): Promise<{ args: string[]; clients: Pick<CliContext, 'sfn' | 's3' | 'ecr'> }>;
  /** What the run must show (it succeeded, or failed as the scenario means to). */
  expectRun?: (run: CliRun) => void;
}

const succeeds = (run: CliRun) => expect(run.exitCode, run.stdout + run.stderr).toBe(0);

/** An ECR-world command as the operator; Step Functions as `stub` (if any). */
async function ecrScenario(command: CliPermissionCommand, args: string[], stub?: AwsClientStub<SFNClient>) {
  emulator = await startPermissionWorld();
  const world = emulator;
  return {
    args: [...args, '--ecr-endpoint', world.endpoint, '--region', SOURCE],
    clients: {
      ecr: await operatorEcr(world, command),
      sfn: stub ? () => new SFNClient({ region: SOURCE }) : none('Step Functions'),
      s3: none('S3'),
    },
  };
}

/** A watched execution's frames; watch's clients: scripted Step Functions, the local S3, an ECR mock. */
function watchClients(): Pick<CliContext, 'sfn' | 's3' | 'ecr'> {
  ecrMock = mockClient(ECRClient);
  const answer: Partial<DescribeReplicationBackfillResultsCommandOutput> = {
    replicationBackfillId: 'bf-seoul',
    destination: { region: SEOUL, registryId: '111122223333' },
    status: 'IN_PROGRESS',
    progress: {
      totalReplicationCount: 10,
      completedReplicationCount: 4,
      failedReplicationCount: 0,
      failureCodes: [],
    },
    results: [],
  };
  ecrMock.on(DescribeReplicationBackfillResultsCommand).resolves(answer);
  return {
    sfn: () => new SFNClient({ region: SOURCE }),
    s3: localS3,
    ecr: ecrOf(
      () => new ECRClient({ region: SEOUL, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    ),
  };
}

const NATIVE_FRAMES: Frame[] = [
  { status: 'RUNNING', stateName: 'Plan' },
  { status: 'RUNNING', stateName: 'NativeBackfills', nativeBackfills: { running: 1 } },
  { status: 'SUCCEEDED', nativeBackfills: { succeeded: 1 }, output: REPORT_SUMMARY },
];
/** A re-push run with live tag progress and a failed batch, which watch looks into. */
const REPUSH_FRAMES: Frame[] = [
  { status: 'RUNNING', stateName: 'BackfillImages', backfill: { running: 2 } },
  {
    status: 'RUNNING',
    stateName: 'BackfillImages',
    backfill: { running: 1, failed: 1 },
    failedChildren: [{ name: 'batch-2', error: 'ItemsFailed', cause: 'one item failed' }],
  },
  { status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold', cause: 'threshold exceeded' },
];

const SCENARIOS: Record<string, Scenario> = {
  'plan, Oregon through its role, untagged images selected': {
    command: 'plan',
    setup: () =>
      ecrScenario('plan', [
        'plan',
        '--destination',
        SEOUL,
        '--destination',
        `${OTHER}:${OREGON}:${ROLE}`,
        '--include-untagged',
        '--json',
      ]),
    expectRun: succeeds,
  },
  'plan, Oregon through its role': {
    command: 'plan',
    setup: () =>
      ecrScenario('plan', [
        'plan',
        '--destination',
        SEOUL,
        '--destination',
        `${OTHER}:${OREGON}:${ROLE}`,
        '--json',
      ]),
    expectRun: succeeds,
  },
  'cleanup --yes --force': {
    command: 'cleanup',
    setup: () => ecrScenario('cleanup', ['cleanup', '--run', RUN, '--yes', '--force', '--json']),
    expectRun: succeeds,
  },
  'cleanup --yes of a run, the state machine by --stack-name (no --force)': {
    command: 'cleanup',
    setup: () => {
      sfn = mockClient(SFNClient);
      stackLookup(sfn);
      sfn.on(ListExecutionsCommand).resolves({ executions: [] });
      sfn
        .on(DescribeExecutionCommand)
        .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
      return ecrScenario(
        'cleanup',
        ['cleanup', '--run', RUN, '--yes', '--stack-name', 'EcrBackfill', '--json'],
        sfn,
      );
    },
    expectRun: succeeds,
  },
  'start --stack-name --watch': {
    command: 'start',
    setup: () => {
      sfn = scriptExecution(NATIVE_FRAMES, { plannedRun: PLANNED_RUN });
      stackLookup(sfn);
      sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: new Date() });
      return Promise.resolve({
        args: ['start', '--stack-name', 'EcrBackfill', '--region', SOURCE, '--watch'],
        clients: watchClients(),
      });
    },
    expectRun: succeeds,
  },
  'watch, native engine': {
    command: 'watch',
    setup: () => {
      sfn = scriptExecution(NATIVE_FRAMES, { plannedRun: PLANNED_RUN });
      return Promise.resolve({ args: ['watch', EXECUTION_ARN], clients: watchClients() });
    },
    expectRun: succeeds,
  },
  'watch, re-push engine with a failed batch': {
    command: 'watch',
    setup: () => {
      sfn = scriptExecution(REPUSH_FRAMES, { plannedRun: PLANNED_RUN });
      return Promise.resolve({ args: ['watch', EXECUTION_ARN], clients: watchClients() });
    },
    // The run failed: watch exits with its status.
    expectRun: (run) => expect(run.exitCode).not.toBe(0),
  },
  'redrive of a run denied after planning': {
    command: 'redrive',
    setup: () => {
      sfn = mockClient(SFNClient);
      sfn.on(DescribeExecutionCommand).resolves({
        executionArn: EXECUTION_ARN,
        stateMachineArn: STATE_MACHINE_ARN,
        status: 'FAILED',
        error: 'AccessDenied',
        cause: 'not authorized',
        startDate: new Date(),
        input: '{}',
      });
      // It failed in a batch (a grant removed since), not in Plan: a redrive can fix it.
      sfn.on(GetExecutionHistoryCommand).resolves({
        events: [
          {
            id: 9,
            type: 'MapRunFailed',
            timestamp: new Date(),
          },
          {
            id: 8,
            type: 'MapStateEntered',
            timestamp: new Date(),
            stateEnteredEventDetails: { name: 'BackfillImages' },
          },
        ],
      });
      sfn.on(RedriveExecutionCommand).resolves({ redriveDate: new Date() });
      return Promise.resolve({
        args: ['redrive', EXECUTION_ARN],
        clients: { sfn: () => new SFNClient({ region: SOURCE }), s3: none('S3'), ecr: none('ECR') },
      });
    },
    expectRun: succeeds,
  },
  'report of a succeeded run': {
    command: 'report',
    setup: () => {
      sfn = mockClient(SFNClient);
      sfn.on(DescribeExecutionCommand).resolves({
        executionArn: EXECUTION_ARN,
        stateMachineArn: STATE_MACHINE_ARN,
        status: 'SUCCEEDED',
        startDate: new Date(),
        input: '{}',
        output: JSON.stringify(REPORT_SUMMARY),
      });
      return Promise.resolve({
        args: ['report', EXECUTION_ARN],
        clients: { sfn: () => new SFNClient({ region: SOURCE }), s3: localS3, ecr: none('ECR') },
      });
    },
    expectRun: succeeds,
  },
  'report of a failed run (built from the map results and stored)': {
    command: 'report',
    setup: () => {
      sfn = mockClient(SFNClient);
      sfn.on(DescribeExecutionCommand).resolves({
        executionArn: EXECUTION_ARN,
        stateMachineArn: STATE_MACHINE_ARN,
        status: 'FAILED',
        error: 'States.ExceedToleratedFailureThreshold',
        cause: 'threshold exceeded',
        startDate: new Date(),
        input: '{}',
      });
      sfn.on(GetExecutionHistoryCommand).resolves({
        events: [
          {
            id: 12,
            type: 'TaskStateExited',
            timestamp: new Date(),
            stateExitedEventDetails: { name: 'FinalizePlan', output: JSON.stringify(PLANNED_RUN) },
          },
        ],
      });
      sfn.on(ListMapRunsCommand).resolves({
        mapRuns: [
          {
            mapRunArn: MAP_RUN_ARN,
            executionArn: EXECUTION_ARN,
            stateMachineArn: 'x',
            startDate: new Date(),
          },
        ],
      });
      return Promise.resolve({
        args: ['report', EXECUTION_ARN],
        clients: { sfn: () => new SFNClient({ region: SOURCE }), s3: localS3, ecr: none('ECR') },
      });
    },
    expectRun: succeeds,
  },
};

/**
 * Declared actions no scenario here calls, each on a path named with its reason and the test that
 * takes it. Keyed `row: action` (the row of cli/permissions.ts that declares it). None today: the
 * scenarios above take every declared call; a new one only a fault takes goes here, with its test.
 */
const NOT_CALLED_HERE: Record<string, string> = {};

// ---- the checks -------------------------------------------------------------------------------------

const actionsOf = (policy: Record<string, unknown>): Set<string> =>
  new Set((policy.Statement as { Action: string[] }[]).flatMap((s) => s.Action));

/** The rows a command's policy is made of: its own, and its `--watch` command's. */
function rowsOf(command: CliPermissionCommand): CliPermissionCommand[] {
  const row: CliCommandPermissions = CLI_PERMISSIONS[command];
  return [command, ...(row.alsoAs ? rowsOf(row.alsoAs.command) : [])];
}

describe("the CLI's calls against its declared permissions", () => {
  const called = new Map<CliPermissionCommand, Set<string>>();

  it.each(Object.entries(SCENARIOS))('%s: every call is in its declared policy', async (_name, scenario) => {
    // Prepare
    const recorder = new CallRecorder();
    const { args, clients } = await scenario.setup();

    // Act
    const run = await runCli(args, { context: recorder.context(clients) });

    // Assess
    scenario.expectRun?.(run);
    expect(recorder.actions.size).toBeGreaterThan(0);
    const declared = actionsOf(cliPolicy(scenario.command));
    expect([...recorder.actions].filter((action) => !declared.has(action))).toEqual([]);
    // What it calls through a destination role, the documented role allows.
    const roleAllows = actionsOf(destinationRolePolicy());
    expect([...recorder.roleActions].filter((action) => !roleAllows.has(action))).toEqual([]);
    // The operator's ECR calls were decided by the emulator too: none denied.
    if (emulator) expect(emulator.iamDecisions.entries().filter((d) => !d.allowed)).toEqual([]);
    for (const row of rowsOf(scenario.command)) {
      const seen = called.get(row) ?? new Set<string>();
      for (const action of recorder.actions) seen.add(action);
      called.set(row, seen);
    }
  });

  it('leaves no declared action uncalled, but those named with their reason', () => {
    // Act
    const uncalled = CLI_PERMISSION_COMMANDS.flatMap((command) => {
      const row: CliCommandPermissions = CLI_PERMISSIONS[command];
      return row.grants
        .flatMap((grant) => grant.actions)
        .filter((action) => !called.get(command)?.has(action))
        .map((action) => `${command}: ${action}`);
    });

    // Assess
    expect(called.size).toBeGreaterThan(0);
    expect(uncalled.filter((entry) => NOT_CALLED_HERE[entry] === undefined)).toEqual([]);
    // Each exception names an action that is declared and really not called here.
    expect(Object.keys(NOT_CALLED_HERE).filter((entry) => !uncalled.includes(entry))).toEqual([]);
  });
});
