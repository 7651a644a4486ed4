/**
 * Least privilege, from what the code calls: the workflow's scenarios run with IAM enforced (every
 * function as its role from the synthesized template, a destination reached through the README's
 * documented role), the emulator records each decision (ecr-emulator/iam/decisions.ts), and every
 * ECR and STS grant of every function role, and every action of the documented destination role,
 * must have been used by some scenario. A grant only a fault takes is named below with its reason.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege
 *
 * The same holds for the run bucket: every S3 grant of every function role (decided by the local S3,
 * local/s3/iam.ts), and for the state machine's role, every grant of what Step Functions itself does
 * with it: invoking each function, starting, following and redriving the Distributed Maps' children,
 * and its ItemReader's and ResultWriter's S3 calls (local/runner/state-machine-role.ts).
 *
 * Scope: the ECR, STS, S3, Lambda and Step Functions actions, which the local world enforces; the
 * CloudWatch Logs and X-Ray grants (log groups, log delivery, tracing) are not decided locally.
 */
import { describe, expect, it } from 'vitest';
import { destinationRolePolicy } from '../../core/destination-role.ts';
import {
  buildDemoRegistry,
  DEMO_DESTINATION_ROLE_NAME,
  DEMO_SOURCE_ACCOUNT,
  DEMO_SOURCE_REGION,
} from '../../local/demo-registry.ts';
import {
  ARTIFACT_TYPES,
  buildDockerImage,
  buildReferrer,
  type IamDecisionEntry,
} from '../../local/ecr-emulator/index.ts';
import { principalsFromTemplate, roleOfStateMachine } from '../../local/iam/template-principals.ts';
import type { RoleDecisionEntry } from '../../local/runner/state-machine-role.ts';
import type { S3DecisionEntry } from '../../local/s3/iam.ts';
import { ALL_STRATEGIES_ALLOWED, DEMO_OTHER_ACCOUNT, LOCAL_DEPLOYMENT } from '../../local/runner/defaults.ts';
import { synthesizeBackfillStack } from '../../local/synth/synth.ts';
import { TokenResolver } from '../../local/synth/template-tokens.ts';
import { runOnDemoWorld, startWorld } from './helpers.ts';

const DEMO_ROLE = `arn:aws:iam::${DEMO_OTHER_ACCOUNT}:role/${DEMO_DESTINATION_ROLE_NAME}`;
/** Every strategy allowed, Ireland reachable directly and through the documented role. */
const TEMPLATE = synthesizeBackfillStack({
  backfill: { ...LOCAL_DEPLOYMENT, ...ALL_STRATEGIES_ALLOWED, destinationRoleArns: [DEMO_ROLE] },
});
/**
 * The same deployment without direct access to Ireland: a destination there that a run does not
 * select, but its pushes reach, is called through the documented role (functions/plan/reached-destinations.ts).
 * Its roles have TEMPLATE's logical ids, and TEMPLATE's grants less Ireland's repositories, so
 * what they use counts against TEMPLATE's grants.
 */
const ROLE_ONLY_TEMPLATE = synthesizeBackfillStack({
  backfill: { ...ALL_STRATEGIES_ALLOWED, destinationRoleArns: [DEMO_ROLE] },
});
const IRELAND = { account: DEMO_OTHER_ACCOUNT, region: 'eu-west-1' };
const SEOUL = { account: DEMO_SOURCE_ACCOUNT, region: 'ap-northeast-2' };
const THROUGH_ROLE = [{ region: 'ap-northeast-2' }, { region: IRELAND.region, roleArn: DEMO_ROLE }];

interface Scenario {
  input: Record<string, unknown>;
  /** shop/api's `stable` in Seoul and `v1.4.0` in Ireland already point to another image (conflicts to overwrite). */
  conflicts?: boolean;
  /**
   * The emulator's replication latency (default 20 ms). A native backfill advances one tick per
   * latency, so a long one keeps it running past NativeCheckBackfill's first look (its wait, scaled,
   * is milliseconds), which then reads and writes the backfill's progress record.
   */
  replicationLatencyMs?: number;
  /** shop/api holds a signed image (its signature an untagged referrer), for the referrer copy. */
  signed?: boolean;
  /** The deployment it runs on (default TEMPLATE). */
  template?: typeof TEMPLATE;
}

