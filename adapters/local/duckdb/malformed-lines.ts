/**
 * The lines DuckDB could not read, from the rejects tables a scan filled: every one counted once
 * (a line may fail on several columns), the first ones sampled with their file (relative to the
 * directory), line number and a reason in the flow log's words. Malformed input is never fatal
 * and never silently dropped.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { sqlString } from '../../../shared/flow/aggregate-sql';
import type { MalformedRecord } from '../../../shared/model/flow';
import type { RejectTables, UnreadableFile } from './file-scanner';
import type { FlowLogFile } from './flow-files';

/** What a value of a column must be, in the words of a malformed-line reason. */
const EXPECTED_VALUE: Readonly<Partial<Record<string, string>>> = {
  srcport: 'a port (0–65535)',
  dstport: 'a port (0–65535)',
  protocol: 'a protocol number (0–255)',
  packets: 'a count',
  bytes: 'a count',
  start: 'epoch seconds',
  end: 'epoch seconds',
  tcp_flags: 'a tcp-flags bitmask',
};

/**
 * The lines DuckDB rejected in one scan, from the scan's rejects tables (the caller drops them):
 * one row per line (a line may fail on several columns), its first error kept.
 *
 * @example
 * const rejected = new RejectedLines(connection, scan.rejectTables);
 * await rejected.malformed(scan.files, 20) // { count: 2, samples: [{ file: 'a.log.gz', line: 3, reason: "srcport: 'ssh' is not a port (0–65535)" }, …] }
 */
export class RejectedLines {
  /** The rejected lines as a relation (file, line, the first error, the line read, header_fields); undefined for none. */
  private readonly relation?: string;

  constructor(
    private readonly connection: DuckDBConnection,
    rejectTables: readonly RejectTables[],
  ) {
    if (rejectTables.length === 0) return;
    const lines = rejectTables.map(
      ({ errors, scans, headerFields }) =>
        `SELECT s.file_path AS file, e.line AS line,
                arg_min(CAST(e.error_type AS VARCHAR), e.column_idx) AS error_type,
                arg_min(e.column_name, e.column_idx) AS column_name,
                arg_min(e.error_message, e.column_idx) AS error_message,
                arg_min(e.csv_line, e.column_idx) AS csv_line,
                ${headerFields} AS header_fields
         FROM ${errors} e JOIN ${scans} s ON e.scan_id = s.scan_id AND e.file_id = s.file_id
         GROUP BY s.file_path, e.line`,
    );
    this.relation = `(${lines.join('\nUNION ALL\n')})`;
  }

  /** The files (absolute paths) with a rejected line. */
  async files(): Promise<string[]> {
    if (this.relation === undefined) return [];
    const rows = await this.rows(`SELECT DISTINCT file FROM ${this.relation} ORDER BY file`);
    return rows.map((r) => String(r.file));
  }

  /** The rejected line numbers of each of the files (absolute paths) that has any. */
  async linesIn(paths: readonly string[]): Promise<Map<string, Set<number>>> {
    const byFile = new Map<string, Set<number>>();
    if (this.relation === undefined || paths.length === 0) return byFile;
    const rows = await this.rows(
      `SELECT file, line FROM ${this.relation} WHERE file IN (${paths.map(sqlString).join(', ')})`,
    );
    for (const row of rows) {
      const file = String(row.file);
      byFile.set(file, (byFile.get(file) ?? new Set()).add(Number(row.line)));
    }
    return byFile;
  }

  /**
   * Every rejected line counted, the first `sampleLimit` sampled with file (relative path) and
   * line; `reasonAt` may give a line a better reason than its error (the line a cut split).
   */
  async malformed(
    files: readonly FlowLogFile[],
    sampleLimit: number,
    reasonAt: (path: string, line: number) => string | undefined = () => undefined,
  ): Promise<{ count: number; samples: MalformedRecord[] }> {
    if (this.relation === undefined) return { count: 0, samples: [] };
    const relativeByPath = new Map(files.map((f) => [f.path, f.relativePath]));
    const [total] = await this.rows(`SELECT count(*) AS n FROM ${this.relation}`);
    const count = Number(total?.n ?? 0);
    if (count === 0 || sampleLimit === 0) return { count, samples: [] };
    const rows = await this.rows(
      `SELECT file, line, error_type, column_name, error_message, csv_line, header_fields
       FROM ${this.relation} ORDER BY file, line LIMIT ${sampleLimit}`,
    );
    const samples = rows.map((r) => ({
      file: relativeByPath.get(String(r.file)) ?? String(r.file),
      line: Number(r.line),
      reason:
        reasonAt(String(r.file), Number(r.line)) ??
        malformedReason({
          errorType: String(r.error_type),
          column: r.column_name === null ? undefined : String(r.column_name),
          message: String(r.error_message),
          ...(r.csv_line === null ? {} : { line: String(r.csv_line) }),
          headerFields: Number(r.header_fields),
        }),
    }));
    return { count, samples };
  }

  private async rows(sql: string): Promise<Record<string, DuckDBValue>[]> {
    return (await this.connection.runAndReadAll(sql)).getRowObjects();
  }
}

/**
 * The first `limit` samples in file, then line order: the files left out whole (each one
 * malformed record, at line 1) with the malformed lines.
 *
 * @example firstSamples([{ file: 'b.log', reason: 'flow-log format lacks srcport' }], lines, 20) // [{ file: 'a.log.gz', line: 3, … }, { file: 'b.log', line: 1, … }]
 */
export function firstSamples(
  unreadable: readonly UnreadableFile[],
  lines: readonly MalformedRecord[],
  limit: number,
): MalformedRecord[] {
  return [...unreadable.map((u) => ({ file: u.file, line: 1, reason: u.reason })), ...lines]
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line))
    .slice(0, limit);
}

/** DuckDB's reject entry of a line (its first error), and the field count of the file's header. */
interface RejectEntry {
  readonly errorType: string;
  readonly column: string | undefined;
  readonly message: string;
  /** The line as read (csv_line). */
  readonly line?: string;
  readonly headerFields: number;
}

/**
 * A malformed line's reason in the flow log's words, from DuckDB's reject entry. A line with a
 * field too many or too few in the middle fails first on the cast of a shifted value (an address
 * read as a port): its field count, against the header's, is the real cause.
 *
 * @example malformedReason({ errorType: 'CAST', column: 'dstport', message: 'Could not convert string "http" to \'USMALLINT\'', headerFields: 14 }) // "dstport: 'http' is not a port (0–65535)"
 */
function malformedReason({ errorType, column, message, line, headerFields }: RejectEntry): string {
  const counts = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(message);
  if ((errorType === 'MISSING COLUMNS' || errorType === 'TOO MANY COLUMNS') && counts) {
    return `wrong field count: ${counts[2]} fields, header has ${counts[1]}`;
  }
  // The reader splits on single spaces (delim ' ', no quotes), as here.
  const fields = line?.split(' ').length;
  if (errorType === 'CAST' && fields !== undefined && fields !== headerFields) {
    return `wrong field count: ${fields} fields, header has ${headerFields}`;
  }
  const value = /string "(.*)" to/.exec(message)?.[1];
  if (errorType === 'CAST' && column !== undefined && value !== undefined) {
    const expected = EXPECTED_VALUE[column] ?? 'valid';
    return `${column.replaceAll('_', '-')}: '${value}' is not ${expected}`;
  }
  return `${errorType.toLowerCase()}: ${message}`;
}
