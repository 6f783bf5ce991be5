/**
 * Which flow records are plausible in time. S3 delivers a flow-log object after its records end
 * (about 10 minutes, best effort), and names it by its delivery time
 * (`…_{YYYYMMDDTHHmmZ}_{hash}.log.gz`); nothing is recorded after the run. A record is
 * implausible when its end (or start) lies after its object's delivery time plus a slack, or after
 * the run's time, or when it starts after it ends. One such record — a clock gone wrong, a
 * damaged value that still reads as a number — would otherwise move the default window onto
 * nothing, so implausible records are left out of every query (the relation every reader gives,
 * file-scanner.ts) and counted as malformed, with file and line.
 *
 * Counting them costs nothing in the common case: the aggregation's own filter advances a counter
 * for each record it leaves out (file-scanner.ts), and only when that counter moved are the files
 * read again — one aggregate counting them per file, then the few files that have some, in
 * JavaScript (text) or with row numbers (Parquet), for the lines of the samples: DuckDB gives no
 * line numbers for the rows it accepted.
 */
import type { MalformedRecord } from '../../../shared/model/flow';
import type { FlowFileScanner } from './file-scanner';
import type { FlowLogFile } from './flow-files';
import { objectTime } from './newest-record';
import { readObjectLines } from './object-lines';
import {
  type FileGroups,
  groupsOf,
  optionalNumber,
  parquetReader,
  SOURCE_FILE,
  TABLE_COLUMNS,
} from './readers';

/** The time bounds records are held to. */
export interface RecordBounds {
  /** Epoch seconds: the run's time. No record starts or ends after it. */
  readonly now: number;
  /** Seconds a record may end after its object's delivery time (from the S3 object name). */
  readonly deliverySlackSeconds: number;
}

/**
 * An hour: far beyond the ~10 min delivery interval and clock skew (the sample's records end 5
 * minutes before their object's name), as newest-record.ts trusts the names.
 */
export const DEFAULT_DELIVERY_SLACK_SECONDS = 3600;

/** The delivery time in an S3 object name, as objectTime (newest-record.ts) reads it: in the last path part. */
const OBJECT_TIME_SQL = `'_(\\d{8}T\\d{4}Z)_[^/\\\\]*$'`;

/**
 * SQL true for an implausible record of a reader's relation (its `start`, `end` and `source_file`
 * columns); false when a value is missing — that record is incomplete, not implausible.
 *
 * @example implausibleRecordSql({ now: 1764547200, deliverySlackSeconds: 3600 }) // 'COALESCE(greatest(start, "end") > least(…), FALSE)'
 */
export function implausibleRecordSql(bounds: RecordBounds): string {
  const delivery = `CAST(epoch(try_strptime(regexp_extract(${SOURCE_FILE}, ${OBJECT_TIME_SQL}, 1), '%Y%m%dT%H%MZ')) AS BIGINT)`;
  // least() skips NULL: a file named otherwise is held to the run's time alone.
  const bound = `least(${delivery} + ${Math.floor(bounds.deliverySlackSeconds)}, ${Math.floor(bounds.now)})`;
  return `COALESCE(greatest(start, "end") > ${bound} OR start > "end", FALSE)`;
}

/**
 * Why a record is implausible, naming the value and the bound; undefined when it is plausible.
 * The twin of {@link implausibleRecordSql}, for the lines found in JavaScript.
 *
 * @example implausibleReason('…_20250602T1005Z_3f9a.log.gz', 1748858400, 4102444800, bounds) // "end 2100-01-01T00:00:00Z is after the object's delivery 2025-06-02T10:05Z (+1 h)"
 */
export function implausibleReason(
  file: string,
  start: number | null,
  end: number | null,
  bounds: RecordBounds,
): string | undefined {
  const delivery = objectTime(file);
  const byDelivery = delivery === undefined ? undefined : delivery + bounds.deliverySlackSeconds;
  const after = (what: string, value: number): string =>
    delivery !== undefined && byDelivery !== undefined && byDelivery <= bounds.now
      ? `${what} ${isoSeconds(value)} is after the object's delivery ${isoSeconds(delivery).replace(':00Z', 'Z')} (+${duration(bounds.deliverySlackSeconds)})`
      : `${what} ${isoSeconds(value)} is after the run's time ${isoSeconds(bounds.now)}`;
  const bound = Math.min(byDelivery ?? Number.POSITIVE_INFINITY, bounds.now);
  if (end !== null && end > bound) return after('end', end);
  if (start !== null && start > bound) return after('start', start);
  if (start !== null && end !== null && start > end) {
    return `start ${isoSeconds(start)} is after end ${isoSeconds(end)}`;
  }
  return undefined;
}

/**
 * The implausible records of the files the groups hold (held to the scanner's bounds): every one
 * counted, the first `sampleLimit` (in file, then line order) sampled with file and line.
 * `rejected` gives the lines DuckDB rejected in files (absolute paths): those are malformed lines
 * already, not samples here.
 *
 * @example await implausibleRecords(scanner, inspection, { sampleLimit: 20, rejected }) // { count: 1, samples: [{ file: 'a.log.gz', line: 7, reason: 'end 2100-…' }] }
 */
