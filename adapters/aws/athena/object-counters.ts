/**
 * S3's own count of what a flow log delivered, held against what its Athena query read: the
 * flow log's objects in the partitions the query scans (ListObjectsV2 on the day folders, its
 * objects by the id in their names), per bucket of their delivery time, beside the objects the
 * query's `file` rows name (buildFlowSinglePassSql `sourceFile`: one scan, no second query). An
 * object delivered but not read — gone between listing and scan, unreadable, header only — makes
 * the counter disagree, and the flow log inconsistent (shared/coverage/delivery.ts).
 *
 * Only objects S3 stored before the query started count: one delivered while the query ran may
 * or may not have been read, and is neither evidence nor a difference.
 */
import type { SourceFileRead } from '../../../shared/flow/aggregate-sql';
import type { DeliveryCounter } from '../../../shared/model/delivery';
import type { TimeWindow } from '../../../shared/model/flow';
import { deliveryStampOf, type FlowLogObject } from '../flow-log-transfer';

/** The layout and partitions of one flow log's table (an AthenaFlowTable fits). */
export interface CountedTable {
  readonly flowLogId: string;
  readonly perHour: boolean;
  readonly hivePartitions?: boolean;
}

export interface ObjectCounterOptions {
  readonly window: TimeWindow;
  /** How far past the window's end the query's partitions reach (DEFAULT_DELIVERY_SLACK_SECONDS). */
  readonly deliverySlackSeconds: number;
  /** Bucket length of the counters (86,400: UTC days). */
  readonly bucketSeconds: number;
  /** Epoch seconds: objects stored at or after it are not counted (the query may have missed them). */
  readonly queryStartedAt?: number;
}

const PLAIN_FOLDER = /\/(\d{4})\/(\d{2})\/(\d{2})\/(?:(\d{2})\/)?[^/]+$/;
const HIVE_FOLDER = /\/year=(\d{4})\/month=(\d{2})\/day=(\d{2})\/(?:hour=(\d{2})\/)?[^/]+$/;

/**
 * The partition an object lies in, as epoch seconds of its day (or hour) folder.
 *
 * @example objectPartitionTime('AWSLogs/1/vpcflowlogs/r/2024/06/01/1_vpcflowlogs_r_fl-1_20240601T0910Z_a.log.gz', false) // 1717200000
 */
export function objectPartitionTime(key: string, hivePartitions: boolean): number | undefined {
  const match = (hivePartitions ? HIVE_FOLDER : PLAIN_FOLDER).exec(`/${key}`);
  if (!match) return undefined;
  const [, y, m, d, h] = match;
  const ms = Date.UTC(Number(y), Number(m) - 1, Number(d), h === undefined ? 0 : Number(h));
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

/** The S3 key of `s3://bucket/key` (Athena's "$path"), or the text as is. */
function keyOf(path: string): string {
  const match = /^s3:\/\/[^/]+\/(.*)$/.exec(path);
  return match?.[1] ?? path;
}

const isoDay = (seconds: number, bucketSeconds: number): string =>
  new Date(seconds * 1000).toISOString().slice(0, bucketSeconds % 86_400 === 0 ? 10 : 13);

/**
 * One counter per bucket of delivery: the flow log's listed objects in the partitions the query
 * scanned, and how many of them the query read.
 *
 * @example s3ObjectCounters(table, listed, reads, { window, deliverySlackSeconds: 3600, bucketSeconds: 86400 })
 * // [{ kind: 's3-objects', flowLogIds: ['fl-1'], bucketStart: 1717200000, delivered: 288, read: 288, … }]
 */
export function s3ObjectCounters(
  table: CountedTable,
  listed: readonly FlowLogObject[],
  reads: readonly SourceFileRead[],
  options: ObjectCounterOptions,
): DeliveryCounter[] {
  const { window, bucketSeconds } = options;
  const unit = table.perHour ? 3600 : 86_400;
  const first = Math.floor(window.start / unit);
  const last = Math.floor((window.end + options.deliverySlackSeconds) / unit);
  const readKeys = new Set(reads.map((r) => keyOf(r.file)));
  const counters = new Map<number, { bucket: string; delivered: number; read: number }>();
  for (const object of listed) {
    const partition = objectPartitionTime(object.key, table.hivePartitions === true);
    if (partition === undefined) continue;
    const slot = Math.floor(partition / unit);
    if (slot < first || slot > last) continue;
    if (
      options.queryStartedAt !== undefined &&
      object.lastModified !== undefined &&
      object.lastModified >= options.queryStartedAt
    ) {
      continue;
    }
    const time = deliveryStampOf(object.key) ?? partition;
    const bucketStart = time - (time % bucketSeconds);
    const counter = counters.get(bucketStart) ?? { bucket: object.bucket, delivered: 0, read: 0 };
    counter.delivered += 1;
    if (readKeys.has(object.key)) counter.read += 1;
    counters.set(bucketStart, counter);
  }
  return [...counters]
    .sort(([a], [b]) => a - b)
    .map(([bucketStart, c]) => ({
      kind: 's3-objects',
      flowLogIds: [table.flowLogId],
      subject: `s3://${c.bucket} objects of ${table.flowLogId} delivered ${isoDay(bucketStart, bucketSeconds)}`,
      bucketStart,
      delivered: c.delivered,
      read: c.read,
    }));
}
