/**
 * Delivery proof (design semantics 6): a flow log covers an ENI for a bucket of the window (a UTC
 * day by default) only when it is proven to have delivered then — records of any log-status from
 * it were read (for an ENI-level log, for that ENI; for a VPC- or subnet-level log, for any ENI it
 * covers), or a consistent counter of the source says so. A counter that disagrees with what was
 * read makes every flow log it speaks for inconsistent: nothing of it is trusted.
 *
 * The evidence comes from the flow sources (FlowSourceStats.deliveries / counters); this module
 * turns it into, per flow log, the buckets proven and the gaps, which computeCoverage uses to
 * decide whether an ENI is fully covered, and which the report shows per flow log and bucket.
 */
import type {
  DeliveryCount,
  DeliveryCounter,
  DeliveryCounterKind,
  DeliveryGap,
  DeliveryReport,
  DeliveryStatus,
  FlowLogDelivery,
} from '../model/delivery';
import type { FlowAggregate, TimeWindow } from '../model/flow';
import type { FlowLogConfig, Inventory } from '../model/inventory';

/** What the flow sources said about delivery. */
export interface DeliveryEvidence {
  readonly counts: readonly DeliveryCount[];
  readonly counters: readonly DeliveryCounter[];
  /**
   * Flow logs some source read (or tried to: a source that read a flow log and found nothing
   * still read it). Absent: every flow log of the inventory was read.
   */
  readonly readFlowLogIds?: ReadonlySet<string>;
}

export interface DeliveryOptions {
  /** Bucket length in seconds: 86,400 (UTC days) or 3,600 (hours). */
  readonly bucketSeconds: number;
  /** Unproven buckets an ENI may have and still count as fully covered; 0 is strict. */
  readonly toleranceBuckets: number;
  /** Relative difference between a counter and what was read that still agrees (0.05 = 5 %). */
  readonly counterTolerance: number;
}

/** One bucket of a window. */
export interface WindowBucket {
  /** Epoch seconds, a multiple of the bucket length. */
  readonly start: number;
  /** The part of the bucket inside the window (inclusive). */
  readonly from: number;
  readonly to: number;
  /**
   * Whether delivery must be proven in it: the window covers at least a quarter of it, or half of
   * the window lies in it (a week that starts three seconds before midnight asks nothing of that
   * day's last three seconds; a ten-minute window asks for proof in its ten minutes).
   */
  readonly required: boolean;
}

/** The proof per flow log, and what computeCoverage and the report read of it. */
export interface DeliveryProof {
  readonly options: DeliveryOptions;
  /** The window's buckets, oldest first. */
  readonly buckets: readonly WindowBucket[];
  /**
   * Whether each bucket is proven for a flow log on an ENI: for an ENI-level log its records for
   * that ENI, for a VPC- or subnet-level log its records for any ENI; plus consistent counters.
   * All false for an inconsistent log.
   */
  provenFor(flowLogId: string, eniId: string): readonly boolean[];
  /** Whether the log was expected to deliver in each bucket (required, and it existed for enough of it). */
  expectedFor(flowLogId: string): readonly boolean[];
  /** Per flow log: why its evidence is not trusted (counter mismatches); empty when trusted. */
  inconsistencies(flowLogId: string): readonly string[];
  readonly report: DeliveryReport;
}

/**
 * The start of the bucket holding a time.
 *
 * @example bucketStartOf(Date.parse('2026-11-17T13:05:00Z') / 1000, 86400) // 1763337600 (2026-11-17)
 */
export function bucketStartOf(time: number, bucketSeconds: number): number {
  return Math.floor(time / bucketSeconds) * bucketSeconds;
}

/**
 * The buckets a window touches, oldest first.
 *
 * @example windowBuckets({ start: 1763337600, end: 1763942399 }, 86400).length // 7
 */