/** The workflow's scenarios: every engine and strategy, direct and through the role, an overwrite. */
const SCENARIOS: Record<string, Scenario> = {
  'promote (re-push engine)': { input: { method: 'repush', batchSize: 3 } },
  'promote with untagged images (index children read in Plan)': {
    input: { method: 'repush', includeUntagged: true },
  },
  'promote through the destination role, overwriting a conflict, copying a signature': {
    input: { method: 'repush', overwriteConflicts: true, destinations: THROUGH_ROLE },
    conflicts: true,
    signed: true,
  },
  'retag-source': { input: { method: 'repush', strategy: 'retag-source' } },
  'retag-source through the destination role, overwriting a conflict': {
    input: {
      method: 'repush',
      strategy: 'retag-source',
      overwriteConflicts: true,
      destinations: THROUGH_ROLE,
    },
    conflicts: true,
  },
  // Ireland is a destination of shop/'s rule: the push replicates there too (an extra destination).
  'promote selecting Seoul only': { input: { method: 'repush', destinations: [{ region: SEOUL.region }] } },
  // Ireland unselected and not reached directly: the batch steps meet it through the documented role.
  'retag-source selecting Seoul only, Ireland reached through the deployment role': {
    input: { method: 'repush', strategy: 'retag-source', destinations: [{ region: SEOUL.region }] },
    template: ROLE_ONLY_TEMPLATE,
  },
  // NativeVerify copies the signature the native backfill left out (its layer grants).
  'the native engine, copying a signature': { input: { method: 'native' }, signed: true },
  'the native engine, still running at the first check': {
    input: { method: 'native' },
    replicationLatencyMs: 3000,
  },
  'the native engine, Ireland through the destination role, copying a signature': {
    input: { method: 'native', destinations: THROUGH_ROLE },
    signed: true,
  },
};

/** shop/api's signed image and its signature (the `signed` scenarios). */
const SIGNED = buildDockerImage('least-privilege/signed');
const SIGNATURE = buildReferrer('least-privilege/signed/sig', SIGNED, ARTIFACT_TYPES.notationSignature);

const DESTINATION_ROLE = 'documented destination role';

/** Where a grant applies: the source's repositories, the destinations', or anywhere (`*`, roles). */
type Side = 'source' | 'destination' | 'any';

/**
 * Grants no scenario above takes, each on a path only a fault, a race or an operator takes, with
 * where a test takes it. `who` is the step (its function's role) or DESTINATION_ROLE.
 */
const NOT_TAKEN_HERE: readonly { who: string; grant: string; reason: string }[] = [
  ...[
    'ecr:BatchGetImage source',
    'ecr:DescribeImages source',
    'ecr:DescribeImageReplicationStatus source',
    'ecr:BatchGetImage destination',
    'ecr:DescribeImages destination',
    'ecr:DescribeRepositories destination',
    'ecr:PutImage source',
    'ecr:BatchDeleteImage source',
    'ecr:PutImage destination',
    'ecr:BatchDeleteImage destination',
    'sts:AssumeRole any',
    // Its second look copies a referrer PromoteTags could not (test/workflow/referrers.test.ts).
    'ecr:GetDownloadUrlForLayer source',
    'ecr:BatchCheckLayerAvailability destination',
    'ecr:InitiateLayerUpload destination',
    'ecr:UploadLayerPart destination',
    'ecr:CompleteLayerUpload destination',
  ].map((grant) => ({
    who: 'FinishBatch',
    grant,
    reason:
      'its second look re-runs the batch steps inline only for items a fault left failed (test/functions/steps/replication-and-retries.test.ts)',
  })),
  {
    who: 'PromoteTags',
    grant: 'ecr:DescribeImages destination',
    reason:
      "undoing a put whose source tag its owner deleted meanwhile, a race (owners' deletes win: test/functions/steps/owner-deletes.test.ts)",
  },
  {
    who: 'PromoteTags',
    grant: 'ecr:BatchDeleteImage destination',
    reason:
      "undoing a put whose source tag its owner deleted meanwhile, a race (owners' deletes win: test/functions/steps/owner-deletes.test.ts)",
  },
  {
    who: 'RetagSourceTags',
    grant: 'ecr:DescribeImages source',
    reason:
      "telling an image its owner deleted inside a tag's retag gap, re-created by our re-put, a race (owners' deletes win: test/functions/steps/owner-deletes.test.ts)",
  },
  {
    who: 'VerifyDigests',
    grant: 'ecr:BatchGetImage source',
    reason:
      'reads the source only for a tag that does not verify (moved during the run), a race (test/functions/steps/outcomes.test.ts)',
  },
  {
    who: 'NativeVerify',
    grant: 'ecr:BatchDeleteImage destination',
    reason:
      "removing a tag a native backfill copied after its owner deleted it in the source, a race (owners' deletes win: test/functions/native/native-verify.test.ts, test/workflow/owner-deletes.test.ts)",
  },
  {
    who: 'NativeStartBackfill',
    grant: 'ecr:DescribeReplicationBackfillResults any',
    reason:
      'adopting a backfill an earlier attempt started (a retry after a timeout: test/functions/native/backfill-steps.test.ts)',
  },
  ...['ecr:DescribeReplicationBackfillResults any', 'ecr:StopReplicationBackfill any'].map((grant) => ({
    who: 'NativeStopBackfill',
    grant,
    reason: 'runs only when an execution stops, fails or stalls (test/workflow/native-stop.test.ts)',
  })),
];

