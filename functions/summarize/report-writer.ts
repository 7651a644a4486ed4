/**
 * Writes report.json and report.csv side by side as streams, row by row, so a report of millions of
 * rows never exists as one string. report.json puts the rows first and the summary last (counts are
 * only known at the end; JSON object member order carries no meaning). Its shape is RunReportSchema
 * (core/contracts/contracts.ts): the head, the rows and the summary are typed by it.
 */
import type { RunStore } from '../../core/run-files/run-store.ts';
import type { ReportRow, RunReport } from '../../core/contracts/contracts.ts';
import { StreamingTextWriter } from '../../core/run-files/run-store.ts';

/** Rows are written to S3 in chunks of about this many bytes. */
const FLUSH_BYTES = 64 * 1024;

export const CSV_COLUMNS = [
  'repository',
  'digest',
  'tag',
  'destination_region',
  'destination_registry_id',
  'outcome',
  'detail',
  // A referrer's row (one per referrer and destination): its artifact type, and the digest of the
  // image it follows (the `digest` column is the referrer's own). Empty on a tag's row.
  'artifact_type',
  'referrer_of',
] as const;

/** RFC 4180: quote a field holding a comma, quote, CR or LF; double the quotes inside. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

export function csvRow(row: ReportRow): string {
  return csvLine([
    row.repositoryName,
    row.imageDigest,
    row.tag,
    row.destinationRegion,
    row.destinationRegistryId,
    row.outcome,
    row.detail ?? '',
    row.artifactType ?? '',
    row.referrerOf ?? '',
  ]);
}

class ChunkedWriter {
  constructor(
    private readonly target: StreamingTextWriter,
    private buffer = '',
  ) {}

  async write(text: string): Promise<void> {
    this.buffer += text;
    if (this.buffer.length >= FLUSH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffer === '') return;
    const chunk = this.buffer;
    this.buffer = '';
    await this.target.write(chunk);
  }
}

export class ReportWriter {
  private readonly json: StreamingTextWriter;
  private readonly csv: StreamingTextWriter;
  private readonly jsonChunks: ChunkedWriter;
  private readonly csvChunks: ChunkedWriter;
  private rowsWritten = 0;

  constructor(
    store: RunStore,
    bucket: string,
    readonly jsonKey: string,
    readonly csvKey: string,
    head: Omit<RunReport, 'rows' | 'summary'>,
  ) {
    this.json = new StreamingTextWriter(store, bucket, jsonKey, 'application/json');
    this.csv = new StreamingTextWriter(store, bucket, csvKey, 'text/csv; charset=utf-8');
    const headJson = JSON.stringify(head);
    // `{...head, "rows": [` — the head object without its closing brace.
    this.jsonChunks = new ChunkedWriter(
      this.json,
      `${headJson.slice(0, -1)}${headJson.length > 2 ? ',' : ''}"rows":[\n`,
    );
    this.csvChunks = new ChunkedWriter(this.csv, csvLine(CSV_COLUMNS));
  }

  get rows(): number {
    return this.rowsWritten;
  }

  async writeRow(row: ReportRow): Promise<void> {
    await this.jsonChunks.write(`${this.rowsWritten > 0 ? ',\n' : ''}${JSON.stringify(row)}`);
    await this.csvChunks.write(csvRow(row));
    this.rowsWritten += 1;
  }

  async close(summary: RunReport['summary']): Promise<void> {
    await this.jsonChunks.write(`\n],"summary":${JSON.stringify(summary)}}\n`);
    await Promise.all([this.jsonChunks.flush(), this.csvChunks.flush()]);
    await Promise.all([this.json.close(), this.csv.close()]);
  }

  async abort(): Promise<void> {
    await Promise.all([this.json.abort(), this.csv.abort()]);
  }
}
