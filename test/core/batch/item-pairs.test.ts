import { describe, expect, it } from 'vitest';
import type { ItemResult, WorkItem } from '../../../core/contracts/contracts.ts';
import {
  pairItemsWithResults,
  pairsByRepository,
  resultsMatchItems,
} from '../../../core/batch/item-pairs.ts';
import { BatchWiringError } from '../../../core/errors/errors.ts';
import { ERROR_NAMES } from '../../../core/errors/error-names.ts';

const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

const item = (repositoryName: string, n: number): WorkItem => ({
  repositoryName,
  imageDigest: digest(n),
  imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
  tags: [`v${n}`],
  destinations: [
    { region: 'ap-northeast-2', registryId: '111111111111', tags: [`v${n}`], digestPresent: false },
  ],
});

const resultOf = (of: WorkItem): ItemResult => ({
  repositoryName: of.repositoryName,
  imageDigest: of.imageDigest,
  tempTag: `ecr-backfill-${of.imageDigest.slice(7, 19)}`,
  destinations: [{ region: 'ap-northeast-2', registryId: '111111111111', replication: 'PENDING', tags: {} }],
});

const thrownBy = (act: () => unknown): Error | undefined => {
  try {
    act();
  } catch (error) {
    return error as Error;
  }
  return undefined;
};

const ITEMS = [item('app/api', 1), item('app/web', 2), item('app/api', 3)];

describe('pairItemsWithResults', () => {
  it('gives each item the result at its place, in batch order, the objects themselves', () => {
    const results = ITEMS.map(resultOf);

    const pairs = pairItemsWithResults(ITEMS, results);

    expect(pairs).toHaveLength(3);
    pairs.forEach(({ item: paired, result }, i) => {
      expect(paired).toBe(ITEMS[i]);
      expect(result).toBe(results[i]);
    });
    // Pairs hold the results themselves: a step's changes land in the array it returns.
    pairs[1]?.result.destinations.forEach((d) => (d.replication = 'COMPLETE'));
    expect(results[1]?.destinations[0]?.replication).toBe('COMPLETE');
  });

  it('pairs an empty batch', () => {
    expect(pairItemsWithResults([], [])).toEqual([]);
  });

  it('refuses results of another length as a wiring bug (InvalidInput, never retried), naming both counts', () => {
    const act = () => pairItemsWithResults(ITEMS, ITEMS.slice(0, 2).map(resultOf));

    expect(act).toThrow(BatchWiringError);
    expect(act).toThrow('3 item(s) but 2 result(s)');
    expect(thrownBy(act)?.name).toBe(ERROR_NAMES.InvalidInput);
  });

  it('refuses results in another order, naming the first place that differs', () => {
    const [first, second, third] = ITEMS.map(resultOf);
    const swapped = [first, third, second].filter((r): r is ItemResult => r !== undefined);

    const act = () => pairItemsWithResults(ITEMS, swapped);

    expect(act).toThrow(BatchWiringError);
    expect(act).toThrow(`result 1 is for app/api@${digest(3)}, its item is app/web@${digest(2)}`);
  });

  it('refuses a result for the same digest in another repository', () => {
    const results = ITEMS.map(resultOf).map((r, i) => (i === 2 ? { ...r, repositoryName: 'app/other' } : r));

    expect(() => pairItemsWithResults(ITEMS, results)).toThrow(BatchWiringError);
  });
});

describe('resultsMatchItems', () => {
  it('says whether the results pair with the items, without throwing', () => {
    const results = ITEMS.map(resultOf);

    expect(resultsMatchItems(ITEMS, results)).toBe(true);
    expect(resultsMatchItems(ITEMS, results.slice(1))).toBe(false);
    expect(resultsMatchItems(ITEMS, [...results].reverse())).toBe(false);
  });
});

describe('pairsByRepository', () => {
  it('groups pairs per repository, repositories in first-seen order and each group in batch order', () => {
    const pairs = pairItemsWithResults(ITEMS, ITEMS.map(resultOf));

    const groups = pairsByRepository(pairs);

    expect([...groups.keys()]).toEqual(['app/api', 'app/web']);
    expect(groups.get('app/api')?.map((p) => p.item.imageDigest)).toEqual([digest(1), digest(3)]);
    expect(groups.get('app/web')?.map((p) => p.result.imageDigest)).toEqual([digest(2)]);
  });
});