const SOURCE_SIDES: Record<string, Side> = {
  ReadSourceRepositories: 'source',
  WriteSourceRepositories: 'source',
  ReadDestinationRepositories: 'destination',
  WriteDestinationRepositories: 'destination',
  DownloadSourceLayers: 'source',
};

/** Each function role's ECR and STS grants as `action side` (the statement's Sid says the side), by step. */
function grantsByStep(): Map<string, Set<string>> {
  const resolver = new TokenResolver(TEMPLATE, { account: DEMO_SOURCE_ACCOUNT, region: DEMO_SOURCE_REGION });
  const principals = principalsFromTemplate(TEMPLATE, resolver, DEMO_SOURCE_ACCOUNT);
  const grants = new Map<string, Set<string>>();
  for (const principal of principals.values()) {
    const step = /^BackfillFunctions([A-Za-z]+)Role[0-9A-F]+$/.exec(principal.roleLogicalId)?.[1];
    if (!step) continue;
    const statements = principal.identityPolicies.flatMap((p) => statementsOf(p.policy));
    grants.set(
      step,
      new Set(
        statements.flatMap((s) => s.actions.map((action) => `${action} ${SOURCE_SIDES[s.sid] ?? 'any'}`)),
      ),
    );
  }
  return grants;
}

function statementsOf(policy: Record<string, unknown>): { sid: string; actions: string[] }[] {
  const statements = [policy.Statement].flat() as {
    Sid?: string;
    Effect?: string;
    Action?: string | string[];
  }[];
  return statements
    .filter((s) => s.Effect === 'Allow')
    .map((s) => ({
      sid: s.Sid ?? '',
      actions: [s.Action ?? []].flat().filter((a) => a.startsWith('ecr:') || a.startsWith('sts:')),
    }));
}

/** The side of a decided resource: a repository of the source registry, of another, or `*`/a role. */
function sideOf(resource: string): Side {
  const arn = /^arn:aws:ecr:([^:]+):(\d{12}):repository\//.exec(resource);
  if (!arn) return 'any';
  return arn[1] === DEMO_SOURCE_REGION && arn[2] === DEMO_SOURCE_ACCOUNT ? 'source' : 'destination';
}

/** The state machine's role, as `who` in the grants below. */
const STATE_MACHINE = 'StateMachine';

/**
 * Grants of the run bucket and of the state machine's role that no scenario above takes, each with
 * where it is taken instead. `grant` is `<action> <what>` as `runDataAndMachineGrants` names it.
 */
const NOT_TAKEN_HERE_S3_AND_MACHINE: readonly { who: string; grant: string; reason: string }[] = [
  ...['s3:ListMultipartUploadParts runs/*', 's3:AbortMultipartUpload runs/*'].map((grant) => ({
    who: STATE_MACHINE,
    grant,
    reason:
      "the ResultWriter's multipart upload of a large result file (CDK's ResultWriter policy); the local ResultWriter writes each file with one PutObject",
  })),
  {
    who: STATE_MACHINE,
    grant: 'states:StopExecution execution',
    reason:
      'stopping Map Run children when the execution is stopped (local/test/runner/stop.test.ts, test/workflow/native-stop.test.ts)',
  },
  {
    who: STATE_MACHINE,
    grant: 'states:RedriveExecution PlanSlices,BackfillImages,NativeBackfills',
    reason: 'redriving a failed Map Run (test/workflow/state-machine-role.test.ts redrives BackfillImages)',
  },
  {
    who: STATE_MACHINE,
    grant: 'lambda:InvokeFunction NativeStopBackfill',
    reason: 'runs only when a native run fails or stalls (test/workflow/native-stop.test.ts)',
  },
  ...['Plan', 'PlanSlice', 'FinalizePlan', 'NativeVerify'].map((who) => ({
    who,
    grant: 's3:AbortMultipartUpload runs/*',
    reason:
      "giving up a streamed file after an error while writing it (RunFileSink.abort); the local world's files fit one part, so no multipart upload is made",
  })),
  ...['PushTempTags', 'PromoteTags'].map((who) => ({
    who,
    grant: 's3:PutObject runs/*/continuations/*',
    reason:
      'saving its continuation when its time budget runs out before its work does (test/reliability/time-budget.test.ts)',
  })),
  ...['s3:GetObject runs/*', 's3:PutObject runs/*', 's3:ListBucket bucket'].map((grant) => ({
    who: 'NativeStopBackfill',
    grant,
    reason: 'runs only when a native run is stopped, fails or stalls (test/workflow/native-stop.test.ts)',
  })),
];

