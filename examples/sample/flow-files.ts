/**
 * Writes flow-log records as S3 delivers them: per flow log and hour, a gzip text object with one
 * header line (field names as in the format) or a Parquet object (AWS's column names and types),
 * under the AWSLogs/… key layout. Also plants the deliberately malformed lines and remembers
 * where they are.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { formatVersion } from '../../shared/flow/format';
import {
  ACCOUNT_ID,
  eniIdOf,
  FLOW_LOGS,
  type FlowLogFormats,
  type FlowLogSpec,
  flowLogIdOf,
  flowLogOf,
  formattedFlowLog,
  instanceIdOf,
  REGION,
  subnetIdOf,
  subnetSpec,
  vpcIdOf,
  WINDOW_START,
} from './account';
import { nameHex } from './ids';
import type { FlowRecord, RecordSink } from './traffic';

const AZ_IDS: Readonly<Record<string, string>> = { a: 'apne2-az1', c: 'apne2-az3' };

function fieldValue(field: string, record: FlowRecord, version: number): string | number | undefined {
  switch (field) {
    case 'version':
      return version;
    case 'account-id':
      return record.eni.flowAccountId ?? ACCOUNT_ID;
    case 'interface-id':
      return eniIdOf(record.eni.key);
    case 'srcaddr':
      return record.srcaddr;
    case 'dstaddr':
      return record.dstaddr;
    case 'srcport':
      return record.srcport;
    case 'dstport':
      return record.dstport;
    case 'protocol':
      return record.protocol;
    case 'packets':
      return record.packets;
    case 'bytes':
      return record.bytes;
    case 'start':
      return record.start;
    case 'end':
      return record.end;
    case 'action':
      return record.action;
    case 'log-status':
      return record.logStatus;
    case 'vpc-id':
      return vpcIdOf(subnetSpec(record.eni.subnet).vpc);
    case 'subnet-id':
      return subnetIdOf(record.eni.subnet);
    case 'instance-id':
      return record.eni.instance ? instanceIdOf(record.eni.instance.name) : undefined;
    case 'tcp-flags':
      return record.tcpFlags;
    case 'type':
      return record.srcaddr === undefined ? undefined : record.srcaddr.includes(':') ? 'IPv6' : 'IPv4';
    case 'pkt-srcaddr':
      return record.pktSrcaddr;
    case 'pkt-dstaddr':
      return record.pktDstaddr;
    case 'pkt-src-aws-service':
      return record.pktSrcAwsService;
    case 'pkt-dst-aws-service':
      return record.pktDstAwsService;
    case 'flow-direction':
      return record.flowDirection;
    case 'traffic-path':
      return record.trafficPath;
    case 'region':
      return REGION;
    case 'az-id':
      return AZ_IDS[subnetSpec(record.eni.subnet).az];
    default:
      return undefined;
  }
}

/** A flow-log line that must fail to parse, and where it ended up. */
export interface MalformedLine {
  /** Path relative to the export directory. */
  readonly file: string;
  /** 1-based line number in the (decompressed) file; line 1 is the header. */
  readonly line: number;
  readonly flowLogId: string;
  readonly reason: string;
  readonly text: string;
}

export interface FlowLogStats {
  readonly key: string;
  readonly id: string;
  files: number;
  /** OK records (ACCEPT and REJECT). */
  records: number;
  accept: number;
  reject: number;
  nodata: number;
  skipdata: number;
  malformed: number;
  firstStart?: number;
  lastEnd?: number;
}

interface MalformedPlan {
  readonly log: string;
  readonly hour: number;
  /** Why the line is malformed: as written, or from the header of the file it lands in. */
  readonly reason: string | ((header: readonly string[]) => string);
  corrupt(fields: string[], header: readonly string[]): string[];
}

const replaceField = (name: string, value: string) => (fields: string[], header: readonly string[]) =>
  fields.map((field, i) => (header[i] === name ? value : field));

/** The deliberately malformed lines: copies of a real record, damaged, inserted after it. */
const MALFORMED_PLANS: readonly MalformedPlan[] = [
  {
    log: 'prod-vpc',
    hour: 30,
    reason: 'wrong field count: 13 fields, header has 14 (log-status missing)',
    corrupt: (fields) => fields.slice(0, -1),
  },
  {
    log: 'prod-vpc',
    hour: 95,
    reason: "non-numeric dstport 'http'",
    corrupt: replaceField('dstport', 'http'),
  },
  {
    log: 'prod-vpc',
    hour: 140,
    reason: 'wrong field count: 2 fields (truncated write)',
    corrupt: (fields) => fields.slice(0, 2),
  },
  {
    log: 'shared-app-subnet',
    hour: 50,
    reason: (header) =>
      `wrong field count: ${header.length + 1} fields, header has ${header.length} (extra trailing field)`,
    corrupt: (fields) => [...fields, '8'],
  },
  {
    log: 'legacy-vpc',
    hour: 70,
    reason: "non-numeric packets '12a'",
    corrupt: replaceField('packets', '12a'),
  },
  {
    log: 'ops-eni',
    hour: 150,
    reason: 'wrong field count: line cut after 7 fields',
    corrupt: (fields) => fields.slice(0, 7),
  },
];

