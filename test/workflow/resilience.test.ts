/**
 * Faults and races: throttling and 5xx from ECR, Lambda invocations dying part-way, redrives, and a
 * tag moved by someone else mid-run. After convergence the invariants of docs/architecture.md §3.2 must hold.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EcrError, pushImage } from '../../local/ecr-emulator/index.ts';
import { buildDemoRegistry, DEMO_SOURCE_ACCOUNT, DEMO_SOURCE_REGION } from '../../local/demo-registry.ts';
import type { StepDeps } from '../../core/deps.ts';
import { createStepHandlers } from '../../functions/registry.ts';
import { runBackfillLocally } from '../../local/runner/run-backfill.ts';
import {
  backfillTemplate,
  digestsOf,
  expectedDestinationTags,
  missingDestinationTags,
  someoneElsesImage,
  startWorld,
  tagsOf,
  tempTagsAnywhere,
  TEMP_TAG_PREFIX,
  type World,
} from './helpers.ts';

const SOURCE = { account: DEMO_SOURCE_ACCOUNT, region: DEMO_SOURCE_REGION };

describe('the backfill workflow under faults', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('converges through ECR faults and Lambda crashes after redrives, with every invariant held', async () => {
    // Prepare: random throttling and 5xx, Lambda crashes, and a permissions problem in the other
    // account (AccessDenied is never retried) that is "fixed" after two denied writes.
    world = await startWorld(buildDemoRegistry(), { faultRate: 0.05, seed: 11 });
    world.emulator.faults.add({
      operation: 'PutImage',
      region: 'eu-west-1',
      times: 2,
      error: new EcrError('AccessDeniedException', 'User is not authorized to perform: ecr:PutImage'),
    });
    const before = world.emulator.snapshot();
    const expected = expectedDestinationTags(before, SOURCE);

    // Act
    const result = await runBackfillLocally({
      ecrEndpoint: world.emulator.endpoint,
      s3: world.s3,
      sourceRegion: DEMO_SOURCE_REGION,
      account: DEMO_SOURCE_ACCOUNT,
      template: backfillTemplate(),
      putImageRatePerSecond: 1000,
      input: { batchSize: 2, method: 'repush' },
      lambdaCrashRate: 0.2,
      seed: 5,
      maxRedrives: 10,
    });
    await world.emulator.whenReplicationIdle();
    const after = world.emulator.snapshot();
    const log = world.emulator.callLog;

    // Assess: it took crashes and redrives, and converged (invariants 4 and 5).
    expect(result.metrics.crashes).toBeGreaterThan(0);
    expect(result.metrics.invocationErrors.AccessDenied).toBeGreaterThan(0);
    expect(result.redrives).toBeGreaterThan(0);
    expect(result.status).toBe('SUCCEEDED');
    expect(missingDestinationTags(after, expected)).toEqual([]);
    expect(tempTagsAnywhere(after)).toEqual([]);
    // 1. No source image deleted, no source tag moved.
    expect(digestsOf(after, SOURCE)).toEqual(digestsOf(before, SOURCE));
    expect(tagsOf(after, SOURCE)).toEqual(tagsOf(before, SOURCE));
    // 2. promote never deletes a source tag other than its own temp tags.
    const sourceDeletes = log.entries({
      operation: 'BatchDeleteImage',
      region: SOURCE.region,
      account: SOURCE.account,
    });
    for (const entry of sourceDeletes) {
      for (const id of entry.params.imageIds ?? []) expect(id.startsWith(TEMP_TAG_PREFIX)).toBe(true);
    }
    // 5. No duplicate work that costs quota: each digest is pushed once in the source (a repeat
    // meets ImageAlreadyExists), each backfilled tag is put once in its destination.
    const items = new Set(expected.map((entry) => `${entry.repository}@${entry.digest}`)).size;
    const sourcePuts = log.entries({ operation: 'PutImage', region: SOURCE.region, outcome: 'ok' });
    expect(sourcePuts).toHaveLength(items);
    const destinationWrites = log
      .entries({ operation: 'PutImage', outcome: 'ok' })
      .filter((entry) => entry.region !== SOURCE.region);
    // The demo's referrers (signatures, an SBOM) are put untagged, each once per destination.
    const referrerPuts = destinationWrites
      .filter((entry) => entry.params.imageTag === undefined)
      .map(
        (entry) =>
          `${entry.account}/${entry.region}/${entry.params.repositoryName}@${entry.params.imageDigest}`,
      );
    expect(referrerPuts.length).toBeGreaterThan(0);
    expect(new Set(referrerPuts).size).toBe(referrerPuts.length);
    const destinationPuts = destinationWrites
      .filter((entry) => entry.params.imageTag !== undefined)
      .map(
        (entry) => `${entry.account}/${entry.region}/${entry.params.repositoryName}:${entry.params.imageTag}`,
      );
    expect(new Set(destinationPuts).size).toBe(destinationPuts.length);
    // Every expected tag but the one already in Seoul was put exactly once.
    expect(destinationPuts).toHaveLength(expected.length - 1);
  });

  it('leaves a tag moved by someone else mid-run at the newer digest, in source and destinations', async () => {
    // Prepare: `shop/api:latest` gets pushed anew once the backfill has started pushing.
    world = await startWorld(buildDemoRegistry());
    const w = world;
    const newer = someoneElsesImage('someone-else/shop-api:1.6.0');
    let pushed = false;
    const stepHandlers = (deps: StepDeps) => {
      const handlers = createStepHandlers(deps);
      const push = handlers.PushTempTags;
      return {
        ...handlers,
        PushTempTags: async (event: unknown) => {
          if (!pushed) {
            pushed = true;
            const client = w.emulator.client(SOURCE.region, { account: SOURCE.account, maxAttempts: 3 });
            await pushImage(client, 'shop/api', newer, { tag: 'latest' });
            client.destroy();
          }
          return push(event);
        },
      };
    };

    // Act
    const result = await runBackfillLocally({
      ecrEndpoint: w.emulator.endpoint,
      s3: w.s3,
      sourceRegion: DEMO_SOURCE_REGION,
      account: DEMO_SOURCE_ACCOUNT,
      template: backfillTemplate(),
      putImageRatePerSecond: 1000,
      stepHandlers,
      // The push happens through PushTempTags; the native engine has its own moved-tag test.
      input: { method: 'repush' },
    });
    await w.emulator.whenReplicationIdle();
    const after = w.emulator.snapshot();

    // Assess (invariant 3)
    expect(result.status).toBe('SUCCEEDED');
    expect(tagsOf(after, SOURCE).get('shop/api:latest')).toBe(newer.digest);
    for (const destination of [
      { account: DEMO_SOURCE_ACCOUNT, region: 'ap-northeast-2' },
      { account: '222222222222', region: 'eu-west-1' },
    ]) {
      expect(tagsOf(after, destination).get('shop/api:latest')).toBe(newer.digest);
    }
    // The other tags of the old image were still backfilled.
    const oldDigest = tagsOf(world.emulator.snapshot(), SOURCE).get('shop/api:v1.5.1');
    expect(tagsOf(after, { account: '222222222222', region: 'eu-west-1' }).get('shop/api:v1.5.1')).toBe(
      oldDigest,
    );
    expect(tempTagsAnywhere(after)).toEqual([]);
  });
});