/** Where a statement applies, as a short stable name: a function's step, a Map's label, a key pattern. */
function whatOf(resources: string[]): string {
  return [...new Set(resources.map(whatOfOne))].join(',');
}

function whatOfOne(first: string): string {
  const step = /:function:[^:]*Functions([A-Za-z]+)Function/.exec(first)?.[1];
  if (step) return step;
  const map = /:execution:[^:]+\/([A-Za-z]+):\*$/.exec(first)?.[1];
  if (map) return map;
  if (/:execution:[^:/]+:\*$/.test(first)) return 'execution';
  if (/:stateMachine:/.test(first)) return 'stateMachine';
  const key = /^arn:aws:s3:::[^/]+\/(.*)$/.exec(first)?.[1];
  if (key !== undefined) return key;
  return /^arn:aws:s3:::/.test(first) ? 'bucket' : first;
}

interface Grant {
  who: string;
  /** `<action> <what>` (whatOf). */
  grant: string;
  action: string;
  resources: string[];
}

/**
 * The grants the local S3 and the runner decide: each function role's S3 statements, and the state
 * machine role's Lambda, Step Functions and S3 statements, by statement (resources resolved).
 */
function runDataAndMachineGrants(): Grant[] {
  const resolver = new TokenResolver(TEMPLATE, { account: DEMO_SOURCE_ACCOUNT, region: DEMO_SOURCE_REGION });
  const machineRole = roleOfStateMachine(TEMPLATE);
  const grants: Grant[] = [];
  for (const principal of principalsFromTemplate(TEMPLATE, resolver, DEMO_SOURCE_ACCOUNT).values()) {
    const step = /^BackfillFunctions([A-Za-z]+)Role[0-9A-F]+$/.exec(principal.roleLogicalId)?.[1];
    const who = principal.roleLogicalId === machineRole ? STATE_MACHINE : step;
    if (!who) continue;
    const services = who === STATE_MACHINE ? ['s3:', 'lambda:', 'states:'] : ['s3:'];
    for (const policy of principal.identityPolicies) {
      for (const statement of [policy.policy.Statement].flat() as {
        Effect?: string;
        Action?: string | string[];
        Resource?: string | string[];
      }[]) {
        if (statement.Effect !== 'Allow') continue;
        const resources = [statement.Resource ?? []].flat();
        for (const action of [statement.Action ?? []].flat()) {
          if (services.some((service) => action.startsWith(service)))
            grants.push({ who, grant: `${action} ${whatOf(resources)}`, action, resources });
        }
      }
    }
  }
  return grants;
}

/** IAM's Resource matching: `*` and `?` are wildcards, anything else is itself. */
function resourceMatches(pattern: string, resource: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(resource);
}

