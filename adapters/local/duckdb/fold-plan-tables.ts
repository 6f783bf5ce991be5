/**
 * The tables DuckDB settles undecided flow rows with, inside the single-pass aggregation
 * (buildFlowSinglePassSql's `foldPlan`), by the core's own `peer-ephemeral` rule
 * (shared/analysis/fold.ts, pass 2) from the EphemeralFoldPlan the core hands the query.
 *
 * Without them every undecided row — one per client port, so one per short connection — crosses
 * into JavaScript only for the core to settle it by a range test; at 3.6M records that was half a
 * million rows. With them each undecided (connection, client port) row whose local side is an
 * inventory address gets the core's verdict in the query: exactly one side's port in that side's
 * ephemeral range (the row's ENI's ranges for the local side; the owning ENI's, or the default,
 * for the peer) makes the other side the service. Settled rows are grouped like engine-decided
 * rows — one per (ENI, action, protocol, client, server, service port), `distinct_client_ports`
 * = the client ports merged, each of which the core would have counted as one connection — so
 * foldConnections yields the same connections, counters, evidence and counterpart-port evidence.
 * Rows the plan cannot settle stay as they were.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { type FoldPlanTables, sqlString } from '../../../shared/flow/aggregate-sql';
import type { EphemeralFoldPlan } from '../../../shared/model/flow';

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
 * Creates the fold-plan tables buildFlowSinglePassSql settles undecided rows with (temporary,
 * replaced when they exist); drop them with {@link dropFoldPlanTables} after the query.
 *
 * @example const tables = await createFoldPlanTables(connection, plan); // { owners: 'fold_plan_owner', … }
 */
export async function createFoldPlanTables(
  connection: DuckDBConnection,
  plan: EphemeralFoldPlan,
): Promise<FoldPlanTables> {
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
  return { owners: OWNERS, ranges: RANGES, defaultKey: DEFAULT_KEY };
}

/** Drops what {@link createFoldPlanTables} created. */
export async function dropFoldPlanTables(connection: DuckDBConnection): Promise<void> {
  await connection.run(`DROP TABLE IF EXISTS ${OWNERS}; DROP TABLE IF EXISTS ${RANGES}`);
}
