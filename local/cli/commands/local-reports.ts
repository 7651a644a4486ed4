/**
 * Keeps the report of an offline run (`local`, `demo`) on disk: the local S3 the run wrote it to
 * is removed when the command ends. `--out <dir>` says where; without it the last run's report is
 * kept in `.ecr-backfill/last-run/` under the current directory (overwritten by the next run).
 */
import { resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3ObjectRef } from 'ecr-backfill/core';
import { getText } from 'ecr-backfill/core';
import { S3RunStore } from 'ecr-backfill/core';
import type { CliContext } from 'ecr-backfill/cli';
import { renderReport } from 'ecr-backfill/cli';
import { RunReportSchema } from 'ecr-backfill/cli';

/** Where the last offline run's report goes when `--out` is not given (relative to the cwd). */
export const DEFAULT_REPORT_DIR = '.ecr-backfill/last-run';

export const REPORT_FILES = { json: 'report.json', csv: 'report.csv', markdown: 'report.md' } as const;

/** Failed rows listed in the Markdown summary; report.csv has every row. */
const MAX_FAILED_IN_SUMMARY = 100;

export interface KeptReport {
  directory: string;
  files: string[];
}

/**
 * Copies report.json and report.csv out of the run bucket and writes a Markdown summary next to
 * them. Returns the absolute directory and the files written.
 */
export async function keepReport(
  context: Pick<CliContext, 'writeTextFile'>,
  s3: S3Client,
  where: { reportJson: S3ObjectRef; reportCsv: S3ObjectRef },
  outDir: string | undefined,
): Promise<KeptReport> {
  const directory = resolve(outDir ?? DEFAULT_REPORT_DIR);
  const runStore = new S3RunStore(s3);
  const json = await getText(runStore, where.reportJson.bucket, where.reportJson.key);
  const csv = await getText(runStore, where.reportCsv.bucket, where.reportCsv.key);
  // The run bucket goes with the local S3 when the run ends: point at the kept copy instead.
  const markdown = renderReport(RunReportSchema.parse(JSON.parse(json)), 'md', {
    location: resolve(directory, REPORT_FILES.json),
    maxFailed: MAX_FAILED_IN_SUMMARY,
  });
  const files: string[] = [];
  for (const [name, text] of [
    [REPORT_FILES.json, json],
    [REPORT_FILES.csv, csv],
    [REPORT_FILES.markdown, markdown],
  ] as const) {
    const path = resolve(directory, name);
    await context.writeTextFile(path, text);
    files.push(path);
  }
  return { directory, files };
}
