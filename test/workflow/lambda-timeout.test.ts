/**
 * The local runner stops an invocation at its function's configured timeout (the template's
 * `Timeout`), as Lambda does: the state sees `Sandbox.Timedout`, its retrier runs it again, and once
 * the retries are spent the child fails and a redrive finishes the job (docs/architecture.md §4, local runner).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_SOURCE_ACCOUNT, DEMO_SOURCE_REGION } from '../../local/demo-registry.ts';
import { taskFunctionArn } from '../../local/runner/asl.ts';
import { runBackfillLocally } from '../../local/runner/run-backfill.ts';
import {
  functionsFromTemplate,
  stateMachineFromTemplate,
  TokenResolver,
  type CfnTemplate,
} from '../../local/runner/template.ts';
import {
  backfillTemplate,
  expectedDestinationTags,
  generatedRegistry,
  missingDestinationTags,
  startWorld,
  tempTagsAnywhere,
  type World,
} from './helpers.ts';

const SOURCE = { account: DEMO_SOURCE_ACCOUNT, region: DEMO_SOURCE_REGION };
const TIMEOUT_SECONDS = 1;
/** How long the hung PutImage takes: well past the timeout, so only a kill ends the invocation sooner. */
const HANG_MS = 3000;

/** The template with one step's function timeout set to `seconds`. */
function withStepTimeout(template: CfnTemplate, stateName: string, seconds: number): CfnTemplate {
  const copy = structuredClone(template);
  const resolver = new TokenResolver(copy, SOURCE);
  const { definition } = stateMachineFromTemplate(copy, resolver);
  let arn: string | undefined;
  const visit = (states: Record<string, unknown>): void => {
    for (const [name, state] of Object.entries(states)) {
      const s = state as Parameters<typeof taskFunctionArn>[0] & {
        ItemProcessor?: { States: Record<string, unknown> };
      };
      if (name === stateName) arn = taskFunctionArn(s);
      if (s.ItemProcessor) visit(s.ItemProcessor.States);
    }
  };
  visit(definition.States);
  const fn = functionsFromTemplate(copy, resolver).find((f) => f.arn === arn);
  const resource = fn ? copy.Resources?.[fn.logicalId] : undefined;
  if (!resource?.Properties) throw new Error(`no function for ${stateName}`);
  resource.Properties.Timeout = seconds;
  return copy;
}

describe('Lambda timeouts in the local runner', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('kills PushTempTags at its configured timeout with Sandbox.Timedout, and a redrive finishes the job', async () => {
    // Prepare: PutImage hangs (3 s, longer than the 1 s timeout) until the first redrive, then fails
    // without effect. A hung call that took effect 3 s later could land after the redrive's cleanup
    // and leave a temp tag: a write of a killed invocation, which this test is not about. Two images
    // keep the redrive's own PushTempTags far inside the 1 s timeout, however loaded the machine.
    world = await startWorld(
      generatedRegistry({
        account: SOURCE.account,
        region: SOURCE.region,
        destination: { account: SOURCE.account, region: 'ap-northeast-2' },
        repositories: 1,
        imagesPerRepository: 2,
      }),
    );
    const expected = expectedDestinationTags(world.emulator.snapshot(), SOURCE);
    const hang = world.emulator.faults.add({
      operation: 'PutImage',
      times: Infinity,
      delayMs: HANG_MS,
      error: 'ServerException',
    });
    const template = withStepTimeout(backfillTemplate(), 'PushTempTags', TIMEOUT_SECONDS);

    // Act
    const result = await runBackfillLocally({
      ecrEndpoint: world.emulator.endpoint,
      s3: world.s3,
      sourceRegion: SOURCE.region,
      account: SOURCE.account,
      template,
      putImageRatePerSecond: 1000,
      // One batch (the images are fewer than a batch, and one child runs at a time).
      input: { method: 'repush', maxConcurrency: 1 },
      maxRedrives: 1,
      onProgress: (_snapshot, event) => {
        if (event.type === 'redrive') hang.remove();
      },
    });
    await world.emulator.whenReplicationIdle();
    const after = world.emulator.snapshot();

    // Assess
    // The first attempt and its three retries (LAMBDA_CRASHED_RETRY) each died at 1 s.
    expect(result.metrics.invocationErrors['Sandbox.Timedout']).toBe(4);
    expect(result.metrics.crashes).toBe(0);
    expect(result.metrics.maxInvocationMs.PushTempTags).toBeGreaterThanOrEqual(TIMEOUT_SECONDS * 1000);
    // Killed, not waited for: the hung call would have held it for HANG_MS.
    expect(result.metrics.maxInvocationMs.PushTempTags).toBeLessThan(HANG_MS);
    // Then the redrive resumed the child at PushTempTags and the run converged.
    expect(result.redrives).toBe(1);
    expect(result.status).toBe('SUCCEEDED');
    expect(missingDestinationTags(after, expected)).toEqual([]);
    expect(tempTagsAnywhere(after)).toEqual([]);
  });
});
