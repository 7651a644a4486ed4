import { describe, expect, it } from 'vitest';
import { RECREATED_NOTE, SOURCE_GONE_NOTE, newItemResult } from '../../../core/batch/batch-results.ts';
import type { BatchInput, BatchState, WorkItem } from '../../../core/contracts/contracts.ts';
import {
  BatchBytesBound,
  MAX_FAILURE_CODE_LENGTH,
  MAX_INPUT_BYTES_PER_BATCH,
  MAX_ITEM_BYTES,
  MAX_NOTE_LENGTH,
  MAX_REGION_LENGTH,
  MAX_REPLICATION_DESTINATIONS,
  STATE_PAYLOAD_LIMIT_BYTES,
  STATE_RESERVE_BYTES,
  batchBytesFor,
  itemBytes,
  resultBoundBytes,
  splitItem,
} from '../../../core/contracts/payload-bounds.ts';
import { TEMP_TAG_PREFIX_MAX_LENGTH } from '../../../core/ecr/temp-tags.ts';
import { ROLE_ARN_PATTERN } from '../../../core/contracts/input-schema.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const REGIONS = ['ap-northeast-2', 'us-west-2', 'eu-west-1', 'us-east-1', 'ap-southeast-1'];

function item(tags: string[], destinations: number, overrides: Partial<WorkItem> = {}): WorkItem {
  return {
    repositoryName: 'team-a/service',
    imageDigest: DIGEST,
    imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    tags,
    destinations: REGIONS.slice(0, destinations).map((region) => ({
      region,
      registryId: '111111111111',
      tags: [...tags],
      digestPresent: false,
    })),
    imagePushedAt: 1_767_225_600_000,
    ...overrides,
  };
}

/** The longest role ARN the input (and Plan, for a deployment's role) accepts. */
const LONGEST_ROLE_ARN = `arn:aws-us-gov:iam::222222222222:role/${'r'.repeat(512)}`;

/** The longest BatchInput a run can have: every string at the longest the input and AWS allow. */
const WORST_BATCH_INPUT: BatchInput = {
  runId: 'r'.repeat(80),
  bucket: 'b'.repeat(63),
  runPrefix: `runs/${'r'.repeat(80)}`,
  sourceRegion: 'ap-southeast-5',
  sourceRegistryId: '111111111111',
  strategy: 'retag-source',
  tempTagPrefix: 'p'.repeat(TEMP_TAG_PREFIX_MAX_LENGTH),
  overwriteConflicts: false,
  includeUntagged: false,
  replicationTimeoutMinutes: 360,
  replicationWaitSeconds: 3600,
  // Every destination but the selected one reached through a role, each at the longest ARN allowed.
  reachedDestinations: Array.from({ length: MAX_REPLICATION_DESTINATIONS - 1 }, () => ({
    region: 'x'.repeat(MAX_REGION_LENGTH),
    registryId: '222222222222',
    roleArn: LONGEST_ROLE_ARN,
  })),
};

/** Each item's result at its worst, as the steps can make it: every field at its longest. */
function worstResults(items: WorkItem[], extraDestinations: number) {
  const state: BatchState = { BatchInput: WORST_BATCH_INPUT, Items: items };
  return items.map((i) => {
    const result = newItemResult(state, i);
    result.pushedAt = 9_999_999_999_999;
    result.note = RECREATED_NOTE;
    for (const d of result.destinations) {
      d.replication = 'NOT_NEEDED';
      d.failureCode = 'F'.repeat(MAX_FAILURE_CODE_LENGTH);
      d.digestPresent = false;
      for (const tag of Object.keys(d.tags)) d.tags[tag] = 'REPLICATION_TIMEOUT';
    }
    for (let e = 0; e < extraDestinations; e++) {
      result.destinations.push({
        region: 'ap-southeast-5',
        registryId: '222222222222',
        replication: 'NOT_NEEDED',
        failureCode: 'F'.repeat(MAX_FAILURE_CODE_LENGTH),
        tags: {},
        extra: true,
        digestPresent: false,
      });
    }
    result.sourceTagUnavailableMs = Object.fromEntries(i.tags.map((tag) => [tag, 9_999_999_999_999]));
    return result;
  });
}

