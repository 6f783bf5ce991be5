/**
 * Delivery evidence: what proves that a flow log delivered records during the window. Silence is
 * never evidence — a rule may be called unused only when every ENI carrying it was covered by a
 * flow log that demonstrably delivered, bucket by bucket (a day by default), over the whole
 * window. Flow sources report two kinds of proof beside their aggregates:
 *  - {@link DeliveryCount}: records actually read (any log-status: NODATA and SKIPDATA records
 *    prove delivery as well as data records), per flow log, ENI and bucket;
 *  - {@link DeliveryCounter}: the source's own counters (CloudWatch `IncomingLogEvents`, S3
 *    objects named after the flow log, files of an export) held against what the query read, so
 *    a query that silently matched less than was delivered is caught.
 */

/*
 * Buckets are aligned to the epoch: with the default length of 86,400 s a bucket is a UTC day
 * (what S3's day folders hold), with 3,600 s an hour. A record belongs to the bucket of its
 * `start`; a bucket is named by its start, `floor(start / length) * length`.
 */

/** Records read from one flow log for one ENI in one bucket of the window. */
export interface DeliveryCount {
  /** The flow log the records came from; null when the source cannot tell (an unnamed file). */
  readonly flowLogId: string | null;
  readonly eniId: string;
  /** Epoch seconds: the start of the record's bucket (a multiple of the bucket length). */
  readonly bucketStart: number;
  /** Records of any log-status. */
  readonly records: number;
}

/** What a counter counted. */
export const DELIVERY_COUNTER_KINDS = ['incoming-log-events', 's3-objects', 'export-files'] as const;
export type DeliveryCounterKind = (typeof DELIVERY_COUNTER_KINDS)[number];

/** A source's own count of what was delivered, beside what the run read of it. */
export interface DeliveryCounter {
  readonly kind: DeliveryCounterKind;
  /** The flow logs the counter speaks for (one for S3 objects and files; every writer of a log group). */
  readonly flowLogIds: readonly string[];
  /** What was counted: a log group, an S3 prefix, an export folder. */
  readonly subject: string;
  /** The bucket counted (its start, epoch seconds); absent when the count covers the whole window. */
  readonly bucketStart?: number;
  /** Units delivered according to the source (log events, objects, files). */
  readonly delivered: number;
  /** The same units the run read (events scanned, objects or files with records read). */
  readonly read: number;
}

/**
 * How a flow log's delivery over the window was judged: `complete` every expected bucket proven;
 * `gaps` some; `silent` none (nothing read, nothing counted); `inconsistent` a counter disagrees
 * with what was read, so nothing of it is trusted; `not-read` no source read it (no reader for its
 * destination, a failed query).
 */
export const DELIVERY_STATUSES = ['complete', 'gaps', 'silent', 'inconsistent', 'not-read'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A run of unproven buckets, as times. */
export interface DeliveryGap {
  /** Epoch seconds, inclusive. */
  readonly from: number;
  readonly to: number;
}

/** The delivery of one flow log over the window, as the report states it. */
export interface FlowLogDelivery {
  readonly flowLogId: string;
  /** vpc-…, subnet-… or eni-… */
  readonly resourceId: string;
  readonly status: DeliveryStatus;
  /** Records read per bucket of the report's `buckets`, oldest first. */
  readonly records: readonly number[];
  /** Whether each bucket is proven. */
  readonly proven: readonly boolean[];
  /** Whether the log was expected to deliver in each bucket (it existed for enough of it, the window covers enough of it). */
  readonly expected: readonly boolean[];
  /** Unproven runs of expected buckets, oldest first. */
  readonly gaps: readonly DeliveryGap[];
  /** Counters that disagree with what was read, in words. */
  readonly inconsistencies: readonly string[];
}

/** The report's delivery section. */
export interface DeliveryReport {
  readonly bucketSeconds: number;
  /** The window's buckets, oldest first: their start and the part of them inside the window (epoch seconds). */
  readonly buckets: readonly { readonly start: number; readonly from: number; readonly to: number }[];
  readonly flowLogs: readonly FlowLogDelivery[];
}