interface Pending {
  readonly seq: number;
  readonly record: FlowRecord;
}

const INTEGER_COLUMNS = new Set(['version', 'srcport', 'dstport', 'protocol', 'tcp-flags', 'traffic-path']);
const BIGINT_COLUMNS = new Set(['packets', 'bytes', 'start', 'end']);

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * Buffers records per hour (by record start) and flow log, and writes each hour's objects once
 * no later connection can add to it. Memory stays bounded by one or two hours of records.
 */
export class FlowLogWriter implements RecordSink {
  private readonly buckets = new Map<number, Map<string, Pending[]>>();
  private readonly pendingPlans: MalformedPlan[] = [...MALFORMED_PLANS];
  private readonly createdAt = new Map(FLOW_LOGS.map((log) => [log.key, Date.parse(log.created) / 1000]));
  /** Per flow log, the [start, end) of its delivery gap in epoch seconds. */
  private readonly gaps = new Map(
    FLOW_LOGS.flatMap((log) =>
      log.deliveryGap === undefined
        ? []
        : [
            [
              log.key,
              [
                Date.parse(`${log.deliveryGap.from}T00:00:00Z`) / 1000,
                Date.parse(`${log.deliveryGap.to}T00:00:00Z`) / 1000 + 86_400,
              ],
            ] as const,
          ],
    ),
  );
  private duckdb?: { instance: DuckDBInstance; connection: DuckDBConnection };
  private seq = 0;
  readonly malformed: MalformedLine[] = [];
  readonly stats = new Map<string, FlowLogStats>(
    FLOW_LOGS.map((log) => [
      log.key,
      {
        key: log.key,
        id: flowLogIdOf(log.key),
        files: 0,
        records: 0,
        accept: 0,
        reject: 0,
        nodata: 0,
        skipdata: 0,
        malformed: 0,
      },
    ]),
  );

  constructor(
    private readonly outDir: string,
    private readonly formats: FlowLogFormats = 'as-designed',
  ) {}

  add(record: FlowRecord): void {
    const log = flowLogOf(record.eni);
    if (!log) return;
    if (record.start < (this.createdAt.get(log.key) ?? 0)) return;
    const gap = this.gaps.get(log.key);
    // Nothing of those days reached the export: the objects are simply not there.
    if (gap !== undefined && record.start >= gap[0] && record.start < gap[1]) return;
    if (record.logStatus === 'OK' && log.trafficType !== 'ALL' && record.action !== log.trafficType) return;
    const hour = Math.floor((record.start - WINDOW_START) / 3600);
    let byLog = this.buckets.get(hour);
    if (!byLog) {
      byLog = new Map();
      this.buckets.set(hour, byLog);
    }
    let pending = byLog.get(log.key);
    if (!pending) {
      pending = [];
      byLog.set(log.key, pending);
    }
    pending.push({ seq: this.seq++, record });
  }

  /** Writes every object of `hour` (call once all connections starting by then were added). */
  async flushHour(hour: number): Promise<void> {
    const byLog = this.buckets.get(hour);
    this.buckets.delete(hour);
    for (const designed of FLOW_LOGS) {
      const log = formattedFlowLog(designed, this.formats);
      const pending = byLog?.get(log.key);
      if (!pending || pending.length === 0) continue;
      pending.sort((a, b) => a.record.start - b.record.start || a.seq - b.seq);
      const records = pending.map((p) => p.record);
      this.count(log, records);
      if (log.fileFormat === 'parquet') await this.writeParquet(log, hour, records);
      else this.writeText(log, hour, records);
    }
  }

  async close(): Promise<void> {
    const hours = [...this.buckets.keys()].sort((a, b) => a - b);
    for (const hour of hours) await this.flushHour(hour);
    this.duckdb?.connection.closeSync();
    this.duckdb?.instance.closeSync();
    this.duckdb = undefined;
  }

  private count(log: FlowLogSpec, records: readonly FlowRecord[]): void {
    const stats = this.stats.get(log.key);
    if (!stats) return;
    stats.files++;
    for (const record of records) {
      if (record.logStatus === 'NODATA') stats.nodata++;
      else if (record.logStatus === 'SKIPDATA') stats.skipdata++;
      else {
        stats.records++;
        if (record.action === 'REJECT') stats.reject++;
        else stats.accept++;
      }
      stats.firstStart = Math.min(stats.firstStart ?? record.start, record.start);
      stats.lastEnd = Math.max(stats.lastEnd ?? record.end, record.end);
    }
  }