export function windowBuckets(window: TimeWindow, bucketSeconds: number): WindowBucket[] {
  const buckets: WindowBucket[] = [];
  const enough = Math.min(bucketSeconds / 4, (window.end - window.start + 1) / 2);
  for (let start = bucketStartOf(window.start, bucketSeconds); start <= window.end; start += bucketSeconds) {
    const from = Math.max(start, window.start);
    const to = Math.min(start + bucketSeconds - 1, window.end);
    buckets.push({ start, from, to, required: to - from + 1 >= enough });
  }
  return buckets;
}

function isoBucket(seconds: number, bucketSeconds: number): string {
  const iso = new Date(seconds * 1000).toISOString();
  return bucketSeconds % 86400 === 0 ? iso.slice(0, 10) : `${iso.slice(0, 16)}Z`;
}

/**
 * Delivery counts read off aggregate rows, for an engine that cannot count records per day (Logs
 * Insights, with one GROUP BY): each row proves its ENI had records in the bucket of its first
 * and of its last record — a lower bound (days in between are not claimed). Its records are
 * counted in the first bucket; the last, when another, counts one.
 *
 * @example deliveriesFromAggregates(rows, 'fl-1', window, 86400) // [{ flowLogId: 'fl-1', eniId: 'eni-1', bucketStart: …, records: 12 }, …]
 */
export function deliveriesFromAggregates(
  aggregates: readonly FlowAggregate[],
  flowLogId: string | null,
  window: TimeWindow,
  bucketSeconds: number,
): DeliveryCount[] {
  const counts = new Map<string, DeliveryCount>();
  const add = (eniId: string, time: number, records: number): void => {
    if (time < window.start || time > window.end) return;
    const bucketStart = bucketStartOf(time, bucketSeconds);
    const key = `${eniId}|${bucketStart}`;
    const current = counts.get(key);
    counts.set(key, { flowLogId, eniId, bucketStart, records: (current?.records ?? 0) + records });
  };
  for (const row of aggregates) {
    add(row.eniId, row.firstSeen, row.records);
    if (bucketStartOf(row.lastSeen, bucketSeconds) !== bucketStartOf(row.firstSeen, bucketSeconds)) {
      add(row.eniId, Math.min(row.lastSeen, window.end), 1);
    }
  }
  return [...counts.values()];
}

/**
 * A gap in words: its first and last bucket ("2026-11-17 – 2026-11-19" for days, hours otherwise).
 *
 * @example gapText({ from: 1763337600, to: 1763596799 }, 86400) // '2026-11-17 – 2026-11-19'
 */
export function gapText(gap: DeliveryGap, bucketSeconds: number): string {
  const from = isoBucket(bucketStartOf(gap.from, bucketSeconds), bucketSeconds);
  const to = isoBucket(bucketStartOf(gap.to, bucketSeconds), bucketSeconds);
  return from === to ? from : `${from} – ${to}`;
}

function creationOf(log: FlowLogConfig): number | undefined {
  if (log.creationTime === undefined) return undefined;
  const ms = Date.parse(log.creationTime);
  return Number.isNaN(ms) ? undefined : Math.ceil(ms / 1000);
}

function isEniLevel(log: FlowLogConfig): boolean {
  return log.resourceId.startsWith('eni-');
}

/** Flow logs that can have recorded each ENI: those on it, its subnet or its VPC. */
function logsByEni(inventory: Inventory): Map<string, FlowLogConfig[]> {
  const byResource = new Map<string, FlowLogConfig[]>();
  for (const log of inventory.flowLogs) {
    const list = byResource.get(log.resourceId) ?? [];
    list.push(log);
    byResource.set(log.resourceId, list);
  }
  const result = new Map<string, FlowLogConfig[]>();
  for (const eni of inventory.networkInterfaces) {
    result.set(eni.id, [
      ...(byResource.get(eni.id) ?? []),
      ...(byResource.get(eni.subnetId) ?? []),
      ...(byResource.get(eni.vpcId) ?? []),
    ]);
  }
  return result;
}

