/** One API call as the emulator saw it. */
export interface CallLogEntry {
  seq: number;
  /** Epoch milliseconds when the call arrived. */
  time: number;
  operation: string;
  region: string;
  account: string;
  params: CallParams;
  /** 'ok' or the error code returned (`NetworkError` when the connection was dropped). */
  outcome: string;
  throttled: boolean;
  /** True when fault injection (random or scripted) decided the outcome. */
  injected: boolean;
  durationMs: number;
}

/** A summary of the request, enough to tell calls apart without keeping manifests or blobs. */
export interface CallParams {
  repositoryName?: string;
  imageTag?: string;
  imageDigest?: string;
  /** imageIds as `tag` or `digest` or `tag@digest` strings. */
  imageIds?: string[];
  layerDigests?: string[];
  uploadId?: string;
  replicationBackfillId?: string;
  destination?: string;
  nextToken?: boolean;
}

export type CallFilter = Partial<
  Pick<CallLogEntry, 'operation' | 'region' | 'account' | 'outcome' | 'throttled'>
> & {
  repositoryName?: string;
};

/** In-memory call log with a size cap (oldest entries dropped first) and live subscribers. */
export class CallLog {
  private readonly log: CallLogEntry[] = [];
  private readonly listeners = new Set<(entry: CallLogEntry) => void>();
  private seq = 0;

  constructor(private readonly limit = 200_000) {}

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  record(entry: CallLogEntry): void {
    this.log.push(entry);
    if (this.log.length > this.limit) {
      this.log.splice(0, this.log.length - this.limit);
    }
    for (const listener of this.listeners) listener(entry);
  }

  /** Entries in arrival order, optionally filtered. */
  entries(filter: CallFilter = {}): CallLogEntry[] {
    return this.log.filter((entry) => matches(entry, filter));
  }

  count(filter: CallFilter = {}): number {
    let n = 0;
    for (const entry of this.log) if (matches(entry, filter)) n += 1;
    return n;
  }

  subscribe(listener: (entry: CallLogEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  clear(): void {
    this.log.length = 0;
  }

  get size(): number {
    return this.log.length;
  }
}

function matches(entry: CallLogEntry, filter: CallFilter): boolean {
  return (
    (filter.operation === undefined || entry.operation === filter.operation) &&
    (filter.region === undefined || entry.region === filter.region) &&
    (filter.account === undefined || entry.account === filter.account) &&
    (filter.outcome === undefined || entry.outcome === filter.outcome) &&
    (filter.throttled === undefined || entry.throttled === filter.throttled) &&
    (filter.repositoryName === undefined || entry.params.repositoryName === filter.repositoryName)
  );
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Builds the params summary from a request body. */
export function summarizeParams(input: Record<string, unknown>): CallParams {
  const params: CallParams = {};
  if (typeof input.repositoryName === 'string') params.repositoryName = input.repositoryName;
  if (typeof input.imageTag === 'string') params.imageTag = input.imageTag;
  if (typeof input.imageDigest === 'string') params.imageDigest = input.imageDigest;
  const ids = Array.isArray(input.imageIds) ? input.imageIds : isRecord(input.imageId) ? [input.imageId] : [];
  if (ids.length > 0) {
    params.imageIds = ids.map((id) => {
      if (!isRecord(id)) return '?';
      const tag = typeof id.imageTag === 'string' ? id.imageTag : undefined;
      const digest = typeof id.imageDigest === 'string' ? id.imageDigest : undefined;
      return tag && digest ? `${tag}@${digest}` : (tag ?? digest ?? '?');
    });
  }
  if (Array.isArray(input.layerDigests))
    params.layerDigests = input.layerDigests.filter((d) => typeof d === 'string');
  if (typeof input.uploadId === 'string') params.uploadId = input.uploadId;
  if (typeof input.replicationBackfillId === 'string')
    params.replicationBackfillId = input.replicationBackfillId;
  if (isRecord(input.destination)) {
    params.destination = `${String(input.destination.registryId)}/${String(input.destination.region)}`;
  }
  if (input.nextToken !== undefined) params.nextToken = true;
  return params;
}
