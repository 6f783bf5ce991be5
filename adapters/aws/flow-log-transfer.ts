/**
 * Flow-log records of a window, copied from where AWS delivers them into local files the DuckDB
 * source reads (adapters/local/duckdb/flow-source.ts):
 *  - S3 destinations: the objects of the window's day folders (plain or Hive layout, per-hour
 *    folders included), listed with ListObjectsV2 and kept under their keys' paths;
 *  - CloudWatch Logs destinations: each in-scope ENI's events (flow-log streams are named after
 *    the ENI) read with FilterLogEvents, written as gzip text with the format's header line at
 *    `cloudwatch/<log group>/<eni>.log.gz` — the shape of an S3 text object.
 * Both `sg-audit export` and the live audit's S3 fallback (no Athena) use this.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import {
  type CloudWatchLogsClient,
  type LogStream,
  paginateDescribeLogStreams,
  paginateFilterLogEvents,
} from '@aws-sdk/client-cloudwatch-logs';
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { mapBounded } from '../../shared/concurrency';
import { InputError } from '../../shared/errors';
import { DEFAULT_DELIVERY_SLACK_SECONDS, s3LocationOf } from '../../shared/flow/athena-ddl';
import type { TimeWindow } from '../../shared/model/flow';
import type { FlowLogConfig } from '../../shared/model/inventory';

/** One S3 flow-log object of a window. */
export interface FlowLogObject {
  readonly bucket: string;
  readonly key: string;
  readonly bytes: number;
  /** When S3 stored it, epoch seconds (ListObjectsV2 LastModified). */
  readonly lastModified?: number;
}

export interface FlowLogExportOptions {
  /** Transfers (GetObject, FilterLogEvents listings) in flight at once. @default 8 */
  readonly concurrency?: number;
  /** How far past the window's end S3 objects may still hold its records. @default 3600 */
  readonly deliverySlackSeconds?: number;
  readonly progress?: (message: string) => void;
}

/** Log stream names per FilterLogEvents call (the API's maximum). */
const STREAMS_PER_FILTER = 100;
/** Pages one listing may take: a bound against a NextToken that never ends. */
const MAX_PAGES = 100_000;
const DEFAULT_CONCURRENCY = 8;
const S3_URL = /^s3:\/\/([^/]+)\/(.*)$/;
const ENI_OF_STREAM = /^(eni-[0-9a-f]+)/;
const STREAM_SLACK_MS = 2 * 3600_000;

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The S3 folders (bucket, key prefixes) holding a flow log's objects delivered during the window:
 * one per UTC day from the window's start to its end plus the delivery slack.
 *
 * @example flowLogDayPrefixes(flowLog, '123456789012', 'ap-northeast-2', window)
 * // { bucket: 'logs', prefixes: ['AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/2026/11/14/', …] }
 */
export function flowLogDayPrefixes(
  flowLog: FlowLogConfig,
  accountId: string,
  region: string,
  window: TimeWindow,
  deliverySlackSeconds = DEFAULT_DELIVERY_SLACK_SECONDS,
): { bucket: string; prefixes: string[] } {
  return dayPrefixesOf(
    s3LocationOf(flowLog, accountId, region),
    flowLog.s3Options?.hivePartitions === true,
    window,
    deliverySlackSeconds,
  );
}

/**
 * The day folders under a flow-log location (`s3://bucket/…/vpcflowlogs/<region>/`, plain or Hive
 * layout) from the window's start to its end plus the delivery slack.
 *
 * @example dayPrefixesOf('s3://logs/AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/', false, window, 3600)
 * // { bucket: 'logs', prefixes: ['AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/2026/11/14/', …] }
 */