describe('least privilege: every grant is used by the workflow', () => {
  const decisions: IamDecisionEntry[] = [];
  const s3Decisions: S3DecisionEntry[] = [];
  const machineDecisions: RoleDecisionEntry[] = [];

  it.each(Object.entries(SCENARIOS))('%s runs with every call allowed', async (_name, scenario) => {
    // Prepare
    const world = await startWorld(buildDemoRegistry(), {
      replicationLatencyMs: scenario.replicationLatencyMs ?? 20,
    });
    if (scenario.conflicts) {
      const other = buildDockerImage('least-privilege/conflict');
      world.emulator.seedImage({ ...SEOUL, repository: 'shop/api' }, other, { tags: ['stable'] });
      world.emulator.seedImage({ ...IRELAND, repository: 'shop/api' }, other, { tags: ['v1.4.0'] });
    }
    if (scenario.signed) {
      const source = { account: DEMO_SOURCE_ACCOUNT, region: DEMO_SOURCE_REGION, repository: 'shop/api' };
      world.emulator.seedImage(source, SIGNED, { tags: ['signed'] });
      world.emulator.seedImage(source, SIGNATURE, { tags: [] });
    }
    try {
      // Act
      const result = await runOnDemoWorld(world, {
        template: scenario.template ?? TEMPLATE,
        input: scenario.input,
      });

      // Assess
      expect(result.status, result.cause).toBe('SUCCEEDED');
      const entries = world.emulator.iamDecisions.entries();
      expect(entries.filter((d) => !d.allowed)).toEqual([]);
      const s3Entries = world.s3.iam.decisions.entries();
      expect(s3Entries.filter((d) => !d.allowed)).toEqual([]);
      expect(result.stateMachineRoleDecisions.filter((d) => !d.allowed)).toEqual([]);
      if (scenario.conflicts) expect(result.report?.summary.counts.OVERWRITTEN ?? 0).toBeGreaterThan(0);
      // The scenario's signature reached both destinations as a copy (the engines' referrer copiers ran).
      if (scenario.signed) {
        const copies = (result.report?.rows ?? []).filter(
          (row) => row.imageDigest === SIGNATURE.digest && row.outcome === 'BACKFILLED',
        );
        expect(copies.map((row) => row.destinationRegion).sort()).toEqual(
          [SEOUL.region, IRELAND.region].sort(),
        );
      }
      decisions.push(...entries);
      s3Decisions.push(...s3Entries);
      machineDecisions.push(...result.stateMachineRoleDecisions);
    } finally {
      await world.close();
    }
  });

  it("leaves no function role's grant and no action of the documented destination role unused", () => {
    // Prepare
    const used = new Map<string, Set<string>>();
    const use = (who: string, grant: string) => used.set(who, (used.get(who) ?? new Set()).add(grant));
    for (const d of decisions) {
      const step = /:assumed-role\/[^/]*Functions([A-Za-z]+)Role[^/]*\//.exec(d.principal)?.[1];
      if (step) use(step, `${d.action} ${sideOf(d.resource)}`);
      else if (d.roleArn === DEMO_ROLE) use(DESTINATION_ROLE, d.action);
    }
    const granted = grantsByStep();
    granted.set(DESTINATION_ROLE, new Set(statementsOf(destinationRolePolicy()).flatMap((s) => s.actions)));
    const excused = new Set(NOT_TAKEN_HERE.map((e) => `${e.who}: ${e.grant}`));

    // Act
    const unused = [...granted].flatMap(([who, grants]) =>
      [...grants].filter((grant) => !used.get(who)?.has(grant)).map((grant) => `${who}: ${grant}`),
    );

    // Assess
    expect(decisions.length).toBeGreaterThan(0);
    expect(unused.filter((grant) => !excused.has(grant))).toEqual([]);
    // Each exception excuses a grant that exists and that no scenario here used.
    expect([...excused].filter((grant) => !unused.includes(grant))).toEqual([]);
  });

  it("leaves no function role's S3 grant and no grant of the state machine role unused", () => {
    // Prepare
    const whoOf = (principal: string): string | undefined =>
      /:assumed-role\/[^/]*StateMachineRole[^/]*\//.test(principal)
        ? STATE_MACHINE
        : /:assumed-role\/[^/]*Functions([A-Za-z]+)Role[^/]*\//.exec(principal)?.[1];
    const used = [...s3Decisions, ...machineDecisions]
      .filter((d) => d.allowed)
      .map((d) => ({ who: whoOf(d.principal), action: d.action, resource: d.resource }));
    const excused = new Set(NOT_TAKEN_HERE_S3_AND_MACHINE.map((e) => `${e.who}: ${e.grant}`));
    const grants = runDataAndMachineGrants();

    // Act
    const unused = grants
      .filter(
        (g) =>
          !used.some(
            (u) =>
              u.who === g.who &&
              u.action === g.action &&
              g.resources.some((pattern) => resourceMatches(pattern, u.resource)),
          ),
      )
      .map((g) => `${g.who}: ${g.grant}`);

    // Assess
    expect(s3Decisions.length).toBeGreaterThan(0);
    expect(machineDecisions.length).toBeGreaterThan(0);
    // The functions reached the run bucket as their own roles (the harness, as the root user, only creates the bucket and reads the report).
    expect(s3Decisions.some((d) => ![undefined, STATE_MACHINE].includes(whoOf(d.principal)))).toBe(true);
    expect(
      s3Decisions.filter((d) => !d.principal.endsWith(':root') && whoOf(d.principal) === undefined),
    ).toEqual([]);
    expect(unused.filter((grant) => !excused.has(grant))).toEqual([]);
    // Each exception excuses a grant that exists and that no scenario here used.
    expect([...excused].filter((grant) => !unused.includes(grant))).toEqual([]);
  });
});
