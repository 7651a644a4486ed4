import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ItemResult } from '../../../core/contracts/contracts.ts';
import { countTagOutcomes } from '../../../core/metrics.ts';
import { powertoolsMetrics } from '../../../functions/lambda/powertools-metrics.ts';

const results: ItemResult[] = [
  {
    repositoryName: 'app',
    imageDigest: 'sha256:1',
    tempTag: 't',
    destinations: [
      { region: 'a', registryId: '1', replication: 'COMPLETE', tags: { v1: 'BACKFILLED', v2: 'CONFLICT' } },
      { region: 'b', registryId: '1', replication: 'COMPLETE', tags: { v1: 'BACKFILLED', v2: 'MOVED' } },
    ],
    sourceTagUnavailableMs: { v1: 12, v2: 40 },
  },
];

afterEach(() => {
  vi.restoreAllMocks();
});

describe('outcome metrics', () => {
  it('counts every (destination, tag) outcome', () => {
    expect(countTagOutcomes(results)).toEqual({ BACKFILLED: 2, CONFLICT: 1, MOVED: 1 });
  });

  it('emits the counts and the longest source-tag window as one EMF document per step', () => {
    // Prepare
    // Powertools writes EMF through its own Console on process.stdout (outside POWERTOOLS_DEV).
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });

    // Act
    powertoolsMetrics().publishOutcomes('RetagSourceTags', results);

    // Assess
    const emf = JSON.parse(lines.find((line) => line.includes('_aws')) ?? '{}') as Record<string, unknown>;
    expect(emf).toMatchObject({
      step: 'RetagSourceTags',
      BACKFILLED: 2,
      CONFLICT: 1,
      MOVED: 1,
      SourceTagUnavailableMs: 40,
    });
  });
});