/** Runs of expected, unproven buckets, oldest first, as times. */
function gapsOf(
  proven: readonly boolean[],
  expected: readonly boolean[],
  buckets: readonly WindowBucket[],
): DeliveryGap[] {
  const gaps: DeliveryGap[] = [];
  let open: DeliveryGap | undefined;
  buckets.forEach((bucket, i) => {
    if (expected[i] !== true) return;
    if (proven[i] !== true) {
      open = open === undefined ? { from: bucket.from, to: bucket.to } : { from: open.from, to: bucket.to };
    } else if (open !== undefined) {
      gaps.push(open);
      open = undefined;
    }
  });
  if (open !== undefined) gaps.push(open);
  return gaps;
}

function statusOf(
  proven: readonly boolean[],
  expected: readonly boolean[],
  inconsistent: boolean,
  read: boolean,
): DeliveryStatus {
  if (!read) return 'not-read';
  if (inconsistent) return 'inconsistent';
  if (proven.every((p) => !p)) return 'silent';
  return expected.every((wanted, i) => !wanted || proven[i]) ? 'complete' : 'gaps';
}

/** Whether a counter's reading agrees with what it says was delivered. */
function counterAgrees(counter: DeliveryCounter, tolerance: number): boolean {
  if (counter.delivered === 0) return counter.read === 0;
  return Math.abs(counter.read - counter.delivered) <= counter.delivered * tolerance;
}

/** How each kind of counter is worded: the unit it counts, and what it is read from. */
const COUNTER_WORDS: Readonly<Record<DeliveryCounterKind, { readonly unit: string; readonly name: string }>> =
  {
    'incoming-log-events': { unit: 'log events', name: 'CloudWatch IncomingLogEvents' },
    's3-objects': { unit: 'S3 objects', name: 'S3 ListObjectsV2' },
    'export-files': { unit: 'files', name: 'files in the export' },
  };

/**
 * Turns the sources' delivery evidence into proof per flow log and bucket.
 *
 * @example
 * const proof = proveDelivery(inventory, window, evidence, { bucketSeconds: 86400, toleranceBuckets: 0, counterTolerance: 0.05 });
 * proof.provenFor('fl-1', 'eni-1') // [true, true, false, true, true, true, true]
 */