  /** The object key (relative to the export directory) of one flow log's file for one hour. */
  private objectPath(log: FlowLogSpec, hour: number, extension: string): string {
    const time = new Date((WINDOW_START + hour * 3600) * 1000);
    const yyyy = String(time.getUTCFullYear());
    const mm = pad(time.getUTCMonth() + 1);
    const dd = pad(time.getUTCDate());
    const hh = pad(time.getUTCHours());
    const flowLogId = flowLogIdOf(log.key);
    // Objects are published every 5 minutes; one per hour stamped with its last 5-minute mark.
    const stamp = `${yyyy}${mm}${dd}T${hh}55Z`;
    const folders = log.hivePartitions
      ? [
          `aws-account-id=${ACCOUNT_ID}`,
          'aws-service=vpcflowlogs',
          `aws-region=${REGION}`,
          `year=${yyyy}`,
          `month=${mm}`,
          `day=${dd}`,
          ...(log.perHourPartition ? [`hour=${hh}`] : []),
        ]
      : [ACCOUNT_ID, 'vpcflowlogs', REGION, yyyy, mm, dd, ...(log.perHourPartition ? [hh] : [])];
    const file = `${ACCOUNT_ID}_vpcflowlogs_${REGION}_${flowLogId}_${stamp}_${nameHex(`${flowLogId}/${stamp}`, 8)}${extension}`;
    return ['flowlogs', log.bucket, ...(log.prefix ? [log.prefix] : []), 'AWSLogs', ...folders, file].join(
      '/',
    );
  }

  private writeText(log: FlowLogSpec, hour: number, records: readonly FlowRecord[]): void {
    const version = formatVersion(log.fields);
    const relative = this.objectPath(log, hour, '.log.gz');
    const lines = records.map((record) =>
      log.fields.map((field) => {
        const value = fieldValue(field, record, version);
        return value === undefined ? '-' : String(value);
      }),
    );
    const rendered = lines.map((fields) => fields.join(' '));
    const planIndex = this.pendingPlans.findIndex((plan) => plan.log === log.key && plan.hour <= hour);
    const plan = this.pendingPlans[planIndex];
    if (plan) {
      this.pendingPlans.splice(planIndex, 1);
      // Damage an OK record (not a NODATA line) near the middle of the file.
      const middle = Math.floor(lines.length / 2);
      const okIndex = records.findIndex((record, i) => i >= middle && record.logStatus === 'OK');
      const source = okIndex >= 0 ? okIndex : middle;
      const text = plan.corrupt([...(lines[source] ?? [])], log.fields).join(' ');
      rendered.splice(source + 1, 0, text);
      // Line 1 is the header; the inserted line follows its source record.
      this.malformed.push({
        file: relative,
        line: source + 3,
        flowLogId: flowLogIdOf(log.key),
        reason: typeof plan.reason === 'string' ? plan.reason : plan.reason(log.fields),
        text,
      });
      const stats = this.stats.get(log.key);
      if (stats) stats.malformed++;
    }
    const body = `${log.fields.join(' ')}\n${rendered.join('\n')}\n`;
    const target = path.join(this.outDir, relative);
    mkdirSync(path.dirname(target), { recursive: true });
    // gzipSync writes no timestamp in the header: same records, same bytes.
    writeFileSync(target, gzipSync(Buffer.from(body, 'utf8')));
  }

  private async connection(): Promise<DuckDBConnection> {
    if (!this.duckdb) {
      // One thread: row groups are written in one order, so the bytes are reproducible.
      const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
      this.duckdb = { instance, connection: await instance.connect() };
    }
    return this.duckdb.connection;
  }

  private async writeParquet(log: FlowLogSpec, hour: number, records: readonly FlowRecord[]): Promise<void> {
    const version = formatVersion(log.fields);
    const relative = this.objectPath(log, hour, '.log.parquet');
    const target = path.join(this.outDir, relative);
    mkdirSync(path.dirname(target), { recursive: true });
    const connection = await this.connection();
    // AWS's Parquet columns: field names with '-' -> '_', INT_32 / INT_64 / STRING.
    const columns = log.fields.map((field) => {
      const type = INTEGER_COLUMNS.has(field) ? 'INTEGER' : BIGINT_COLUMNS.has(field) ? 'BIGINT' : 'VARCHAR';
      return `"${field.replaceAll('-', '_')}" ${type}`;
    });
    await connection.run('DROP TABLE IF EXISTS flow_records');
    await connection.run(`CREATE TABLE flow_records (${columns.join(', ')})`);
    const appender = await connection.createAppender('flow_records');
    for (const record of records) {
      for (const field of log.fields) {
        const value = fieldValue(field, record, version);
        if (value === undefined) appender.appendNull();
        else if (INTEGER_COLUMNS.has(field)) appender.appendInteger(Number(value));
        else if (BIGINT_COLUMNS.has(field)) appender.appendBigInt(BigInt(value));
        else appender.appendVarchar(String(value));
      }
      appender.endRow();
    }
    appender.closeSync();
    await connection.run(
      `COPY flow_records TO '${target.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION gzip)`,
    );
    await connection.run('DROP TABLE flow_records');
  }
}
