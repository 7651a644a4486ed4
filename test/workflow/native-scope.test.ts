/**
 * The deployer's repository scope binds every engine (docs/architecture.md §3.2 #12). ECR's native
 * backfill names a registry and a destination only, and copies every repository the replication
 * rules cover: under a scope that does not hold that reach, `{}` (method auto) re-pushes the scope
 * and `method: native` is refused before anything is written.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../local/runner/template.ts';
import { synthesizeBackfillStack } from '../../local/synth/synth.ts';
import { writesIn } from '../support/ecr-writes.ts';
import { startWorld, tagsOf, type World } from './helpers.ts';
import {
  callsOf,
  nativeRegistry,
  reportedRun,
  runLocally,
  SEOUL_SAME_ACCOUNT,
  SOURCE,
} from '../functions/native/support/native-workflow.ts';

const LATENCY = { replicationLatencyMs: 20 };
const SCOPE = 'team-0/';

let scoped: CfnTemplate | undefined;
/** A deployment whose run policy limits executions to `team-0/`. */
const scopedTemplate = (): CfnTemplate =>
  (scoped ??= synthesizeBackfillStack({ backfill: { repositoryScope: [SCOPE] } }));

describe('a repository scope binds the native engine', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });
  afterAll(() => {
    scoped = undefined;
  });

  it('a scoped {} run makes no StartReplicationBackfill call and writes nothing outside the scope', async () => {
    // Prepare: a rule without filters covers team-0/ and team-1/; the backfill API answers.
    world = await startWorld(
      nativeRegistry({ destinations: [SEOUL_SAME_ACCOUNT], repositories: 2, imagesPerRepository: 2 }),
      LATENCY,
    );
    const sourceTags = tagsOf(world.emulator.snapshot(), SOURCE);

    // Act
    const result = await runLocally(world, {}, { template: scopedTemplate() });

    // Assess
    expect(result.status, `${result.error}: ${result.cause?.slice(0, 300)}`).toBe('SUCCEEDED');
    const { plan } = reportedRun(result);
    expect(plan.engine.method).toBe('repush');
    expect(plan.engine.reason).toContain("the construct's repositoryScope");
    expect(callsOf(world, 'StartReplicationBackfill')).toEqual({});
    const writes = writesIn(world.emulator.callLog.entries());
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.filter((call) => !(call.params.repositoryName ?? '').startsWith(SCOPE))).toEqual([]);
    // The destination holds the scope's tags and nothing of team-1/.
    const destination = tagsOf(world.emulator.snapshot(), SEOUL_SAME_ACCOUNT);
    const inScope = [...sourceTags.entries()].filter(([name]) => name.startsWith(SCOPE));
    expect(inScope.length).toBeGreaterThan(0);
    for (const [name, digest] of inScope) expect(destination.get(name)).toBe(digest);
    expect([...destination.keys()].filter((name) => !name.startsWith(SCOPE))).toEqual([]);
  });

  it('method native beyond the scope: refused with InvalidInput at Plan, naming the rule, with zero ECR writes', async () => {
    // Prepare
    world = await startWorld(
      nativeRegistry({ destinations: [SEOUL_SAME_ACCOUNT], repositories: 2, imagesPerRepository: 1 }),
      LATENCY,
    );
    const before = world.emulator.snapshot();

    // Act
    const result = await runLocally(world, { method: 'native' }, { template: scopedTemplate() });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('InvalidInput');
    expect(result.execution.failedState?.name).toBe('Plan');
    const message = (JSON.parse(result.cause ?? '{}') as { errorMessage: string }).errorMessage;
    expect(message).toContain('method: "native" is not allowed here');
    expect(message).toContain('rule 0 covers every repository (no filter)');
    expect(message).toContain('Nothing was written');
    expect(writesIn(world.emulator.callLog.entries())).toEqual([]);
    expect(world.emulator.snapshot()).toEqual(before);
    expect(Object.keys(result.invocations)).toEqual(['Plan']);
  });
});
