/**
 * `watch` counts referrers (issue 21): each batch's progress record counts its planned referrer copies
 * per artifact type and how they settled; the run's progress adds them up against the plan, and the
 * progress line says `referrers delivered/planned` by artifact type.
 */
import { describe, expect, it } from 'vitest';
import type { ItemResult, WorkItem } from '../../core/contracts/contracts.ts';
import { batchProgressOf } from '../../core/run-files/batch-progress.ts';
import { describeSnapshot } from '../../cli/watch/progress.ts';
import { summarizeProgress } from '../../cli/watch/run-progress.ts';
import { renderExecutionEnd } from '../../cli/watch/execution-summary.ts';

const SEOUL = { region: 'ap-northeast-2', registryId: '111122223333' };
const OCI = 'application/vnd.oci.image.manifest.v1+json';
const SIGNATURE = 'application/vnd.cncf.notary.signature';
const SBOM = 'application/spdx+json';
const digest = (c: string) => `sha256:${c.repeat(64)}`;

const signed: WorkItem = {
  repositoryName: 'team/api',
  imageDigest: digest('a'),
  imageManifestMediaType: OCI,
  tags: ['v1'],
  destinations: [{ ...SEOUL, tags: ['v1'], digestPresent: false, referrers: [digest('1'), digest('2')] }],
  referrers: [
    { digest: digest('1'), mediaType: OCI, artifactType: SIGNATURE },
    { digest: digest('2'), mediaType: OCI, artifactType: SBOM },
  ],
};
const result = (referrers: Record<string, 'PENDING' | 'BACKFILLED' | 'DIGEST_MISMATCH'>): ItemResult => ({
  repositoryName: signed.repositoryName,
  imageDigest: signed.imageDigest,
  tempTag: 'ecr-backfill-x',
  destinations: [{ ...SEOUL, replication: 'COMPLETE', tags: { v1: 'BACKFILLED' }, referrers }],
});

describe('watch counts referrers by artifact type', () => {
  it('records a batch’s referrer copies per artifact type and shows them against the plan', () => {
    // Prepare: the signature copied, the SBOM still pending; then the SBOM found missing.
    const promoting = batchProgressOf(
      'PromoteTags',
      'promoting',
      [signed],
      [result({ [digest('1')]: 'BACKFILLED', [digest('2')]: 'PENDING' })],
      0,
    );
    const verified = batchProgressOf(
      'VerifyDigests',
      'verifying',
      [signed],
      [result({ [digest('1')]: 'BACKFILLED', [digest('2')]: 'DIGEST_MISMATCH' })],
      1,
    );
    // The plan holds one more signature copy, in a batch that has not recorded anything yet.
    const planned = new Map([
      [SIGNATURE, 2],
      [SBOM, 1],
    ]);
    const perDestination = new Map([['111122223333/ap-northeast-2', { tags: 2, images: 2 }]]);

    // Act
    const during = summarizeProgress(perDestination, [promoting], 10, planned);
    const after = summarizeProgress(perDestination, [verified], 10, planned);

    // Assess
    expect(promoting.referrers).toEqual({
      [SIGNATURE]: { planned: 1, delivered: 1, skipped: 0, failed: 0 },
      [SBOM]: { planned: 1, delivered: 0, skipped: 0, failed: 0 },
    });
    expect(during.referrers).toEqual({
      [SBOM]: { planned: 1, delivered: 0, skipped: 0, failed: 0 },
      [SIGNATURE]: { planned: 2, delivered: 1, skipped: 0, failed: 0 },
    });
    expect(describeSnapshot({ phase: 'Backfilling', run: during })).toContain(
      `referrers 1/3 (${SBOM} 0/1, ${SIGNATURE} 1/2)`,
    );
    expect(describeSnapshot({ phase: 'Backfilling', run: after })).toContain(
      `referrers 1/3 (${SBOM} 0/1, ${SIGNATURE} 1/2, 1 failed)`,
    );
  });

  it('says nothing about referrers when none is planned', () => {
    const plain: WorkItem = {
      ...signed,
      referrers: undefined,
      destinations: [{ ...SEOUL, tags: ['v1'], digestPresent: false }],
    };
    const record = batchProgressOf('PromoteTags', 'promoting', [plain], undefined, 0);
    const run = summarizeProgress(new Map(), [record]);

    expect(record.referrers).toBeUndefined();
    expect(run.referrers).toBeUndefined();
    expect(describeSnapshot({ phase: 'Backfilling', run })).not.toContain('referrers');
  });
});

describe('the end of a watched run', () => {
  it('prints the referrer counts by artifact type next to the tag outcomes', () => {
    const output = {
      runId: 'r',
      status: 'SUCCEEDED',
      counts: { BACKFILLED: 2 },
      failedItems: 0,
      reportJson: { bucket: 'b', key: 'runs/r/report.json' },
      reportCsv: { bucket: 'b', key: 'runs/r/report.csv' },
      referrers: { [SIGNATURE]: { BACKFILLED: 2 }, [SBOM]: { ALREADY_PRESENT: 1 } },
    };

    const text = renderExecutionEnd({
      executionArn: 'arn:aws:states:ap-south-1:111122223333:execution:sm:r',
      status: 'SUCCEEDED',
      output: JSON.stringify(output),
      startDate: new Date(0),
      stopDate: new Date(60_000),
      stateMachineArn: 'arn:aws:states:ap-south-1:111122223333:stateMachine:sm',
      $metadata: {},
    });

    expect(text).toContain('Referrers:');
    expect(text).toMatch(new RegExp(`${SIGNATURE.replace(/[.]/g, '\\.')}\\s+0\\s+2`));
    expect(text).toMatch(new RegExp(`${SBOM.replace(/[.+]/g, '\\$&')}\\s+1\\s+0`));
  });
});
