/**
 * The payloads that flow between the state machine and the Lambda steps.
 *
 * This module is the contract between `statemachine/` (which routes these shapes with JSONPath),
 * `functions/` (which produces and consumes them) and `local/runner/` (which executes the same
 * definition offline). Every payload here is bounded in size: nothing grows with the registry,
 * because a Step Functions state carries at most 256 KiB.
 */
import { z } from 'zod';

/** One replication destination: a Region in a registry (account), optionally written through a role. */
export const DestinationSchema = z.object({
  region: z.string(),
  registryId: z.string(),
  /** Role assumed for reads/writes in a destination account other than the source's. */
  roleArn: z.string().optional(),
});
export type Destination = z.infer<typeof DestinationSchema>;

/** A rule that replays source deletes in its destinations, as the plan and the report list it. */
export const DeleteReplicatingRuleSchema = z.object({
  /** Position of the rule in the replication configuration. */
  rule: z.number().int(),
  destinations: z.array(z.object({ region: z.string(), registryId: z.string() })),
  /** The rule's PREFIX_MATCH filters; empty = every repository. */
  repositoryFilters: z.array(z.string()),
});
export type DeleteReplicatingRule = z.infer<typeof DeleteReplicatingRuleSchema>;

export const STRATEGIES = ['promote', 'retag-source'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const METHODS = ['repush', 'native', 'auto'] as const;
export type Method = (typeof METHODS)[number];

/** The execution input after validation and defaults: what every later step reads. */
/** An OCI artifact type: a media type (`type/subtype`, RFC 6838 characters). */
export const ArtifactTypeSchema = z
  .string()
  .min(1, { error: 'must not be empty' })
  // ImageReferrer.artifactType: "Minimum length of 1. Maximum length of 255."
  // https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageReferrer.html
  .max(255)
  .regex(/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$/, {
    error: 'must be a media type such as application/spdx+json',
  });

/** Which referrers follow their image: all, none, or those of the listed artifact types (at most 100). */
export const ReferrerSelectionSchema = z.union([
  z.enum(['all', 'none']),
  z.array(ArtifactTypeSchema).min(1).max(100),
]);
export type ReferrerSelection = z.infer<typeof ReferrerSelectionSchema>;

export const RunConfigSchema = z.object({
  sourceRegion: z.string(),
  sourceRegistryId: z.string(),
  destinations: z.array(DestinationSchema),
  repositories: z.array(z.string()),
  tags: z.array(z.string()),
  excludeTags: z.array(z.string()),
  pushedAfter: z.string().optional(),
  latestPerRepository: z.number().int().optional(),
  includeUntagged: z.boolean(),
  includeArchived: z.boolean(),
  strategy: z.enum(STRATEGIES),
  method: z.enum(METHODS),
  dryRun: z.boolean(),
  maxConcurrency: z.number().int(),
  batchSize: z.number().int(),
  toleratedFailurePercentage: z.number(),
  replicationTimeoutMinutes: z.number(),
  /** Seconds the child waits after pushing before it first checks replication. */
  replicationWaitSeconds: z.number().int(),
  tempTagPrefix: z.string(),
  overwriteConflicts: z.boolean(),
  /** Repositories planned per PlanSlice invocation. */
  planSliceSize: z.number().int(),
  /** Which referrers follow their image (absent: all). */
  referrers: ReferrerSelectionSchema.optional(),
});
export type RunConfig = z.infer<typeof RunConfigSchema>;

/** Where an object lives in the run bucket. */
export const S3ObjectRefSchema = z.object({ bucket: z.string(), key: z.string() });
export type S3ObjectRef = z.infer<typeof S3ObjectRefSchema>;

// ---------------------------------------------------------------------------------------------
// Parent workflow: Plan → PlanSlices (Distributed Map) → FinalizePlan → BackfillImages → Summarize
// ---------------------------------------------------------------------------------------------

/** Input of the `Plan` task: the raw execution input plus execution context. */
export const PlanEventSchema = z.object({
  input: z.unknown(),
  executionName: z.string(),
  executionStartTime: z.string().optional(),
});
export type PlanEvent = z.infer<typeof PlanEventSchema>;

/** One line of `runs/<runId>/slices.jsonl`: the repositories one PlanSlice child plans. */
export const PlanSliceItemSchema = z.object({
  sliceIndex: z.number().int(),
  repositories: z.array(z.string()),
});
export type PlanSliceItem = z.infer<typeof PlanSliceItemSchema>;

/** Output of `Plan` (and the shape the parent carries until FinalizePlan). */
export const RunContextSchema = z.object({
  runId: z.string(),
  bucket: z.string(),
  runPrefix: z.string(),
  config: RunConfigSchema,
  slices: z.object({ key: z.string(), count: z.number().int() }),
  /** Repositories skipped before slicing (not covered by any rule for any selected destination). */
  notCoveredRepositories: z.number().int(),
  /** The replication rules that replicate deletes (core/ecr/delete-replication.ts). */
  deleteReplicatingRules: z.array(DeleteReplicatingRuleSchema).optional(),
  /**
   * Why the native engine may not run this execution, though its method could pick it: the run
   * policy's scope does not hold the replication rules' reach, or the policy does not allow native
   * (core/contracts/run-policy.ts). Absent: nothing bars it.
   */
  nativeBarred: z.array(z.string()).optional(),
  /**
   * The destinations a push of this run may replicate to besides the selected ones, each with the
   * role it is reached through (absent: directly). A push in the source replicates to every
   * destination of every rule covering the repository, selected or not, so its temp tag lands there
   * too; the batch steps wait for it and remove it there (docs/architecture.md §3.1). Plan always
   * sets it (the BackfillImages map's BatchInput reads it); Plan refuses a run whose pushes would
   * reach a destination it cannot reach (functions/plan/reached-destinations.ts).
   */
  reachedDestinations: z.array(DestinationSchema).optional(),
});
export type RunContext = z.infer<typeof RunContextSchema>;

/** Input of each `PlanSlice` child (the Distributed Map's ItemSelector builds it). */
export const PlanSliceEventSchema = z.object({
  runId: z.string(),
  bucket: z.string(),
  runPrefix: z.string(),
  config: RunConfigSchema,
  slice: PlanSliceItemSchema,
});
export type PlanSliceEvent = z.infer<typeof PlanSliceEventSchema>;

/** Outcome counters the planner and the report share. Keys are outcome names. */
export const OutcomeCountsSchema = z.record(z.string(), z.number().int());
export type OutcomeCounts = z.infer<typeof OutcomeCountsSchema>;

/**
 * What one PlanSlice wrote: its item file and counts. Also written to S3 as
 * `runs/<runId>/plan/slice-<n>.summary.json`, which FinalizePlan reads (authoritative).
 */
export const PlanSliceResultSchema = z.object({
  sliceIndex: z.number().int(),
  itemsKey: z.string(),
  items: z.number().int(),
  /**
   * The largest batch (bytes of items) of this slice's items whose child state stays within Step
   * Functions' 256 KiB (core/contracts/payload-bounds.ts). Absent in a summary written before it.
   */
  maxInputBytesPerBatch: z.number().int().optional(),
  /** Per outcome, counted per (digest, tag, destination): MISSING, DIVERGED, ALREADY_PRESENT, NOT_COVERED, SKIPPED_*. */
  counts: OutcomeCountsSchema,
  /** PutImage calls the backfill will need, per Region. */
  putImageCalls: z.record(z.string(), z.number().int()),
  /**
   * With a `tags` filter: how many source images carry a tag it keeps, and, when none does, the
   * slice's tags closest to the patterns (FinalizePlan names them if the whole run matched none).
   */
  tagFilter: z.object({ matches: z.number().int(), nearby: z.array(z.string()) }).optional(),
});
export type PlanSliceResult = z.infer<typeof PlanSliceResultSchema>;

export const PlanSummarySchema = z.object({
  items: z.number().int(),
  tags: z.number().int(),
  counts: OutcomeCountsSchema,
  putImageCalls: z.record(z.string(), z.number().int()),
  /** Lower bound in seconds set by the PutImage quota of the busiest Region. */
  quotaBoundSeconds: z.number(),
  estimatedCostUsd: z.number(),
  /** Which engine runs the backfill and why (method `auto` explains its choice). */
  engine: z.object({ method: z.enum(['repush', 'native']), reason: z.string() }),
});
export type PlanSummary = z.infer<typeof PlanSummarySchema>;

// ---------------------------------------------------------------------------------------------
// Native engine (method native/auto): per destination, ECR's StartReplicationBackfill, polled to a
// terminal status; then our own verification of every planned tag, and a re-push of what it missed.
// https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-backfill.html
// ---------------------------------------------------------------------------------------------

/** ReplicationBackfillStatus (SDK model). Active: the first two and STOPPING; terminal: the rest. */
export const NATIVE_BACKFILL_STATUSES = [
  'PREPARING',
  'IN_PROGRESS',
  'COMPLETE',
  'FAILED',
  'STOPPING',
  'STOPPED',
] as const;
export type NativeBackfillStatus = (typeof NATIVE_BACKFILL_STATUSES)[number];

/** Report outcome of a planned (tag, destination) that the native backfill delivered, as we verified it. */
export const NATIVE_BACKFILLED = 'NATIVE_BACKFILLED';

/** ReplicationBackfillProgress: each image and tag combination counts as one replication. */
export const NativeBackfillProgressSchema = z.object({
  total: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  failureCodes: z.array(z.string()),
});
export type NativeBackfillProgress = z.infer<typeof NativeBackfillProgressSchema>;

/** Input of each iteration of the NativeBackfills map (one per destination; its ItemSelector builds it). */
export const NativeDestinationEventSchema = z.object({
  runId: z.string(),
  bucket: z.string(),
  runPrefix: z.string(),
  sourceRegion: z.string(),
  sourceRegistryId: z.string(),
  /** For the native engine: how long a backfill (ours, or one we queue behind) may make no progress. */
  replicationTimeoutMinutes: z.number(),
  destination: DestinationSchema,
});
export type NativeDestinationEvent = z.infer<typeof NativeDestinationEventSchema>;

/** What the native steps of one destination take and return. Bounded: counts, ids and keys only. */
export const NativeBackfillStateSchema = NativeDestinationEventSchema.extend({
  /** Absent: no backfill ran for this destination (see `note`); verification then finds everything missing. */
  backfill: z
    .object({
      id: z.string(),
      /** An active backfill for this destination existed: watched, never started twice, never stopped by us. */
      adopted: z.boolean(),
      status: z.enum(NATIVE_BACKFILL_STATUSES),
      failureCode: z.string().optional(),
      progress: NativeBackfillProgressSchema.optional(),
    })
    .optional(),
  /** Set by NativeCheckBackfill: the backfill made no progress for replicationTimeoutMinutes (→ NativeStopBackfill). */
  stalled: z.boolean().optional(),
  /** The per-image results (DescribeReplicationBackfillResults), once terminal, as JSON Lines in the run bucket. */
  results: z.object({ key: z.string(), count: z.number().int(), failed: z.number().int() }).optional(),
  note: z.string().optional(),
});
export type NativeBackfillState = z.infer<typeof NativeBackfillStateSchema>;

/** One destination in the native summary of a run (plan.json's sibling report and the execution state). */
export const NativeDestinationSummarySchema = z.object({
  region: z.string(),
  registryId: z.string(),
  backfillId: z.string().optional(),
  adopted: z.boolean(),
  /** The backfill's last status, or NOT_STARTED. */
  status: z.string(),
  failureCode: z.string().optional(),
  progress: NativeBackfillProgressSchema.optional(),
  resultsKey: z.string().optional(),
  note: z.string().optional(),
  /** Planned (tag, destination) pairs we verified at the source digest. */
  verified: z.number().int(),
  /** Planned (tag, destination) pairs handed to the re-push engine. */
  repair: z.number().int(),
});
export type NativeDestinationSummary = z.infer<typeof NativeDestinationSummarySchema>;

/** Written by NativeVerify; travels with the run to Summarize (and the CLI's report of a failed run). */
export const NativeRunSchema = z.object({
  /** The plan's own items (the run's `items` now holds the repair items the BackfillImages map reads). */
  plannedItems: z.object({ key: z.string(), count: z.number().int() }),
  destinations: z.array(NativeDestinationSummarySchema),
  /** JSON Lines of ReportRow, outcome NATIVE_BACKFILLED: what the native backfill delivered, verified. */
  verifiedKey: z.string(),
  verified: z.number().int(),
  repair: z.number().int(),
});
export type NativeRun = z.infer<typeof NativeRunSchema>;

/** Output of `FinalizePlan`: the run context plus the merged item file and the plan summary. */
export const PlannedRunSchema = RunContextSchema.extend({
  /**
   * The work items the BackfillImages map reads: the plan's, or after the native engine its repair
   * items; and the map's MaxInputBytesPerBatch for them (core/contracts/payload-bounds.ts).
   */
  items: z.object({
    key: z.string(),
    count: z.number().int(),
    maxInputBytesPerBatch: z.number().int().optional(),
  }),
  plan: PlanSummarySchema,
  /** Set by NativeVerify when the native engine ran. */
  native: NativeRunSchema.optional(),
});
export type PlannedRun = z.infer<typeof PlannedRunSchema>;

/** Input of NativeVerify: the planned run plus the NativeBackfills map's output (one state per destination). */
export const NativeVerifyEventSchema = PlannedRunSchema.extend({
  nativeBackfills: z.array(NativeBackfillStateSchema),
});
export type NativeVerifyEvent = z.infer<typeof NativeVerifyEventSchema>;

// ---------------------------------------------------------------------------------------------
// Work items (one JSON line per source image digest in `runs/<runId>/items.jsonl`)
// ---------------------------------------------------------------------------------------------

/**
 * A source referrer of the item's image (OCI 1.1: a signature, an SBOM, an attestation), found
 * transitively with ListImageReferrers. Compact on purpose: items travel in Step Functions payloads.
 */
export const PlannedReferrerSchema = z.object({
  digest: z.string(),
  /** Its manifest's media type (PutImage needs it: OCI artifacts often have no top-level mediaType). */
  mediaType: z.string(),
  artifactType: z.string().optional(),
});
export type PlannedReferrer = z.infer<typeof PlannedReferrerSchema>;

export const ItemDestinationSchema = DestinationSchema.extend({
  /** Source tags that must end at this digest in the destination (missing or diverged there). */
  tags: z.array(z.string()),
  /** The digest already exists in the destination: no replication needed, only tags. */
  digestPresent: z.boolean(),
  /** Digests of the item's referrers this destination lacks, in the item's order (absent: none). */
  referrers: z.array(z.string()).optional(),
});
export type ItemDestination = z.infer<typeof ItemDestinationSchema>;

export const WorkItemSchema = z.object({
  repositoryName: z.string(),
  imageDigest: z.string(),
  imageManifestMediaType: z.string(),
  artifactMediaType: z.string().optional(),
  /** Every selected source tag of this digest at plan time. Empty for an untagged image. */
  tags: z.array(z.string()),
  destinations: z.array(ItemDestinationSchema),
  /**
   * The source image's imagePushedAt at plan time (epoch ms). A re-tag leaves it alone; an image
   * its owner deleted and our put re-created has a newer one (PushTempTags undoes that put).
   */
  imagePushedAt: z.number().optional(),
  /**
   * The image's referrers in the source, transitively, each subject before its referrers (absent:
   * none). They are copied untagged, never re-pushed under a temp tag.
   */
  referrers: z.array(PlannedReferrerSchema).optional(),
  /**
   * Which part of its image this item is, when the image's tags were split over several items so
   * that a child's state stays within 256 KiB (core/contracts/payload-bounds.ts). Absent: the whole
   * image. Parts share the digest and its temp tag; each has its own tags.
   */
  part: z.number().int().optional(),
});
export type WorkItem = z.infer<typeof WorkItemSchema>;

// ---------------------------------------------------------------------------------------------
// Child workflow (one per batch): PushTempTags → [RetagSourceTags] → WaitForReplication →
// CheckReplication → [PromoteTags] → VerifyDigests → CleanupTempTags → FinishBatch
// ---------------------------------------------------------------------------------------------

/** The ItemBatcher's BatchInput: what every child step needs besides the items. */
export const BatchInputSchema = z.object({
  runId: z.string(),
  bucket: z.string(),
  runPrefix: z.string(),
  sourceRegion: z.string(),
  sourceRegistryId: z.string(),
  strategy: z.enum(STRATEGIES),
  tempTagPrefix: z.string(),
  overwriteConflicts: z.boolean(),
  includeUntagged: z.boolean(),
  replicationTimeoutMinutes: z.number(),
  replicationWaitSeconds: z.number().int(),
  /**
   * RunContext.reachedDestinations: the unselected destinations the pushes replicate to, with the
   * role each is reached through, so PushTempTags, RetagSourceTags and CleanupTempTags call them as
   * the deployment may (functions/step-kit/step-context.ts). Absent in a batch of an older run.
   */
  reachedDestinations: z.array(DestinationSchema).optional(),
});
export type BatchInput = z.infer<typeof BatchInputSchema>;

/** Outcome of one tag in one destination. Failures are the last three. */
export const TAG_OUTCOMES = [
  'PENDING',
  'BACKFILLED',
  'ALREADY_PRESENT',
  'MOVED',
  'CONFLICT',
  'OVERWRITTEN',
  'SOURCE_GONE',
  'REPLICATION_FAILED',
  'REPLICATION_TIMEOUT',
  'DIGEST_MISMATCH',
] as const;
export type TagOutcome = (typeof TAG_OUTCOMES)[number];
export const FAILURE_OUTCOMES: ReadonlySet<TagOutcome> = new Set([
  'REPLICATION_FAILED',
  'REPLICATION_TIMEOUT',
  'DIGEST_MISMATCH',
]);

export const REPLICATION_STATES = ['NOT_NEEDED', 'PENDING', 'COMPLETE', 'FAILED', 'TIMEOUT'] as const;

export const DestinationResultSchema = z.object({
  region: z.string(),
  registryId: z.string(),
  replication: z.enum(REPLICATION_STATES),
  failureCode: z.string().optional(),
  tags: z.record(z.string(), z.enum(TAG_OUTCOMES)),
  /**
   * A destination the push replicates to although the item lists nothing to deliver there (every tag
   * conflicted there at plan time, or the input did not select it). Tracked, without tags, only so
   * the run's temp tag can be waited for and removed there. Listed after the item's destinations.
   */
  extra: z.boolean().optional(),
  /** Extra destinations: whether the digest was there before the run pushed it (absent: unknown). */
  digestPresent: z.boolean().optional(),
  /**
   * Per referrer digest the item's destination lacked: PENDING, BACKFILLED (copied), ALREADY_PRESENT,
   * SOURCE_GONE (its owner deleted it in the source), or DIGEST_MISMATCH (still missing at
   * verification: fails the batch like a tag would).
   */
  referrers: z.record(z.string(), z.enum(TAG_OUTCOMES)).optional(),
});
export type DestinationResult = z.infer<typeof DestinationResultSchema>;

export const ItemResultSchema = z.object({
  repositoryName: z.string(),
  imageDigest: z.string(),
  /** The item's `part`, when its image was split (WorkItem.part). */
  part: z.number().int().optional(),
  /** The run's temp tag for this digest (deterministic from run id + digest). */
  tempTag: z.string(),
  /** Epoch ms of the first PushTempTags put (or of the finding that none was needed). */
  pushedAt: z.number().optional(),
  destinations: z.array(DestinationResultSchema),
  /** Source-side note, e.g. the source image disappeared during the run. */
  note: z.string().optional(),
  /**
   * Strategy `retag-source` only: per original tag, milliseconds between deleting it in the source and
   * putting it back (the tag's unavailability window), as measured by RetagSourceTags.
   */
  sourceTagUnavailableMs: z.record(z.string(), z.number()).optional(),
  /** The artifact type of each referrer the item copies (from the plan), so the report counts them by type. */
  referrerTypes: z.record(z.string(), z.string()).optional(),
});
export type ItemResult = z.infer<typeof ItemResultSchema>;

/** What every child step takes and returns (Items never change; results evolve). */
export const BatchStateSchema = z.object({
  BatchInput: BatchInputSchema,
  Items: z.array(WorkItemSchema),
  results: z.array(ItemResultSchema).optional(),
});
export type BatchState = z.infer<typeof BatchStateSchema>;

/** Output of FinishBatch: the child's result, written by the ResultWriter (SUCCEEDED_n.json). */
export const BatchResultSchema = z.object({
  runId: z.string(),
  results: z.array(ItemResultSchema),
  counts: OutcomeCountsSchema,
});
export type BatchResult = z.infer<typeof BatchResultSchema>;

// ---------------------------------------------------------------------------------------------
// Summarize
// ---------------------------------------------------------------------------------------------

/** Input of `Summarize`: the planned run plus the BackfillImages map's ResultWriter details. */
export const SummarizeEventSchema = PlannedRunSchema.extend({
  backfill: z
    .object({
      MapRunArn: z.string().optional(),
      ResultWriterDetails: z.object({ Bucket: z.string(), Key: z.string() }).optional(),
    })
    .optional(),
});
export type SummarizeEvent = z.infer<typeof SummarizeEventSchema>;

export const RunReportSummarySchema = z.object({
  runId: z.string(),
  status: z.enum(['SUCCEEDED', 'FAILED', 'DRY_RUN']),
  counts: OutcomeCountsSchema,
  failedItems: z.number().int(),
  reportJson: S3ObjectRefSchema,
  reportCsv: S3ObjectRefSchema,
  /**
   * Referrers the run copied or found, per artifact type and outcome, counted per (referrer,
   * destination) (absent: none planned). A referrer without an artifact type counts under `(none)`.
   */
  referrers: z.record(z.string(), OutcomeCountsSchema).optional(),
});
export type RunReportSummary = z.infer<typeof RunReportSummarySchema>;

/**
 * One row of report.csv / report.json: a (repository, digest, tag, destination) and its outcome, or a
 * (referrer, destination) and its outcome (referrerOf).
 */
export const ReportRowSchema = z.object({
  repositoryName: z.string(),
  imageDigest: z.string(),
  tag: z.string(),
  destinationRegion: z.string(),
  destinationRegistryId: z.string(),
  outcome: z.string(),
  detail: z.string().optional(),
  /**
   * A referrer's row (one per referrer and destination): `imageDigest` is the referrer's, `tag` is
   * empty, and this is the digest of the image it follows (its subject, or its subject's subject for
   * a signature of an SBOM). Absent on a tag's row.
   */
  referrerOf: z.string().optional(),
  /** A referrer's artifact type (ImageReferrer.artifactType), when it has one. */
  artifactType: z.string().optional(),
});
export type ReportRow = z.infer<typeof ReportRowSchema>;

/** Whether a report row is a referrer's (ReportRow.referrerOf), not a tag's. */
export const isReferrerRow = (row: ReportRow): boolean => row.referrerOf !== undefined;

/** How a report counts a referrer without an artifact type. */
export const NO_ARTIFACT_TYPE = '(none)';

/**
 * The summary at the end of report.json: the run's summary (the execution's output) and what only
 * the report holds.
 */
export const RunReportFileSummarySchema = RunReportSummarySchema.extend({
  /** Rows of the report: one per (repository, digest, tag, destination). */
  rows: z.number().int(),
  /** Work items (source digests) the run planned. */
  items: z.number().int(),
  plan: PlanSummarySchema.extend({
    /** Absent in a report written before the engines existed; Summarize always writes it. */
    engine: PlanSummarySchema.shape.engine.optional(),
  }),
  /** The replication rules that replicate deletes, when any (docs/architecture.md §3.2 #9). */
  deleteReplicatingRules: z.array(DeleteReplicatingRuleSchema).optional(),
  /** The BackfillImages map's ResultWriter manifest the rows were read from, and its files per status. */
  mapResults: S3ObjectRefSchema.extend({ files: z.record(z.string(), z.number().int()) }).optional(),
  mapRunArn: z.string().optional(),
  /** Set when the native engine ran. */
  native: NativeRunSchema.optional(),
});
export type RunReportFileSummary = z.infer<typeof RunReportFileSummarySchema>;

/**
 * `runs/<runId>/report.json`, as Summarize writes it (functions/summarize/) and every reader parses
 * it (`ecr-backfill report`, the offline runs). On disk the rows come before the summary: the
 * counts are known only at the end, and the rows are streamed.
 */
export const RunReportSchema = z.object({
  runId: z.string(),
  /** When the report was written (ISO 8601). */
  generatedAt: z.string(),
  rows: z.array(ReportRowSchema),
  summary: RunReportFileSummarySchema,
});
export type RunReport = z.infer<typeof RunReportSchema>;
