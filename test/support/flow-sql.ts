/**
 * Flow-log data as the SQL engines see it, for tests of the one aggregation query: records as a
 * typed relation DuckDB can run the query over, and the rows the single-pass query returns (what
 * Athena writes to its result CSV or pages).
 *
 * @example buildFlowAggregateSql({ dialect: 'duckdb', relation: flowRecordsRelation(records), window })
 */
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { FLOW_STATS_COLUMNS, type ResultCell, sqlString } from '../../shared/flow/aggregate-sql';
import type { DeliveryCount } from '../../shared/model/delivery';
import type { FlowAggregate } from '../../shared/model/flow';

/** One flow-log record; null is the log's '-'. */
export interface SqlFlowRecord {
  readonly eni: string | null;
  readonly src: string | null;
  readonly dst: string | null;
  readonly sport: number | null;
  readonly dport: number | null;
  readonly protocol: number | null;
  readonly packets: number | null;
  readonly bytes: number | null;
  readonly start: number | null;
  readonly end: number | null;
  readonly action: string | null;
  readonly status: string;
  readonly flags: number | null;
  /** pkt-srcaddr / pkt-dstaddr: absent or null is NULL (DuckDB's reading of '-'); '-' as Athena's text tables keep it. */
  readonly pktSrc?: string | null;
  readonly pktDst?: string | null;
  /** pkt-src-aws-service / pkt-dst-aws-service, likewise. */
  readonly srcService?: string | null;
  readonly dstService?: string | null;
}

export type SqlCell = string | number | null;

const literal = (value: SqlCell): string =>
  value === null ? 'NULL' : typeof value === 'number' ? String(value) : sqlString(value);

/**
 * A typed relation shaped like the DuckDB source's (underscore columns), from records; without
 * `tcp_flags` when `withFlags` is false (a default-format log). It always holds the packet-level
 * columns, as the DuckDB source's does (NULL where a record has none): the format (`fields`)
 * decides whether the query reads them.
 */
export function flowRecordsRelation(records: readonly SqlFlowRecord[], withFlags = true): string {
  const rows = records.map((r) =>
    [
      r.eni,
      r.src,
      r.dst,
      r.sport,
      r.dport,
      r.protocol,
      r.packets,
      r.bytes,
      r.start,
      r.end,
      r.action,
      r.status,
      r.flags,
      r.pktSrc ?? null,
      r.pktDst ?? null,
      r.srcService ?? null,
      r.dstService ?? null,
    ]
      .map(literal)
      .join(', '),
  );
  const flags = withFlags ? ', CAST(f AS INTEGER) AS tcp_flags' : '';
  return `(SELECT CAST(i AS VARCHAR) AS interface_id, CAST(s AS VARCHAR) AS srcaddr, CAST(d AS VARCHAR) AS dstaddr,
      CAST(sp AS INTEGER) AS srcport, CAST(dp AS INTEGER) AS dstport, CAST(p AS INTEGER) AS protocol,
      CAST(pk AS BIGINT) AS packets, CAST(b AS BIGINT) AS bytes, CAST(st AS BIGINT) AS start, CAST(en AS BIGINT) AS "end",
      CAST(a AS VARCHAR) AS action, CAST(ls AS VARCHAR) AS log_status${flags},
      CAST(ps AS VARCHAR) AS pkt_srcaddr, CAST(pd AS VARCHAR) AS pkt_dstaddr,
      CAST(ss AS VARCHAR) AS pkt_src_aws_service, CAST(ds AS VARCHAR) AS pkt_dst_aws_service
    FROM (VALUES (${rows.join('), (')})) AS v(i, s, d, sp, dp, p, pk, b, st, en, a, ls, f, ps, pd, ss, ds)) AS records`;
}

const nulls = (n: number): null[] => Array.from({ length: n }, () => null);

/** The cells of a single-pass `aggregate` row (statistics columns NULL). */
export function singlePassAggregateCells(a: FlowAggregate): SqlCell[] {
  return [
    'aggregate',
    a.eniId,
    a.action,
    a.protocol,
    a.clientAddr,
    a.serverAddr,
    a.serverPort,
    a.clientPort,
    a.evidence,
    a.records,
    a.requestRecords,
    a.synRecords,
    a.packets,
    a.bytes,
    a.firstSeen,
    a.lastSeen,
    a.distinctClientPorts,
    a.flowLogId ?? null,
    a.serverService ?? null,
    ...nulls(FLOW_STATS_COLUMNS.length),
    null,
    null,
    null,
  ];
}

/** Statistics of a single-pass `totals` or `eni` row; NULL where the query sums no records. */
export interface SinglePassTotals {
  readonly records: number | null;
  readonly nodata: number | null;
  readonly skipdata: number | null;
  readonly incomplete: number | null;
  readonly oldest: number | null;
  readonly newest: number | null;
}

/** The cells of a single-pass statistics row: `totals`, or `eni` with that ENI's share. */
export function singlePassStatsCells(
  kind: 'totals' | 'eni',
  eni: string | null,
  t: SinglePassTotals,
): SqlCell[] {
  return [
    kind,
    eni,
    ...nulls(7),
    t.records,
    ...nulls(9),
    t.nodata,
    t.skipdata,
    t.incomplete,
    t.oldest,
    t.newest,
    null,
    kind === 'eni' ? 0 : null,
    null,
  ];
}

/** The cells of a single-pass `delivery` row: one flow log's records for one ENI in one bucket. */
export function singlePassDeliveryCells(delivery: DeliveryCount): SqlCell[] {
  return [
    'delivery',
    delivery.eniId,
    ...nulls(7),
    delivery.records,
    ...nulls(7),
    delivery.flowLogId,
    null,
    ...nulls(FLOW_STATS_COLUMNS.length),
    delivery.bucketStart,
    null,
    null,
  ];
}

/** The cells of a single-pass `file` row: one object read and its records. */
export function singlePassFileCells(file: string, records: number): SqlCell[] {
  return [
    'file',
    ...nulls(8),
    records,
    ...nulls(7),
    null,
    null,
    ...nulls(FLOW_STATS_COLUMNS.length),
    null,
    null,
    file,
  ];
}

/** An in-memory DuckDB that runs the generated SQL. */
export interface InMemoryDuckDb {
  /** The open connection (from the suite's beforeAll on). */
  readonly connection: DuckDBConnection;
  /** The rows a query returns, as plain values. */
  rowsOf(sql: string): Promise<Record<string, ResultCell>[]>;
}

/**
 * Registers hooks that open an in-memory DuckDB before the suite's tests and close it after them.
 *
 * @example const duckdb = inMemoryDuckDb(); … const rows = await duckdb.rowsOf(sql);
 */
export function inMemoryDuckDb(): InMemoryDuckDb {
  let opened: { instance: DuckDBInstance; connection: DuckDBConnection } | undefined;
  const connection = (): DuckDBConnection => {
    if (opened === undefined) throw new Error('the in-memory DuckDB is not open (beforeAll)');
    return opened.connection;
  };
  beforeAll(async () => {
    const instance = await DuckDBInstance.create(':memory:');
    opened = { instance, connection: await instance.connect() };
  });
  afterAll(() => {
    opened?.connection.closeSync();
    opened?.instance.closeSync();
  });
  return {
    get connection() {
      return connection();
    },
    rowsOf: async (sql) =>
      (await connection().runAndReadAll(sql)).getRowObjectsJS() as Record<string, ResultCell>[],
  };
}
