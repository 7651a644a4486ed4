/**
 * Least privilege, from what the code calls: the workflow's scenarios run with IAM enforced (every
 * function as its role from the synthesized template, a destination reached through the README's
 * documented role), the emulator records each decision (ecr-emulator/iam/decisions.ts), and every
 * ECR and STS grant of every function role, and every action of the documented destination role,
 * must have been used by some scenario. A grant only a fault takes is named below with its reason.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege
 *
 * Scope: the ECR and STS actions, which the local world enforces; the run bucket's S3 actions and
 * CloudWatch Logs are not decided locally yet.
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
import { principalsFromTemplate } from '../../local/iam/template-principals.ts';
import { ALL_STRATEGIES_ALLOWED, DEMO_OTHER_ACCOUNT, LOCAL_DEPLOYMENT } from '../../local/runner/defaults.ts';
import { runBackfillLocally } from '../../local/runner/run-backfill.ts';
import { synthesizeBackfillStack } from '../../local/synth/synth.ts';
import { TokenResolver } from '../../local/synth/template-tokens.ts';
import { startWorld } from './helpers.ts';

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

describe('least privilege: every grant is used by the workflow', () => {
  const decisions: IamDecisionEntry[] = [];

  it.each(Object.entries(SCENARIOS))('%s runs with every call allowed', async (_name, scenario) => {
    // Prepare
    const world = await startWorld(buildDemoRegistry(), { replicationLatencyMs: 20 });
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
      const result = await runBackfillLocally({
        ecrEndpoint: world.emulator.endpoint,
        s3: world.s3,
        sourceRegion: DEMO_SOURCE_REGION,
        account: DEMO_SOURCE_ACCOUNT,
        putImageRatePerSecond: 1000,
        template: scenario.template ?? TEMPLATE,
        input: scenario.input,
      });

      // Assess
      expect(result.status, result.cause).toBe('SUCCEEDED');
      const entries = world.emulator.iamDecisions.entries();
      expect(entries.filter((d) => !d.allowed)).toEqual([]);
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
});
