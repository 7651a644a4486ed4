/**
 * Step Functions' payload limits, end to end: the local runner holds every state to 256 KiB
 * (States.DataLimitExceeded, as AWS does), so an image with many tags and destinations only passes
 * if the plan keeps each child's state within it (core/contracts/payload-bounds.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_ITEM_BYTES } from '../../core/contracts/payload-bounds.ts';
import { runBackfillLocally } from '../../local/runner/run-backfill.ts';
import { generatedRegistry, SOURCE_ACCOUNT, SOURCE_REGION } from '../support/world.ts';
import {
  backfillTemplate,
  expectedDestinationTags,
  missingDestinationTags,
  startWorld,
  tagsOf,
  tempTagsAnywhere,
  type World,
} from './helpers.ts';

const SOURCE = { account: SOURCE_ACCOUNT, region: SOURCE_REGION };
const DESTINATIONS = ['ap-northeast-2', 'us-west-2', 'eu-west-1', 'us-east-1', 'ap-southeast-1'].map(
  (region) => ({ account: SOURCE_ACCOUNT, region }),
);

describe('payloads within Step Functions limits', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('backfills an image with 999 tags into 5 destinations, no child state over 256 KiB', async () => {
    // Prepare: ECR allows 1,000 tags per image and the run's temp tag is one of them, so 999 is the
    // most an image can have and still be re-pushed. Unsplit, its child's state is ~300 KB.
    const tags = Array.from({ length: 999 }, (_, t) => `release-2026.12.${String(t).padStart(4, '0')}`);
    world = await startWorld(
      generatedRegistry({
        destinations: DESTINATIONS,
        repositories: 1,
        imagesPerRepository: 1,
        seed: 'many-tags',
        tags: () => tags,
      }),
    );
    const before = world.emulator.snapshot();
    const expected = expectedDestinationTags(before, SOURCE);

    // Act
    const result = await runBackfillLocally({
      ecrEndpoint: world.emulator.endpoint,
      s3: world.s3,
      sourceRegion: SOURCE_REGION,
      account: SOURCE_ACCOUNT,
      template: backfillTemplate(),
      putImageRatePerSecond: 10_000,
      input: { method: 'repush' },
    });
    await world.emulator.whenReplicationIdle();
    const after = world.emulator.snapshot();

    // Assess
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(expected).toHaveLength(999 * 5);
    expect(missingDestinationTags(after, expected)).toEqual([]);
    expect(tempTagsAnywhere(after)).toEqual([]);
    expect(tagsOf(after, SOURCE)).toEqual(tagsOf(before, SOURCE));
    expect(result.report?.summary.counts.BACKFILLED).toBe(999 * 5);
    // The image travelled in parts, each child's input within the run's batch bound.
    const [backfill] = result.execution.mapRuns.filter((run) => run.stateName === 'BackfillImages');
    const children = backfill?.children ?? [];
    expect(children.length).toBeGreaterThan(1);
    const items = children.flatMap((child) => (child.input as { Items: unknown[] }).Items);
    expect(items.length).toBeGreaterThanOrEqual(Math.ceil((999 * 22 * 6) / MAX_ITEM_BYTES));
    for (const child of children) {
      expect(Buffer.byteLength(JSON.stringify(child.input))).toBeLessThanOrEqual(64 * 1024);
    }
  }, 240_000);
});
