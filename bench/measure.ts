/**
 * One benchmark measurement in a fresh process (so peak RSS is this run's alone):
 *   measure.ts audit DIR [--memory-limit SIZE] — the offline audit through the CLI entry point, every output
 *   measure.ts duckdb-service-ports DIR — the reference's grouping over readers given each header's
 *                                columns (one read_csv per header, no sniffing): what it costs without
 *                                union_by_name's per-file schema detection
 *   measure.ts duckdb-reference DIR — DuckDB alone, the scale target's reference: the gzip files read once
 *                                with read_csv(…, union_by_name=true), ACCEPT/OK records grouped by
 *                                (interface-id, srcaddr, dstaddr, protocol, least(srcport, dstport)) with
 *                                count(*), sum(bytes) and bool_or(srcport < dstport)
 *   measure.ts duckdb-floor DIR  — DuckDB alone: a bare GROUP BY interface-id over the same files
 *   measure.ts duckdb-connections DIR — DuckDB alone: a bare GROUP BY of the records by connection
 *                                (ENI, addresses, ports, protocol, action) with record, packet and
 *                                byte sums: the least any connection-level analysis reads and groups
 * Prints one JSON line: { wallMs, cpuMs, maxRssMb, records, files } (the audit adds its report's
 * sha256 without run id and times: `reportSha`).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { readFirstLine } from '../adapters/local/duckdb/flow-files';
import { main } from '../cli/main';

const [kind, dir, ...rest] = process.argv.slice(2);
if (!kind || !dir)
  throw new Error(
    'usage: measure.ts audit|duckdb-floor|duckdb-connections|duckdb-service-ports|duckdb-reference DIR [--memory-limit SIZE]',
  );
const memoryLimit = rest[0] === '--memory-limit' ? rest[1] : undefined;

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
  'duckdb-service-ports': (relation: string) =>
    // The reference's grouping over the audit's kind of reader: one read_csv per header, its columns given.
    `SELECT sum(n) AS records, count(*) AS groups, sum(b) AS bytes, count_if(lower) AS lower FROM (
       SELECT count(*) AS n, sum(bytes) AS b, bool_or(srcport < dstport) AS lower FROM ${relation}
       WHERE action = 'ACCEPT' AND log_status = 'OK'
       GROUP BY interface_id, srcaddr, dstaddr, protocol, least(srcport, dstport))`,
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
      .map((f) => `${sqlString(f)}: '${(kind !== 'duckdb-floor' && NUMERIC_TYPES[f]) || 'VARCHAR'}'`)
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

/**
 * The scale target's reference (issue 18): DuckDB alone reading the gzip files once with
 * read_csv(…, union_by_name=true) — the numeric columns it computes on typed, '-' as NULL, lines it
 * cannot read skipped — keeping ACCEPT/OK records and grouping them by ENI, addresses, protocol and
 * service port (the lower port) with count(*), sum(bytes) and bool_or(srcport < dstport).
 */
async function reference(root: string): Promise<{ records: number; files: number }> {
  const files = flowLogFiles(path.join(root, 'flowlogs')).filter((file) => file.endsWith('.gz'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll(
    `SELECT sum(n) AS records, count(*) AS groups, sum(b) AS bytes, count_if(lower) AS lower FROM (
       SELECT count(*) AS n, sum(bytes) AS b, bool_or(srcport < dstport) AS lower
       FROM read_csv([${files.map(sqlString).join(', ')}], union_by_name = true, delim = ' ', header = true,
         nullstr = '-', types = {'srcport': 'INTEGER', 'dstport': 'INTEGER', 'protocol': 'INTEGER', 'bytes': 'BIGINT'},
         ignore_errors = true)
       WHERE action = 'ACCEPT' AND "log-status" = 'OK'
       GROUP BY "interface-id", srcaddr, dstaddr, protocol, least(srcport, dstport))`,
  );
  const records = Number(reader.getRowObjects()[0]?.records ?? 0);
  connection.closeSync();
  instance.closeSync();
  return { records, files: files.length };
}

/**
 * A report's sha256 without what changes from run to run (run id, times) and the count of
 * statements run (an aggregation run again with more memory reads the files again).
 */
function reportSha(report: Record<string, unknown>): string {
  const { runId: _run, generatedAt: _at, ...rest } = report;
  const findings = (rest.findings as Record<string, unknown>[]).map(({ firstReportedAt: _first, ...f }) => f);
  const summary = { ...(rest.summary as Record<string, unknown>), queries: undefined };
  const flowSources = (rest.flowSources as Record<string, unknown>[]).map((s) => ({
    ...s,
    queries: undefined,
  }));
  return createHash('sha256')
    .update(JSON.stringify({ ...rest, summary, flowSources, findings }))
    .digest('hex');
}

async function audit(root: string): Promise<{ records: number; files: number; reportSha: string }> {
  const out = path.join(
    'bench',
    'out',
    `report-${path.basename(root)}${memoryLimit ? `-${memoryLimit}` : ''}`,
  );
  const sink = { write: () => true };
  const limit = memoryLimit ? ['--memory-limit', memoryLimit] : [];
  const code = await main(['audit', '--input', root, '--out', out, '--quiet', ...limit], {
    version: 'bench',
    stdout: sink,
    stderr: process.stderr,
  });
  if (code !== 0) throw new Error(`audit exited ${code}`);
  const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
  const files = report.flowSources.reduce((n: number, s: { files: number }) => n + s.files, 0);
  return { records: report.summary.flowRecords, files, reportSha: reportSha(report) };
}

const started = performance.now();
if (kind !== 'audit' && kind !== 'duckdb-reference' && !(kind in FLOOR_QUERIES))
  throw new Error(`unknown measurement '${kind}'`);
const result =
  kind === 'audit'
    ? await audit(dir)
    : kind === 'duckdb-reference'
      ? await reference(dir)
      : await floor(dir, kind as FloorKind);
const wallMs = Math.round(performance.now() - started);
const usage = process.resourceUsage();
const cpuMs = Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000);
const maxRssMb = usage.maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ wallMs, cpuMs, maxRssMb, ...result })}\n`);
