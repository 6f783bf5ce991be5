/**
 * The lines DuckDB could not read, from the rejects tables a scan filled: every one counted once
 * (a line may fail on several columns), the first ones sampled with their file (relative to the
 * directory), line number and a reason in the flow log's words. Malformed input is never fatal
 * and never silently dropped.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { MalformedRecord } from '../../../shared/model/flow';
import type { UnreadableFile } from './file-scanner';
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
 * Every line DuckDB rejected, counted once per line, and the first `sampleLimit` with file and
 * line. `rejectTables` are a scan's (rejects table, reject scans table) pairs; the caller drops them.
 *
 * @example await malformedLines(connection, scan.rejectTables, scan.files, 20) // { count: 2, samples: [{ file: 'a.log.gz', line: 3, reason: "srcport: 'ssh' is not a port (0–65535)" }, …] }
 */
export async function malformedLines(
  connection: DuckDBConnection,
  rejectTables: readonly string[],
  files: readonly FlowLogFile[],
  sampleLimit: number,
): Promise<{ count: number; samples: MalformedRecord[] }> {
  if (rejectTables.length === 0) return { count: 0, samples: [] };
  const relativeByPath = new Map(files.map((f) => [f.path, f.relativePath]));
  const lines: string[] = [];
  for (let i = 0; i + 1 < rejectTables.length; i += 2) {
    const [errors, scans] = [rejectTables[i] as string, rejectTables[i + 1] as string];
    lines.push(
      `SELECT s.file_path AS file, e.line AS line,
                arg_min(CAST(e.error_type AS VARCHAR), e.column_idx) AS error_type,
                arg_min(e.column_name, e.column_idx) AS column_name,
                arg_min(e.error_message, e.column_idx) AS error_message
         FROM ${errors} e JOIN ${scans} s ON e.scan_id = s.scan_id AND e.file_id = s.file_id
         GROUP BY s.file_path, e.line`,
    );
  }
  const rejected = `(${lines.join('\nUNION ALL\n')})`;
  const [total] = (await connection.runAndReadAll(`SELECT count(*) AS n FROM ${rejected}`)).getRowObjects();
  const count = Number(total?.n ?? 0);
  let samples: MalformedRecord[] = [];
  if (count > 0 && sampleLimit > 0) {
    const rows = (
      await connection.runAndReadAll(
        `SELECT file, line, error_type, column_name, error_message FROM ${rejected} ORDER BY file, line LIMIT ${sampleLimit}`,
      )
    ).getRowObjects();
    samples = rows.map((r) => ({
      file: relativeByPath.get(String(r.file)) ?? String(r.file),
      line: Number(r.line),
      reason: malformedReason(
        String(r.error_type),
        r.column_name === null ? undefined : String(r.column_name),
        String(r.error_message),
      ),
    }));
  }
  return { count, samples };
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

/**
 * A malformed line's reason in the flow log's words, from DuckDB's reject entry.
 *
 * @example malformedReason('CAST', 'dstport', 'Could not convert string "http" to \'USMALLINT\'') // "dstport: 'http' is not a port (0–65535)"
 */
function malformedReason(errorType: string, column: string | undefined, message: string): string {
  const counts = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(message);
  if ((errorType === 'MISSING COLUMNS' || errorType === 'TOO MANY COLUMNS') && counts) {
    return `wrong field count: ${counts[2]} fields, header has ${counts[1]}`;
  }
  const value = /string "(.*)" to/.exec(message)?.[1];
  if (errorType === 'CAST' && column !== undefined && value !== undefined) {
    const expected = EXPECTED_VALUE[column] ?? 'valid';
    return `${column.replaceAll('_', '-')}: '${value}' is not ${expected}`;
  }
  return `${errorType.toLowerCase()}: ${message}`;
}