export function dayPrefixesOf(
  location: string,
  hivePartitions: boolean,
  window: TimeWindow,
  deliverySlackSeconds = DEFAULT_DELIVERY_SLACK_SECONDS,
): { bucket: string; prefixes: string[] } {
  const match = S3_URL.exec(location);
  if (!match?.[1]) throw new InputError(`'${location}' is not an S3 location`);
  const root = match[2] ?? '';
  const prefixes: string[] = [];
  const lastDay = Math.floor((window.end + deliverySlackSeconds) / 86400);
  // Bounded: a window is days long; 4,000 days is already a decade.
  for (let day = Math.floor(window.start / 86400); day <= lastDay && prefixes.length < 4000; day += 1) {
    const date = new Date(day * 86400_000);
    const [y, m, d] = [String(date.getUTCFullYear()), pad(date.getUTCMonth() + 1), pad(date.getUTCDate())];
    prefixes.push(hivePartitions ? `${root}year=${y}/month=${m}/day=${d}/` : `${root}${y}/${m}/${d}/`);
  }
  return { bucket: match[1], prefixes };
}

/**
 * The objects of an S3-destination flow log delivered during the window (its own objects only:
 * several flow logs may share a bucket, and AWS names each object after its flow log).
 *
 * @example await listFlowLogObjects(s3, flowLog, '123456789012', 'ap-northeast-2', window)
 */
export async function listFlowLogObjects(
  s3: S3Client,
  flowLog: FlowLogConfig,
  accountId: string,
  region: string,
  window: TimeWindow,
  options: FlowLogExportOptions = {},
): Promise<FlowLogObject[]> {
  const folders = flowLogDayPrefixes(flowLog, accountId, region, window, options.deliverySlackSeconds);
  return listOwnObjects(s3, folders, flowLog.id, options);
}

/**
 * A flow log's own objects (named with its id) in day folders, each with its size and when S3
 * stored it.
 *
 * @example await listOwnObjects(s3, dayPrefixesOf(location, false, window), 'fl-0a1b')
 */
export async function listOwnObjects(
  s3: S3Client,
  { bucket, prefixes }: { bucket: string; prefixes: readonly string[] },
  flowLogId: string,
  options: Pick<FlowLogExportOptions, 'concurrency'> = {},
): Promise<FlowLogObject[]> {
  const ownObject = new RegExp(`_${flowLogId}_[^/]*$`);
  const lists = await mapBounded(prefixes, options.concurrency ?? DEFAULT_CONCURRENCY, async (prefix) => {
    const objects: FlowLogObject[] = [];
    let pages = 0;
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
      for (const object of page.Contents ?? []) {
        if (object.Key && ownObject.test(object.Key)) {
          objects.push({
            bucket,
            key: object.Key,
            bytes: object.Size ?? 0,
            ...(object.LastModified
              ? { lastModified: Math.floor(object.LastModified.getTime() / 1000) }
              : {}),
          });
        }
      }
      pages += 1;
      if (pages >= MAX_PAGES) throw new InputError(`s3://${bucket}/${prefix}: more than ${MAX_PAGES} pages`);
    }
    return objects;
  });
  return lists.flat();
}

/** `…_<flow log id>_20261120T2305Z_<hash>.log.gz`: the five-minute delivery stamp. */
const DELIVERY_STAMP = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_[^/_]*$/;

/**
 * The delivery time AWS stamps in a flow-log object's name, in epoch seconds.
 *
 * @example deliveryStampOf('…_fl-0a_20261120T2305Z_0a1b2c3d.log.gz') // 1795215900
 */
export function deliveryStampOf(key: string): number | undefined {
  const match = DELIVERY_STAMP.exec(key);
  if (!match) return undefined;
  const [, y, mo, d, h, mi] = match.map(Number);
  const ms = Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 0, h ?? 0, mi ?? 0);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

/** The local path of an object's copy: its key under `directory`, never outside it. */
function localPathOf(directory: string, key: string): string {
  const segments = key.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.length === 0 || segments.includes('..')) {
    throw new InputError(`S3 key '${key}' cannot be copied to a local path`);
  }
  return path.join(directory, ...segments);
}

