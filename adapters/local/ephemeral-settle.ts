/**
 * Settles undecided flow-aggregate rows inside DuckDB with the core's own `peer-ephemeral` rule
 * (shared/analysis/fold.ts, pass 2), from the EphemeralFoldPlan the core hands the query.
 *
 * Without it every undecided row — one per client port, so one per short connection — crosses
 * into JavaScript only for the core to settle it by a range test; at 3.6M records that was half a
 * million rows. Here each undecided row whose local side is an inventory address gets the core's
 * verdict: exactly one side's port in that side's ephemeral range (the row's ENI's ranges for the
 * local side; the owning ENI's, or the default, for the peer) makes the other side the service.
 * Settled rows are then grouped like engine-decided rows — one per (ENI, action, protocol, client,
 * server, service port), `distinct_client_ports` = the rows merged, each of which the core would
 * have counted as one connection — so foldConnections yields the same connections, counters,
 * evidence and counterpart-port evidence. Rows the plan cannot settle stay as they were.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../../shared/flow/aggregate-sql';
import type { EphemeralFoldPlan } from '../../shared/model/flow';

const OWNERS = 'fold_plan_owner';
const RANGES = 'fold_plan_range';
/** The key of the default ranges in the ranges table (no ENI id looks like it). */
const DEFAULT_KEY = '*';
/** Rows per INSERT of the plan tables. */
const INSERT_BATCH = 1000;

async function insertRows(
  connection: DuckDBConnection,
  table: string,
  rows: readonly string[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_BATCH) {
    await connection.run(`INSERT INTO ${table} VALUES ${rows.slice(i, i + INSERT_BATCH).join(', ')}`);
  }
}

/**
 * Creates `target` from the aggregate table `source` (the FLOW_AGGREGATE_COLUMNS of
 * buildFlowAggregateSql) with the rows the plan settles replaced by `peer-ephemeral` rows.
 * Returns how many undecided rows were settled.
 *
 * @example await settleUndecidedRows(connection, 'flow_aggregate', 'flow_aggregate_settled', plan) // 507112
 */
export async function settleUndecidedRows(
  connection: DuckDBConnection,
  source: string,
  target: string,
  plan: EphemeralFoldPlan,
): Promise<number> {
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${OWNERS} (addr VARCHAR, eni_id VARCHAR)`);
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${RANGES} (eni_id VARCHAR, lo INTEGER, hi INTEGER)`);
  await insertRows(
    connection,
    OWNERS,
    plan.addresses.map((a) => `(${sqlString(a.addr)}, ${sqlString(a.eniId)})`),
  );
  const range = (key: string, r: { from: number; to: number }): string =>
    `(${sqlString(key)}, ${Math.trunc(r.from)}, ${Math.trunc(r.to)})`;
  await insertRows(connection, RANGES, [
    ...plan.defaultRanges.map((r) => range(DEFAULT_KEY, r)),
    ...plan.enis.flatMap((e) => e.ranges.map((r) => range(e.eniId, r))),
  ]);
  const localPort = 'CASE WHEN m.server_is_local THEN m.server_port ELSE m.client_port END';
  const peerPort = 'CASE WHEN m.server_is_local THEN m.client_port ELSE m.server_port END';
  // Ranges are merged per ENI (ephemeralFoldPlan), so each side joins at most one of them.
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${target} AS
WITH marked AS (
  SELECT a.*,
    -- The local side, as the core finds it: the server's address first, then the client's.
    CASE WHEN so.eni_id = a.eni_id THEN TRUE WHEN co.eni_id = a.eni_id THEN FALSE END AS server_is_local,
    COALESCE(CASE WHEN so.eni_id = a.eni_id THEN co.eni_id ELSE so.eni_id END, ${sqlString(DEFAULT_KEY)}) AS peer_key
  FROM ${source} a
  LEFT JOIN ${OWNERS} co ON co.addr = a.client_addr
  LEFT JOIN ${OWNERS} so ON so.addr = a.server_addr
),
judged AS MATERIALIZED (
  SELECT m.*,
    COALESCE(m.evidence = 'undecided' AND m.client_port IS NOT NULL AND m.server_port IS NOT NULL
      AND m.server_is_local IS NOT NULL AND (lr.eni_id IS NOT NULL) <> (pr.eni_id IS NOT NULL), FALSE) AS settle,
    -- The service is local when the peer's port is the ephemeral one; flip rows whose
    -- tentative server is not the service.
    COALESCE((pr.eni_id IS NOT NULL) <> m.server_is_local, FALSE) AS flip
  FROM marked m
  LEFT JOIN ${RANGES} lr ON lr.eni_id = m.eni_id AND ${localPort} BETWEEN lr.lo AND lr.hi
  LEFT JOIN ${RANGES} pr ON pr.eni_id = m.peer_key AND ${peerPort} BETWEEN pr.lo AND pr.hi
)
SELECT eni_id, action, protocol, client_addr, server_addr, server_port, client_port, evidence,
  CAST(records AS BIGINT) AS records, CAST(request_records AS BIGINT) AS request_records,
  CAST(syn_records AS BIGINT) AS syn_records, CAST(packets AS BIGINT) AS packets, CAST(bytes AS BIGINT) AS bytes,
  first_seen, last_seen, CAST(distinct_client_ports AS BIGINT) AS distinct_client_ports
FROM judged
WHERE NOT settle
UNION ALL
SELECT
  eni_id, action, protocol,
  CASE WHEN flip THEN server_addr ELSE client_addr END AS client_addr,
  CASE WHEN flip THEN client_addr ELSE server_addr END AS server_addr,
  CASE WHEN flip THEN client_port ELSE server_port END AS server_port,
  CAST(NULL AS INTEGER) AS client_port,
  'peer-ephemeral' AS evidence,
  CAST(sum(records) AS BIGINT) AS records,
  CAST(sum(CASE WHEN flip THEN records - request_records ELSE request_records END) AS BIGINT) AS request_records,
  CAST(sum(syn_records) AS BIGINT) AS syn_records,
  CAST(sum(packets) AS BIGINT) AS packets,
  CAST(sum(bytes) AS BIGINT) AS bytes,
  min(first_seen) AS first_seen,
  max(last_seen) AS last_seen,
  -- Each undecided row is one connection to the core: count the rows.
  CAST(count(*) AS BIGINT) AS distinct_client_ports
FROM judged
WHERE settle
GROUP BY 1, 2, 3, 4, 5, 6`);
  const [row] = (
    await connection.runAndReadAll(
      `SELECT (SELECT count(*) FROM ${source}) - (SELECT count(*) FROM ${target} WHERE evidence <> 'peer-ephemeral') AS settled`,
    )
  ).getRowObjects();
  await connection.run(`DROP TABLE ${OWNERS}; DROP TABLE ${RANGES}`);
  return Number(row?.settled ?? 0);
}