/** Batches as the ItemBatcher makes them: consecutive items while their bytes stay within `bound`. */
function batches(items: WorkItem[], bound: number, maxItems = 100): WorkItem[][] {
  const out: WorkItem[][] = [];
  let current: WorkItem[] = [];
  let size = 0;
  for (const i of items) {
    const bytes = itemBytes(i) + 1;
    if (current.length > 0 && (current.length >= maxItems || size + bytes > bound)) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(i);
    size += bytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}

const stateBytes = (batch: WorkItem[], extra: number) =>
  Buffer.byteLength(
    JSON.stringify({ BatchInput: WORST_BATCH_INPUT, Items: batch, results: worstResults(batch, extra) }),
  );

describe('work items within Step Functions payload limits', () => {
  it('keeps the largest BatchInput (24 reached destinations through the longest role ARNs) and the envelope of 100 items and results in the reserve', () => {
    // Prepare: the envelope with no items, plus a separator per item and per result.
    const batchSize = 100;
    const empty = Buffer.byteLength(
      JSON.stringify({ BatchInput: WORST_BATCH_INPUT, Items: [], results: [] }),
    );

    // Act
    const reserved = empty + 2 * (batchSize - 1);

    // Assess
    expect(ROLE_ARN_PATTERN.test(LONGEST_ROLE_ARN)).toBe(true);
    expect(ROLE_ARN_PATTERN.test(`${LONGEST_ROLE_ARN}r`)).toBe(false);
    expect(reserved).toBeLessThanOrEqual(STATE_RESERVE_BYTES);
    // What the destinations' roles add is why the reserve is no longer 8 KiB.
    expect(reserved).toBeGreaterThan(8 * 1024);
  });

  it('bounds a result by what the steps can make of it, every field at its longest', () => {
    const tagged = item(['v1', 'latest', 'sha-0123456789abcdef'], 3);
    const untagged = item([], 2);
    for (const [i, extra] of [
      [tagged, 0],
      [tagged, 4],
      [untagged, 3],
    ] as const) {
      const actual = Buffer.byteLength(JSON.stringify(worstResults([i], extra)[0]));
      expect(actual).toBeLessThanOrEqual(resultBoundBytes(i, extra));
    }
    // The notes the steps set fit the bound's room for one.
    for (const note of [SOURCE_GONE_NOTE, RECREATED_NOTE])
      expect(note.length).toBeLessThanOrEqual(MAX_NOTE_LENGTH);
  });

  it('splits an image with 999 tags and 5 destinations into parts under MAX_ITEM_BYTES, each (tag, destination) exactly once', () => {
    // Prepare
    const tags = Array.from({ length: 999 }, (_, t) => `release-2026.12.${String(t).padStart(4, '0')}`);
    const big = item(tags, 5);
    // One destination already has the digest and every tag but three; one lists no tag at all.
    big.destinations[1] = { ...big.destinations[1]!, tags: tags.slice(0, 3), digestPresent: true };
    big.destinations[4] = { ...big.destinations[4]!, tags: [] };

    // Act
    const parts = splitItem(big);

    // Assess
    expect(itemBytes(big)).toBeGreaterThan(5 * MAX_ITEM_BYTES);
    expect(parts.length).toBeGreaterThan(5);
    for (const part of parts) {
      expect(itemBytes(part)).toBeLessThanOrEqual(MAX_ITEM_BYTES);
      expect(part.imageDigest).toBe(big.imageDigest);
      expect(part.imagePushedAt).toBe(big.imagePushedAt);
    }
    expect(parts.flatMap((p) => p.tags)).toEqual(tags);
    const pairs = (items: WorkItem[]) =>
      items.flatMap((i) => i.destinations.flatMap((d) => d.tags.map((tag) => `${d.region} ${tag}`))).sort();
    expect(pairs(parts)).toEqual(pairs([big]));
    // The tagless destination is in the first part only, so one part brings it the digest.
    const withTagless = parts.filter((p) => p.destinations.some((d) => d.region === REGIONS[4]));
    expect(withTagless).toEqual([parts[0]]);
    // An item that fits is left alone.
    const small = item(['v1', 'v2'], 2);
    expect(splitItem(small)).toEqual([small]);
  });

  it('keeps the state of every batch within 256 KiB for 999 tags × 5 destinations, and ordinary items at 64 KiB batches', () => {
    // Prepare
    const tags = Array.from({ length: 999 }, (_, t) => `release-2026.12.${String(t).padStart(4, '0')}`);
    const parts = splitItem(item(tags, 5));
    const bound = new BatchBytesBound();
    for (const part of parts) bound.add(part, 5);

    // Act
    const states = batches(parts, bound.value).map((batch) => stateBytes(batch, 0));

    // Assess
    expect(Math.max(...states)).toBeLessThanOrEqual(STATE_PAYLOAD_LIMIT_BYTES);
    // Unsplit, one such item alone is over the limit: the cliff this guards against.
    expect(stateBytes([item(tags, 5)], 0)).toBeGreaterThan(STATE_PAYLOAD_LIMIT_BYTES);
    // Ordinary tags and destinations keep the full 64 KiB.
    const ordinary = new BatchBytesBound();
    ordinary.add(item(['v1.2.3', 'latest', 'build-1234'], 2), 2);
    expect(ordinary.value).toBe(MAX_INPUT_BYTES_PER_BATCH);
  });

  it('shrinks the batch bound for one-character tags and 25 destinations, still fitting any part and any batch', () => {
    // Prepare: the largest result per item byte an item can have.
    const shortTags = item(['a'], 1, { repositoryName: 'ab' });
    const shortMany = item(
      Array.from({ length: 40 }, (_, t) => String.fromCharCode(97 + (t % 26)) + (t >= 26 ? 'z' : '')),
      5,
    );
    const extra = MAX_REPLICATION_DESTINATIONS - 1;

    // Act
    const worst = batchBytesFor(shortTags, extra);
    const items = Array.from({ length: 100 }, () => shortTags);

    // Assess: the bound is smaller than 64 KiB, a part of MAX_ITEM_BYTES still fits in a batch with
    // a BatchInput, and batches of either kind stay within the state limit.
    expect(worst).toBeLessThan(MAX_INPUT_BYTES_PER_BATCH);
    expect(worst).toBeGreaterThanOrEqual(MAX_ITEM_BYTES + 1024);
    for (const batch of batches(items, worst)) {
      expect(stateBytes(batch, extra)).toBeLessThanOrEqual(STATE_PAYLOAD_LIMIT_BYTES);
    }
    const many = Array.from({ length: 100 }, () => shortMany);
    const bound = batchBytesFor(shortMany, 0);
    for (const batch of batches(many, bound)) {
      expect(stateBytes(batch, 0)).toBeLessThanOrEqual(STATE_PAYLOAD_LIMIT_BYTES);
    }
  });
});
