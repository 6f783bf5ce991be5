/**
 * One benchmark measurement in a fresh process (so peak RSS is this run's alone):
 *   measure.ts audit DIR         — the offline audit through the CLI entry point, every output
 *   measure.ts duckdb-floor DIR  — DuckDB alone: a bare GROUP BY interface-id over the same files
 *   measure.ts duckdb-connections DIR — DuckDB alone: a bare GROUP BY of the records by connection
 *                                (ENI, addresses, ports, protocol, action) with record, packet and
 *                                byte sums: the least any connection-level analysis reads and groups
 * Prints one JSON line: { wallMs, maxRssMb, records, files }.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { readFirstLine } from '../adapters/local/duckdb/flow-files';
import { main } from '../cli/main';

const [kind, dir] = process.argv.slice(2);
if (!kind || !dir) throw new Error('usage: measure.ts audit|duckdb-floor|duckdb-connections DIR');

function flowLogFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/\.(log|txt)(\.gz)?$|\.parquet$/.test(entry.name)) files.push(p);
    }
  };
  walk(root);
  return files.sort();
}

/**
 * The header line, read as the audit reads it (the first kilobyte, inflated as far as it goes):
 * inflating every whole file here once cost 0.75 s at 100x and was counted in the floor.
 */
async function headerOf(file: string): Promise<string> {
  return (await readFirstLine({ path: file, gzip: file.endsWith('.gz') })) ?? '';
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** Flow-log fields read as numbers by the connection GROUP BY (the audit reads them so too). */
const NUMERIC_TYPES: Readonly<Record<string, string>> = {
  srcport: 'USMALLINT',
  dstport: 'USMALLINT',
  protocol: 'UTINYINT',
  packets: 'BIGINT',
  bytes: 'BIGINT',
  start: 'UINTEGER',
  end: 'UINTEGER',
};

/** What each floor computes per relation; `records` must sum to the records read. */
const FLOOR_QUERIES = {
  'duckdb-floor': (relation: string) =>
    `SELECT count(*) AS records FROM (SELECT interface_id FROM ${relation}) GROUP BY interface_id`,
  'duckdb-connections': (relation: string) =>
    // The outer sums keep every aggregate alive (an unreferenced one would be optimised away).
    `SELECT sum(n) AS records, count(*) AS connections, sum(p) AS packets, sum(b) AS bytes FROM (
       SELECT count(*) AS n, sum(packets) AS p, sum(bytes) AS b FROM ${relation}
       GROUP BY interface_id, srcaddr, dstaddr, srcport, dstport, protocol, action)`,
} as const;
type FloorKind = keyof typeof FLOOR_QUERIES;

async function floor(root: string, kind: FloorKind): Promise<{ records: number; files: number }> {
  const files = flowLogFiles(path.join(root, 'flowlogs'));
  const byHeader = new Map<string, string[]>();
  const text = files.filter((file) => !file.endsWith('.parquet'));
  const parquet = files.filter((file) => file.endsWith('.parquet'));
  const headers = await Promise.all(text.map(headerOf));
  text.forEach((file, i) => {
    const header = headers[i] ?? '';
    byHeader.set(header, [...(byHeader.get(header) ?? []), file]);
  });
  const relations: string[] = [];
  for (const [header, group] of byHeader) {
    const columns = header
      .trim()
      .split(/\s+/)
      .map((f) => f.replaceAll('-', '_'))
      .map((f) => `${sqlString(f)}: '${(kind === 'duckdb-connections' && NUMERIC_TYPES[f]) || 'VARCHAR'}'`)
      .join(', ');
    relations.push(
      `read_csv([${group.map(sqlString).join(', ')}], delim=' ', header=true, columns={${columns}}, ignore_errors=true)`,
    );
  }
  if (parquet.length > 0)
    relations.push(`read_parquet([${parquet.map(sqlString).join(', ')}], union_by_name=true)`);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  let records = 0;
  for (const relation of relations) {
    const reader = await connection.runAndReadAll(FLOOR_QUERIES[kind](relation));
    for (const row of reader.getRowObjects()) records += Number(row.records);
  }
  connection.closeSync();
  instance.closeSync();
  return { records, files: files.length };
}

async function audit(root: string): Promise<{ records: number; files: number }> {
  const out = path.join('bench', 'out', `report-${path.basename(root)}`);
  const sink = { write: () => true };
  const code = await main(['audit', '--input', root, '--out', out, '--quiet'], {
    version: 'bench',
    stdout: sink,
    stderr: process.stderr,
  });
  if (code !== 0) throw new Error(`audit exited ${code}`);
  const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
  const files = report.flowSources.reduce((n: number, s: { files: number }) => n + s.files, 0);
  return { records: report.summary.flowRecords, files };
}

const started = performance.now();
if (kind !== 'audit' && !(kind in FLOOR_QUERIES)) throw new Error(`unknown measurement '${kind}'`);
const result = kind === 'audit' ? await audit(dir) : await floor(dir, kind as FloorKind);
const wallMs = Math.round(performance.now() - started);
const maxRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ wallMs, maxRssMb, ...result })}\n`);