export function proveDelivery(
  inventory: Inventory,
  window: TimeWindow,
  evidence: DeliveryEvidence,
  options: DeliveryOptions,
): DeliveryProof {
  const buckets = windowBuckets(window, options.bucketSeconds);
  const n = buckets.length;
  const first = buckets[0]?.start ?? 0;
  const indexOf = (bucketStart: number): number | undefined => {
    const i = Math.round((bucketStart - first) / options.bucketSeconds);
    return i >= 0 && i < n && buckets[i]?.start === bucketStart ? i : undefined;
  };
  const known = new Map(inventory.flowLogs.map((log) => [log.id, log]));
  const candidates = logsByEni(inventory);

  // Records per (log, bucket) and the buckets per (log, ENI); unknown origin goes to the ENI's only log.
  const recordsByLog = new Map<string, number[]>();
  const bucketsByLogEni = new Map<string, Set<number>>();
  const add = (logId: string, eniId: string, i: number, records: number): void => {
    let perBucket = recordsByLog.get(logId);
    if (perBucket === undefined) {
      perBucket = new Array<number>(n).fill(0);
      recordsByLog.set(logId, perBucket);
    }
    perBucket[i] = (perBucket[i] ?? 0) + records;
    const key = `${logId}\u0000${eniId}`;
    const set = bucketsByLogEni.get(key) ?? new Set<number>();
    set.add(i);
    bucketsByLogEni.set(key, set);
  };
  for (const count of evidence.counts) {
    const i = indexOf(count.bucketStart);
    if (i === undefined || count.records <= 0) continue;
    if (count.flowLogId !== null) {
      add(count.flowLogId, count.eniId, i, count.records);
      continue;
    }
    const logs = candidates.get(count.eniId) ?? [];
    const [only] = logs;
    if (logs.length === 1 && only !== undefined) add(only.id, count.eniId, i, count.records);
  }

  // Counters: a disagreeing one makes its logs inconsistent; an agreeing per-bucket one proves its log.
  const inconsistencies = new Map<string, string[]>();
  const countedProof = new Map<string, Set<number>>();
  for (const counter of evidence.counters) {
    if (!counterAgrees(counter, options.counterTolerance)) {
      const where =
        counter.bucketStart === undefined
          ? 'over the window'
          : `on ${isoBucket(counter.bucketStart, options.bucketSeconds)}`;
      const words = COUNTER_WORDS[counter.kind];
      const text = `${counter.subject}: ${counter.delivered} ${words.unit} delivered ${where} (${words.name}), ${counter.read} read`;
      for (const id of counter.flowLogIds)
        inconsistencies.set(id, [...(inconsistencies.get(id) ?? []), text]);
      continue;
    }
    const i = counter.bucketStart === undefined ? undefined : indexOf(counter.bucketStart);
    const [only] = counter.flowLogIds;
    if (i !== undefined && counter.delivered > 0 && counter.flowLogIds.length === 1 && only !== undefined) {
      const set = countedProof.get(only) ?? new Set<number>();
      set.add(i);
      countedProof.set(only, set);
    }
  }

  const logProof = (logId: string): boolean[] => {
    const proven = new Array<boolean>(n).fill(false);
    recordsByLog.get(logId)?.forEach((records, i) => {
      proven[i] = records > 0;
    });
    for (const i of countedProof.get(logId) ?? []) proven[i] = true;
    return proven;
  };
  const expectedOf = (log: FlowLogConfig): boolean[] => {
    const created = creationOf(log);
    return buckets.map(
      (bucket) =>
        bucket.required &&
        (created === undefined ||
          created <= bucket.from ||
          bucket.to - created + 1 >= (bucket.to - bucket.from + 1) / 2),
    );
  };

  const flowLogs: FlowLogDelivery[] = [...inventory.flowLogs]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((log) => {
      const proven = logProof(log.id);
      const expected = expectedOf(log);
      const problems = inconsistencies.get(log.id) ?? [];
      const read = evidence.readFlowLogIds === undefined || evidence.readFlowLogIds.has(log.id);
      return {
        flowLogId: log.id,
        resourceId: log.resourceId,
        status: statusOf(proven, expected, problems.length > 0, read),
        records: recordsByLog.get(log.id) ?? new Array<number>(n).fill(0),
        proven,
        expected,
        gaps: read && problems.length === 0 ? gapsOf(proven, expected, buckets) : [],
        inconsistencies: problems,
      };
    });

  const none: readonly boolean[] = new Array<boolean>(n).fill(false);
  const wholeLogProof = new Map<string, readonly boolean[]>();
  return {
    options,
    buckets,
    provenFor(flowLogId: string, eniId: string): readonly boolean[] {
      const log = known.get(flowLogId);
      if (log === undefined || inconsistencies.has(flowLogId)) return none;
      if (!isEniLevel(log)) {
        const proven = wholeLogProof.get(flowLogId) ?? logProof(flowLogId);
        wholeLogProof.set(flowLogId, proven);
        return proven;
      }
      const proven = new Array<boolean>(n).fill(false);
      for (const i of bucketsByLogEni.get(`${flowLogId}\u0000${eniId}`) ?? []) proven[i] = true;
      for (const i of countedProof.get(flowLogId) ?? []) proven[i] = true;
      return proven;
    },
    expectedFor(flowLogId: string): readonly boolean[] {
      const log = known.get(flowLogId);
      return log === undefined ? none : expectedOf(log);
    },
    inconsistencies: (flowLogId) => inconsistencies.get(flowLogId) ?? [],
    report: {
      bucketSeconds: options.bucketSeconds,
      buckets: buckets.map(({ start, from, to }) => ({ start, from, to })),
      flowLogs,
    },
  };
}
