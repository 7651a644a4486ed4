/**
 * The report's referrer table (issue 21): summary.referrers as a table of artifact type × outcome in
 * the terminal and Markdown formats, referrer rows kept out of the per-destination tag pivot, and a
 * failed referrer named in "Not done" by its type and the image it follows.
 */
import { describe, expect, it } from 'vitest';
import type { ReportRow, RunReport } from '../../core/contracts/contracts.ts';
import { renderReport } from '../../cli/report/report-format.ts';

const SEOUL = { destinationRegion: 'ap-northeast-2', destinationRegistryId: '111122223333' };
const IMAGE = `sha256:${'a'.repeat(64)}`;
const SIGNATURE = `sha256:${'5'.repeat(64)}`;
const SBOM = `sha256:${'6'.repeat(64)}`;
const SIGNATURE_TYPE = 'application/vnd.cncf.notary.signature';
const SBOM_TYPE = 'application/spdx+json';

const rows: ReportRow[] = [
  { repositoryName: 'team/api', imageDigest: IMAGE, tag: 'v1', ...SEOUL, outcome: 'BACKFILLED' },
  {
    repositoryName: 'team/api',
    imageDigest: SIGNATURE,
    tag: '',
    ...SEOUL,
    outcome: 'BACKFILLED',
    referrerOf: IMAGE,
    artifactType: SIGNATURE_TYPE,
  },
  {
    repositoryName: 'team/api',
    imageDigest: SBOM,
    tag: '',
    ...SEOUL,
    outcome: 'DIGEST_MISMATCH',
    referrerOf: IMAGE,
    artifactType: SBOM_TYPE,
  },
];

const report: RunReport = {
  runId: 'r',
  generatedAt: '2026-05-01T12:00:00.000Z',
  rows,
  summary: {
    runId: 'r',
    status: 'FAILED',
    counts: { BACKFILLED: 1 },
    failedItems: 1,
    reportJson: { bucket: 'b', key: 'runs/r/report.json' },
    reportCsv: { bucket: 'b', key: 'runs/r/report.csv' },
    referrers: { [SIGNATURE_TYPE]: { BACKFILLED: 1 }, [SBOM_TYPE]: { DIGEST_MISMATCH: 1 } },
    rows: rows.length,
    items: 1,
    plan: { items: 1, tags: 1, counts: {}, putImageCalls: {}, quotaBoundSeconds: 1, estimatedCostUsd: 0 },
  },
};
const options = { location: 's3://b/runs/r/report.json', maxFailed: 10 };

describe('the report counts referrers by artifact type', () => {
  it('renders a Markdown referrer table of artifact type × outcome, apart from the tags', () => {
    const markdown = renderReport(report, 'md', options);

    expect(markdown).toContain(
      [
        '| Artifact type | BACKFILLED | DIGEST_MISMATCH |',
        '| --- | ---: | ---: |',
        `| ${SBOM_TYPE} | 0 | 1 |`,
        `| ${SIGNATURE_TYPE} | 1 | 0 |`,
      ].join('\n'),
    );
    // The per-destination pivot counts tags only: one BACKFILLED tag, no referrer outcome.
    expect(markdown).toContain(
      '| Destination | BACKFILLED |\n| --- | ---: |\n| 111122223333/ap-northeast-2 | 1 |',
    );
    // The missing SBOM is not done, named by its type and the image it follows.
    expect(markdown).toContain(`(referrer ${SBOM_TYPE} of ${IMAGE.slice(0, 19)})`);
  });

  it('prints the referrer table in the terminal format too, and none when the run had no referrers', () => {
    const table = renderReport(report, 'table', options);
    const { referrers: _none, ...withoutReferrers } = report.summary;
    const plain = renderReport(
      { ...report, rows: rows.slice(0, 1), summary: withoutReferrers },
      'table',
      options,
    );

    expect(table).toContain('Referrers (signatures, SBOMs, attestations; rows: referrer × destination):');
    expect(table).toMatch(new RegExp(`${SIGNATURE_TYPE.replace(/[.]/g, '\\.')}\\s+1\\s+0`));
    expect(plain).not.toContain('Referrers');
  });
});