/**
 * Copies the objects into `directory`, each at its key's path, streamed to disk.
 *
 * @returns the bytes written.
 * @example await downloadFlowLogObjects(s3, objects, 'export/flowlogs')
 */
export async function downloadFlowLogObjects(
  s3: S3Client,
  objects: readonly FlowLogObject[],
  directory: string,
  options: FlowLogExportOptions = {},
): Promise<number> {
  let done = 0;
  let bytes = 0;
  await mapBounded(objects, options.concurrency ?? DEFAULT_CONCURRENCY, async (object) => {
    const target = localPathOf(directory, object.key);
    await mkdir(path.dirname(target), { recursive: true });
    const response = await s3.send(new GetObjectCommand({ Bucket: object.bucket, Key: object.key }));
    const body = response.Body;
    if (!(body instanceof Readable)) {
      const bytesOf = await (
        body as { transformToByteArray?: () => Promise<Uint8Array> } | undefined
      )?.transformToByteArray?.();
      await writeFile(target, bytesOf ?? new Uint8Array());
      bytes += bytesOf?.length ?? 0;
    } else {
      await pipeline(body, createWriteStream(target));
      bytes += object.bytes;
    }
    done += 1;
    if (done % 100 === 0 || done === objects.length) {
      options.progress?.(`copied ${done}/${objects.length} flow-log objects`);
    }
  });
  return bytes;
}

/** A log group's CloudWatch flow logs: the group, its format, and the ENIs whose streams to read. */
export interface CloudWatchFlowExport {
  readonly logGroup: string;
  /** The flow log's fields in format order (hyphenated): the header line of every file. */
  readonly fields: readonly string[];
  readonly eniIds: readonly string[];
  /**
   * The one flow log of the group that records each ENI, where only one does: its id goes into the
   * file name as S3 object names carry it (`<eni>_<fl-…>_cloudwatch.log.gz`), so the offline audit
   * knows whose records they are (delivery proof, one reader per ENI).
   */
  readonly flowLogOfEni?: ReadonlyMap<string, string>;
}

/**
 * The file an ENI's events are written to: named with its flow log when known.
 *
 * @example cloudWatchFileName('eni-0a', 'fl-0b') // 'eni-0a_fl-0b_cloudwatch.log.gz'
 */
export function cloudWatchFileName(eniId: string, flowLogId: string | undefined): string {
  return flowLogId === undefined ? `${eniId}.log.gz` : `${eniId}_${flowLogId}_cloudwatch.log.gz`;
}

export interface CloudWatchExportResult {
  readonly files: number;
  readonly events: number;
}

/**
 * A directory name for a log group: `/vpc/flow-a` → `vpc_flow-a` (no separators, never `..`).
 *
 * @example logGroupFolder('/vpc/flow-a') // 'vpc_flow-a'
 */
export function logGroupFolder(logGroup: string): string {
  return logGroup
    .replace(/^\/+/, '')
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^\.+/, (dots) => '_'.repeat(dots.length));
}

/**
 * Writes the window's flow-log events of the ENIs' streams as `<directory>/<log group>/<eni>[_<fl-…>_cloudwatch].log.gz`
 * (gzip text, header line first). Streams are found with DescribeLogStreams (those without events
 * in the window are skipped) and read with FilterLogEvents, up to 100 streams per call.
 *
 * @example await exportCloudWatchFlowLogs(logs, { logGroup: '/vpc/flow', fields, eniIds }, window, 'out/flowlogs/cloudwatch')
 */
