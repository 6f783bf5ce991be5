/**
 * Reading the aggregate rows when DuckDB's memory is short: strings as text once the dictionary
 * joins do not fit, and a loud failure, never a short read, when DuckDB stops a stream.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { StoredRows } from '../../../../adapters/local/duckdb/single-pass';
import type { FlowAggregate } from '../../../../shared/model/flow';

/** Aggregate rows as the single pass leaves them: one scanner each, 300,000 distinct addresses. */
const ROWS = 300_000;

let temp: string;
let connection: DuckDBConnection;

beforeAll(async () => {
  temp = mkdtempSync(path.join(os.tmpdir(), 'sg-audit-stored-rows-'));
  const instance = await DuckDBInstance.create(':memory:', { temp_directory: temp, threads: '1' });
  connection = await instance.connect();
  await connection.run(`CREATE TEMP TABLE aggregates AS SELECT
      'aggregate' AS row_kind, 'eni-1' AS eni_id, 'REJECT' AS action, 6 AS protocol,
      '11.' || (i // 65536) || '.' || ((i // 256) % 256) || '.' || (i % 256) AS client_addr,
      '10.0.0.21' AS server_addr, 22 AS server_port, 40000 + (i % 20000) AS client_port,
      'well-known' AS evidence, 1 AS records, 1 AS request_records, 1 AS syn_records, 1 AS packets,
      44 AS bytes, 1000 + i AS first_seen, 1030 + i AS last_seen, 1 AS distinct_client_ports,
      'fl-1' AS flow_log_id, NULL::VARCHAR AS server_service
    FROM range(${ROWS}) t(i)`);
}, 60_000);

afterAll(() => {
  connection.closeSync();
  rmSync(temp, { recursive: true, force: true });
});

async function readAll(memoryLimit: string, dictionary: string): Promise<FlowAggregate[]> {
  await connection.run(`SET memory_limit = '${memoryLimit}'`);
  const rows: FlowAggregate[] = [];
  for await (const chunk of new StoredRows(connection, 'aggregates', dictionary).read()) {
    for (const row of chunk) rows.push(row);
  }
  return rows;
}

const byFirstSeen = (a: FlowAggregate, b: FlowAggregate) => a.firstSeen - b.firstSeen;

describe('StoredRows.read with little DuckDB memory', () => {
  it('reads every row as text, the same rows, when joining the dictionary of addresses does not fit', async () => {
    // Prepare: the rows through the dictionary, with memory to spare
    const coded = await readAll('1GB', 'strings_a');

    // Act: 32 MB holds a plain scan but not the dictionary joins
    const plain = await readAll('32MB', 'strings_b');

    // Assess
    expect(plain).toHaveLength(ROWS);
    plain.sort(byFirstSeen);
    coded.sort(byFirstSeen);
    const key = (row: FlowAggregate) => `${row.clientAddr}|${row.clientPort}|${row.firstSeen}`;
    expect(plain.map(key)).toEqual(coded.map(key));
    const every1000th = (rows: FlowAggregate[]) => rows.filter((_, i) => i % 1000 === 0);
    expect(every1000th(plain)).toEqual(every1000th(coded));
    expect(plain[ROWS - 1]).toMatchObject({ clientAddr: '11.4.147.223', eniId: 'eni-1', flowLogId: 'fl-1' });
  }, 60_000);

  it('fails, naming the rows it read, rather than end early when DuckDB stops the stream', async () => {
    // Act / Assess: 8 MB runs out of memory part-way through the scan itself
    await expect(readAll('8MB', 'strings_c')).rejects.toThrow(
      /DuckDB stopped streaming the flow aggregates after \d+ of 300000 rows .*raise --memory-limit/,
    );
  }, 60_000);
});