export async function implausibleRecords(
  scanner: FlowFileScanner,
  groups: FileGroups,
  options: {
    readonly sampleLimit: number;
    readonly rejected: (paths: readonly string[]) => Promise<ReadonlyMap<string, ReadonlySet<number>>>;
  },
): Promise<{ count: number; samples: MalformedRecord[] }> {
  const { bounds } = scanner;
  const counts = await implausibleCounts(scanner, groups);
  const count = [...counts.values()].reduce((sum, n) => sum + n, 0);
  if (count === 0 || options.sampleLimit === 0) return { count, samples: [] };
  const flagged = groupsOf(groups, (f) => counts.has(f.path));
  const rejected = await options.rejected(flagged.textGroups.flatMap((g) => g.files.map((f) => f.path)));
  const samples: MalformedRecord[] = [];
  // Files in relative-path order, so the samples are the first in file and line order.
  const files = [
    ...flagged.textGroups.flatMap((g) => g.files.map((file) => ({ file, fields: g.fields }))),
    ...flagged.parquetGroups.flatMap((g) => g.files.map((file) => ({ file, columns: g.columns }))),
  ].sort((a, b) => (a.file.relativePath < b.file.relativePath ? -1 : 1));
  for (const entry of files) {
    const room = options.sampleLimit - samples.length;
    if (room <= 0) break;
    samples.push(
      ...('fields' in entry
        ? await textSamples(entry.file, entry.fields, bounds, rejected.get(entry.file.path), room)
        : await parquetSamples(scanner, entry.file, entry.columns, bounds, room)),
    );
  }
  return { count, samples };
}

/**
 * Implausible records per file (absolute path). A first aggregate reads only the start and end
 * values of every file, which is what keeps this cheap; a line it counts may still fail on another
 * value, which makes it a rejected line of the aggregation (malformed-lines.ts), so the few files
 * with any are counted again reading every value, as the aggregation does.
 */
async function implausibleCounts(scanner: FlowFileScanner, groups: FileGroups): Promise<Map<string, number>> {
  const countPerFile = async (of: FileGroups, where: string): Promise<Map<string, number>> => {
    const { relation } = scanner.scanOf(of, { rejects: false, records: 'implausible' });
    const rows = await scanner.readRows(
      `SELECT ${SOURCE_FILE} AS file, count(*) AS n FROM ${relation} ${where} GROUP BY ${SOURCE_FILE}`,
    );
    return new Map(rows.map((r) => [String(r.file), Number(r.n)]));
  };
  const candidates = await countPerFile(groups, '');
  if (candidates.size === 0) return candidates;
  const everyValue = TABLE_COLUMNS.map((c) => `"${c}"`).join(', ');
  return countPerFile(
    groupsOf(groups, (f) => candidates.has(f.path)),
    `WHERE hash(${everyValue}) IS NOT NULL`,
  );
}

/** The first `limit` implausible lines of a text file, read in JavaScript (gunzipped). */
async function textSamples(
  file: FlowLogFile,
  fields: readonly string[],
  bounds: RecordBounds,
  rejected: ReadonlySet<number> | undefined,
  limit: number,
): Promise<MalformedRecord[]> {
  const startAt = fields.indexOf('start');
  const endAt = fields.indexOf('end');
  const samples: MalformedRecord[] = [];
  await readObjectLines(file, (line, lineNumber) => {
    if (lineNumber === 1 || rejected?.has(lineNumber)) return true;
    // As the reader splits it: a line of another field count is a rejected line, not a record.
    const values = line.split(' ');
    if (values.length !== fields.length) return true;
    const start = epochValue(values[startAt]);
    const end = epochValue(values[endAt]);
    if (start === undefined || end === undefined) return true;
    const reason = implausibleReason(file.relativePath, start, end, bounds);
    if (reason !== undefined) samples.push({ file: file.relativePath, line: lineNumber, reason });
    return samples.length < limit;
  });
  return samples;
}

/** The first `limit` implausible rows of a Parquet file, by row number (line = row number + 1). */
async function parquetSamples(
  scanner: FlowFileScanner,
  file: FlowLogFile,
  columns: Parameters<typeof parquetReader>[1],
  bounds: RecordBounds,
  limit: number,
): Promise<MalformedRecord[]> {
  const rows = await scanner.readRows(
    `SELECT file_row_number, start, "end" FROM ${parquetReader([file], columns, { rowNumbers: true })}
     WHERE ${implausibleRecordSql(bounds)} ORDER BY file_row_number LIMIT ${limit}`,
  );
  return rows.flatMap((r) => {
    const reason = implausibleReason(
      file.relativePath,
      optionalNumber(r.start) ?? null,
      optionalNumber(r.end) ?? null,
      bounds,
    );
    return reason === undefined
      ? []
      : [{ file: file.relativePath, line: Number(r.file_row_number) + 1, reason }];
  });
}

/** A start or end value as the reader reads it (UINTEGER, '-' as NULL); undefined when it would reject it. */
function epochValue(text: string | undefined): number | null | undefined {
  if (text === '-') return null;
  if (text === undefined || !/^\d{1,10}$/.test(text)) return undefined;
  const value = Number(text);
  return value <= 0xffffffff ? value : undefined;
}

/** Epoch seconds as an ISO time without milliseconds. */
function isoSeconds(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
}

/** A slack in the largest whole unit: '1 h', '30 min', '90 s'. */
function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