export async function exportCloudWatchFlowLogs(
  logs: CloudWatchLogsClient,
  source: CloudWatchFlowExport,
  window: TimeWindow,
  directory: string,
  options: FlowLogExportOptions = {},
): Promise<CloudWatchExportResult> {
  const wanted = new Set(source.eniIds);
  const startMs = window.start * 1000;
  const endMs = window.end * 1000;
  const streamsByEni = new Map<string, string[]>();
  let pages = 0;
  for await (const page of paginateDescribeLogStreams({ client: logs }, { logGroupName: source.logGroup })) {
    for (const stream of page.logStreams ?? []) {
      const eniId = eniOfStream(stream);
      if (eniId === undefined || !wanted.has(eniId) || !mayHoldWindow(stream, startMs, endMs)) continue;
      streamsByEni.set(eniId, [...(streamsByEni.get(eniId) ?? []), stream.logStreamName as string]);
    }
    pages += 1;
    if (pages >= MAX_PAGES)
      throw new InputError(`log group ${source.logGroup}: more than ${MAX_PAGES} pages`);
  }

  // Calls of ≤ 100 streams, an ENI's streams always in one call (they share its file).
  const calls: [string, string[]][][] = [];
  let current: [string, string[]][] = [];
  let streams = 0;
  for (const entry of [...streamsByEni.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (streams + entry[1].length > STREAMS_PER_FILTER && current.length > 0) {
      calls.push(current);
      current = [];
      streams = 0;
    }
    current.push(entry);
    streams += entry[1].length;
  }
  if (current.length > 0) calls.push(current);

  const folder = path.join(directory, logGroupFolder(source.logGroup));
  const header = source.fields.map((f) => f.replaceAll('_', '-')).join(' ');
  let files = 0;
  let events = 0;
  await mapBounded(calls, options.concurrency ?? DEFAULT_CONCURRENCY, async (call) => {
    const eniOf = new Map(call.flatMap(([eniId, names]) => names.map((name) => [name, eniId] as const)));
    const lines = new Map<string, string[]>(call.map(([eniId]) => [eniId, []]));
    let filterPages = 0;
    const input = {
      logGroupName: source.logGroup,
      logStreamNames: [...eniOf.keys()],
      startTime: startMs,
      endTime: endMs,
    };
    for await (const page of paginateFilterLogEvents({ client: logs }, input)) {
      for (const event of page.events ?? []) {
        const eniId = event.logStreamName ? eniOf.get(event.logStreamName) : undefined;
        if (eniId !== undefined && event.message) lines.get(eniId)?.push(event.message.trimEnd());
      }
      filterPages += 1;
      if (filterPages >= MAX_PAGES) {
        throw new InputError(`log group ${source.logGroup}: more than ${MAX_PAGES} pages of events`);
      }
    }
    await mkdir(folder, { recursive: true });
    for (const [eniId, eniLines] of lines) {
      if (eniLines.length === 0) continue;
      await writeFile(
        path.join(folder, cloudWatchFileName(eniId, source.flowLogOfEni?.get(eniId))),
        gzipSync(`${[header, ...eniLines].join('\n')}\n`),
      );
      files += 1;
      events += eniLines.length;
    }
  });
  options.progress?.(`${source.logGroup}: ${events} flow-log events of ${files} ENIs exported`);
  return { files, events };
}

function eniOfStream(stream: LogStream): string | undefined {
  return stream.logStreamName ? ENI_OF_STREAM.exec(stream.logStreamName)?.[1] : undefined;
}

/**
 * A stream whose events all precede or follow the window holds none of its events. CloudWatch
 * Logs accepts events timestamped up to two hours after their ingestion, and lastEventTimestamp
 * may lag by up to an hour: the last-seen time only decides with a two-hour slack.
 */
function mayHoldWindow(stream: LogStream, startMs: number, endMs: number): boolean {
  const lastSeen = Math.max(stream.lastIngestionTime ?? 0, stream.lastEventTimestamp ?? 0);
  if (lastSeen > 0 && lastSeen + STREAM_SLACK_MS < startMs) return false;
  if (stream.firstEventTimestamp !== undefined && stream.firstEventTimestamp > endMs) return false;
  return true;
}
