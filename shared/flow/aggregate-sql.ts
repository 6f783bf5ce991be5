/**
 * The one logical flow aggregation, written once as SQL for every SQL engine the product runs:
 * DuckDB (local files) and Athena (Trino). It turns flow-log records into the FlowAggregate rows
 * of shared/model/flow.ts, pre-folding each record into the connection it belongs to.
 *
 * The relation read must have the flow-log fields as columns named with underscores
 * (`interface_id`, `log_status`, `tcp_flags`, …) — what AWS's Athena DDL, AWS's Parquet files and
 * the DuckDB source's table all use — with integer ports, protocol, counters and times.
 *
 * Dialect differences (everything else is the same text, a test holds it so):
 *  - bitwise AND: DuckDB `(flags & 18)`, Athena `bitwise_and(flags, 18)` (Trino has no `&`);
 *  - nothing else: both quote the reserved `end` as `"end"` (backticks are Athena DDL only), both
 *    take `CAST(sum(…) AS BIGINT)` (DuckDB's sum of BIGINT would be HUGEINT), `CASE`, boolean
 *    `<>`, `BETWEEN` and `COALESCE`. Conditional counts use `sum(CASE …)` rather than
 *    `FILTER (WHERE …)`, and distinct client ports come from a two-level GROUP BY rather than
 *    `count(DISTINCT …)`: plain GROUP BYs spill to disk in DuckDB under a memory limit (its
 *    DISTINCT aggregate ran out of memory at 256 MB on 3.6M records) and cost Athena the same.
 * The rules are also exported as constants for the Logs Insights source, which cannot run SQL.
 */
import { InvalidValueError } from '../errors';
import type { DeliveryCount } from '../model/delivery';
import type { FlowAction, FlowAggregate, FoldEvidence, TimeWindow } from '../model/flow';
import { DEFAULT_FIELDS, hasField } from './format';

export type SqlDialect = 'duckdb' | 'athena';

/** tcp-flags bits that decide the initiator: SYN (2) and ACK (16). */
export const INITIATOR_FLAG_MASK = 18;
/** `flags & 18` of the initiator's record: SYN without ACK. */
export const SYN_FLAGS = 2;
/** `flags & 18` of the responder's record: SYN-ACK. */
export const SYN_ACK_FLAGS = 18;
/** Ports below this are well-known service ports. */
export const WELL_KNOWN_PORT_LIMIT = 1024;
/** IANA protocols whose flow-log records carry ports: tcp, udp, sctp. */
export const PORTED_PROTOCOLS: readonly number[] = [6, 17, 132];

/** The columns of the aggregate query, in order (snake_case of FlowAggregate). */
export const FLOW_AGGREGATE_COLUMNS = [
  'eni_id',
  'action',
  'protocol',
  'client_addr',
  'server_addr',
  'server_port',
  'client_port',
  'evidence',
  'records',
  'request_records',
  'syn_records',
  'packets',
  'bytes',
  'first_seen',
  'last_seen',
  'distinct_client_ports',
  'flow_log_id',
  'server_service',
] as const;

export interface FlowSqlOptions {
  readonly dialect: SqlDialect;
  /** What to read: a table name, or a parenthesised subquery with an alias. Inserted as written. */
  readonly relation: string;
  /**
   * The flow-log fields the relation holds (either spelling); decides whether tcp-flags,
   * pkt-srcaddr/pkt-dstaddr and pkt-src-aws-service/pkt-dst-aws-service are read. Default: the v2 fields.
   */
  readonly fields?: readonly string[];
  /** Records whose `start` lies in the window (epoch seconds, both ends inclusive). */
  readonly window: TimeWindow;
  /** ENIs in scope; empty or absent = all. */
  readonly eniIds?: readonly string[];
  /** Server-port ranges (inclusive) to keep; empty or absent = all. */
  readonly ports?: readonly { readonly from: number; readonly to: number }[];
  /** A predicate ANDed into every scan, e.g. Athena partition pruning (`day >= '2024/05/01'`). Inserted as written. */
  readonly partitionFilter?: string;
  /**
   * A SQL expression giving each record's flow-log id (a literal for a table of one flow log, an
   * expression over the file name for files of several); absent: NULL, the source cannot tell.
   * Inserted as written. Rows of different flow logs are kept apart: the core reads one per ENI.
   */
  readonly flowLogId?: string;
  /** Bucket length of the delivery rows, in seconds. @default 86400 (UTC days) */
  readonly bucketSeconds?: number;
  /**
   * A SQL expression giving each record's object (Athena's `"$path"`, DuckDB's `filename`: see
   * OBJECT_PATH in athena-ddl.ts). {@link buildFlowSinglePassSql} then also returns one `file`
   * row per object read, with its records: what a source holds against its own count of the
   * objects delivered (S3 ListObjectsV2). Inserted as written. Absent: no `file` rows.
   */
  readonly sourceFile?: string;
  /**
   * Join a connection's later capture intervals (no SYN: undecided alone) to the interval whose
   * SYN decided it, by their shared client port. Logs Insights, with one GROUP BY, cannot; its
   * parity tests ask for the unjoined rows. @default true
   */
  readonly joinLaterIntervals?: boolean;
}

/** The two statistics queries: totals (one row) and the ENIs with records in the window. */
export interface FlowStatsSql {
  /** Columns: records, nodata_records, skipdata_records, incomplete_records, oldest_start, newest_end. */
  readonly totals: string;
  /** Column: eni_id, one row per ENI, sorted. */
  readonly enis: string;
}

/**
 * A SQL string literal.
 *
 * @example sqlString("it's") // "'it''s'"
 */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function sqlInteger(value: number, what: string): string {
  if (!Number.isSafeInteger(value)) {
    throw new InvalidValueError(`expected an integer, got ${value}`, { field: what });
  }
  return String(value);
}

/** `(flags & 18)` in the dialect. */
function initiatorBits(dialect: SqlDialect): string {
  return dialect === 'athena'
    ? `bitwise_and(flags, ${INITIATOR_FLAG_MASK})`
    : `(flags & ${INITIATOR_FLAG_MASK})`;
}

const PORTED = PORTED_PROTOCOLS.join(', ');

/** True (never NULL) when a record can be aggregated: a data record with every value the fold needs. */
const USABLE_RECORD = `COALESCE(
      log_status NOT IN ('NODATA', 'SKIPDATA')
      AND action IN ('ACCEPT', 'REJECT')
      AND interface_id IS NOT NULL AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL
      AND protocol IS NOT NULL AND packets IS NOT NULL AND bytes IS NOT NULL
      AND start IS NOT NULL AND "end" IS NOT NULL
      AND (protocol NOT IN (${PORTED}) OR (srcport IS NOT NULL AND dstport IS NOT NULL)),
      FALSE)`;

/** The records' flow-log id column: the caller's expression, or a typed NULL. */
function flowLogIdOf(options: FlowSqlOptions): string {
  return options.flowLogId === undefined ? 'CAST(NULL AS VARCHAR)' : `CAST(${options.flowLogId} AS VARCHAR)`;
}

/**
 * Why the first GROUP BY keys each record by its OBSERVED client port whatever its evidence: the
 * records of one connection in later capture intervals (FIN-only, ACK-only: flags 1 or 0) are
 * undecided alone, but share the client port of the interval whose SYN decided the connection, so
 * they join it instead of counting as a connection of their own (AWS's tcp-flags example: two
 * connections, not three). The group's client port is kept only when no record of it decided.
 */
const CONNECTION_PER_CLIENT_PORT =
  'one row per (connection, observed client port): later intervals of a SYN-decided connection join it';

/** The client port a first-level group keeps: only when none of its records decided the initiator. */
const CLIENT_PORT_OF_GROUP = 'CASE WHEN max(evidence_rank) = 0 THEN observed_client_port END AS client_port';

/**
 * The first level's key for the client port: the observed one (joining later intervals, see
 * {@link CONNECTION_PER_CLIENT_PORT}), or, unjoined, the undecided record's own port beside it.
 */
function clientPortKey(options: FlowSqlOptions): { key: string; column: string } {
  if (options.joinLaterIntervals !== false) return { key: '', column: CLIENT_PORT_OF_GROUP };
  return { key: 'record_client_port, ', column: 'record_client_port AS client_port' };
}

/** A record's bucket start (`start - start mod length`: integer arithmetic in both dialects). */
function bucketOf(options: FlowSqlOptions): string {
  const seconds = sqlInteger(options.bucketSeconds ?? 86_400, 'bucketSeconds');
  return `(start - start % ${seconds})`;
}

/** The tcp-flags column, or a typed NULL when the format has none. */
function flagsColumnOf(fields: readonly string[] = DEFAULT_FIELDS): string {
  return hasField(fields, 'tcp-flags') ? 'tcp_flags' : 'CAST(NULL AS INTEGER)';
}

/** A text column whose `-` (Athena text tables keep it; DuckDB reads it as NULL) or NULL means "none". */
const dashAsNull = (column: string): string => `NULLIF(${column}, '-')`;

/**
 * The record's addresses and the AWS services AWS named for them, as the scan's columns: the
 * packet-level address (`pkt-srcaddr`/`pkt-dstaddr`) where the format has it and the record holds
 * one, else the interface-level one (AWS writes the ENI's primary address there for traffic to
 * or from its secondary addresses, an EKS pod's say, or passing through it: aws-facts.md); the
 * services typed NULL where the format has no such field.
 */
function addressColumnsOf(fields: readonly string[] = DEFAULT_FIELDS): string {
  const address = (column: 'srcaddr' | 'dstaddr') =>
    hasField(fields, `pkt-${column}`) ? `COALESCE(${dashAsNull(`pkt_${column}`)}, ${column})` : column;
  const service = (side: 'src' | 'dst') =>
    hasField(fields, `pkt-${side}-aws-service`)
      ? dashAsNull(`pkt_${side}_aws_service`)
      : 'CAST(NULL AS VARCHAR)';
  return `${address('srcaddr')} AS srcaddr, ${address('dstaddr')} AS dstaddr, ${service('src')} AS src_service, ${service('dst')} AS dst_service`;
}

function windowPredicate(window: TimeWindow): string {
  return `start BETWEEN ${sqlInteger(window.start, 'window.start')} AND ${sqlInteger(window.end, 'window.end')}`;
}

function eniPredicate(eniIds: readonly string[] | undefined): string | undefined {
  if (eniIds === undefined || eniIds.length === 0) return undefined;
  return `interface_id IN (${[...new Set(eniIds)].map(sqlString).join(', ')})`;
}

function portRangesPredicate(column: string, ports: readonly { from: number; to: number }[]): string {
  return ports
    .map((r) => `${column} BETWEEN ${sqlInteger(r.from, 'ports.from')} AND ${sqlInteger(r.to, 'ports.to')}`)
    .join(' OR ');
}

function conjunction(predicates: readonly (string | undefined)[], indent: string): string {
  return predicates.filter((p): p is string => p !== undefined && p.trim() !== '').join(`\n${indent}AND `);
}

/** The per-record decision columns (evidence, src_is_client, is_syn) of the fold, in the dialect. */
function decisionColumns(dialect: SqlDialect): string {
  const bits = initiatorBits(dialect);
  return `    CASE
      WHEN NOT has_ports THEN 'undecided'
      WHEN flags IS NOT NULL AND ${bits} IN (${SYN_FLAGS}, ${SYN_ACK_FLAGS}) THEN 'flags'
      WHEN (srcport < ${WELL_KNOWN_PORT_LIMIT}) <> (dstport < ${WELL_KNOWN_PORT_LIMIT}) THEN 'well-known'
      ELSE 'undecided'
    END AS evidence,
    CASE
      WHEN NOT has_ports THEN TRUE
      WHEN flags IS NOT NULL AND ${bits} = ${SYN_FLAGS} THEN TRUE
      WHEN flags IS NOT NULL AND ${bits} = ${SYN_ACK_FLAGS} THEN FALSE
      WHEN (srcport < ${WELL_KNOWN_PORT_LIMIT}) <> (dstport < ${WELL_KNOWN_PORT_LIMIT}) THEN dstport < ${WELL_KNOWN_PORT_LIMIT}
      WHEN srcport <> dstport THEN srcport > dstport
      ELSE srcaddr <= dstaddr
    END AS src_is_client,
    CASE WHEN flags IS NOT NULL AND ${bits} = ${SYN_FLAGS} THEN 1 ELSE 0 END AS is_syn`;
}

/** Each record seen from its connection's side: the columns that put request and reply on one key. */
const FOLD_COLUMNS = `    src_is_client AS is_request,
    CASE WHEN src_is_client THEN srcaddr ELSE dstaddr END AS client_addr,
    CASE WHEN src_is_client THEN dstaddr ELSE srcaddr END AS server_addr,
    CASE WHEN src_is_client THEN dst_service ELSE src_service END AS server_service,
    CASE WHEN has_ports THEN (CASE WHEN src_is_client THEN dstport ELSE srcport END) END AS server_port,
    CASE WHEN has_ports THEN (CASE WHEN src_is_client THEN srcport ELSE dstport END) END AS observed_client_port,
    CASE evidence WHEN 'flags' THEN 2 WHEN 'well-known' THEN 1 ELSE 0 END AS evidence_rank`;

/** The port filter on folded rows: portless rows, server ports in range, undecided rows with either port in range. */
function portPredicate(ports: readonly { from: number; to: number }[]): string {
  return `server_port IS NULL
     OR ${portRangesPredicate('server_port', ports)}
     OR (evidence = 'undecided' AND (${portRangesPredicate('observed_client_port', ports)}))`;
}

/**
 * The aggregate query: one row per (ENI, action, protocol, client, server, server port[, client
 * port]) with the FlowAggregate columns in snake_case ({@link FLOW_AGGREGATE_COLUMNS}).
 *
 * Per record, who initiated: tcp-flags SYN without ACK → the source (`flags`); SYN-ACK → the
 * destination (`flags`); else exactly one port below 1024 → that side serves (`well-known`); else
 * `undecided`: the higher port's side is the tentative client and its port is kept as
 * client_port (equal ports: the lower address is the client, so both directions still fold).
 * Protocols without ports (not tcp/udp/sctp) are `undecided` with the source as client and no
 * ports. NODATA/SKIPDATA records and records missing a needed value are left out. With `ports`,
 * rows outside the ranges are dropped, except portless rows and undecided rows with either
 * port in range (the core decides which side serves).
 *
 * @example
 * buildFlowAggregateSql({ dialect: 'duckdb', relation: 'flow_records',
 *   fields: ['interface-id', 'tcp-flags', …], window: { start: 1700000000, end: 1700604800 } })
 */
export function buildFlowAggregateSql(options: FlowSqlOptions): string {
  const { dialect } = options;
  const clientPort = clientPortKey(options);
  const flagsColumn = flagsColumnOf(options.fields);
  const scan = conjunction(
    [windowPredicate(options.window), USABLE_RECORD, eniPredicate(options.eniIds), options.partitionFilter],
    '    ',
  );
  const ports = options.ports ?? [];
  const portFilter =
    ports.length === 0
      ? ''
      : `
  -- Server ports asked for; an undecided row stays when either port may be the service.
  WHERE ${portPredicate(ports)}`;

  return `-- sg-audit flow aggregate (${dialect})
WITH flow_records AS (
  -- Usable records of the window and scope.
  SELECT
    interface_id AS eni_id, action, protocol, ${addressColumnsOf(options.fields)}, srcport, dstport,
    packets, bytes, start, "end", ${flagsColumn} AS flags,
    protocol IN (${PORTED}) AS has_ports,
    ${flowLogIdOf(options)} AS flow_log_id
  FROM ${options.relation}
  WHERE ${scan}
),
decided AS (
  -- Who initiated, as far as this one record tells.
  SELECT
    *,
${decisionColumns(dialect)}
  FROM flow_records
),
folded AS (
  -- Each record seen from its connection: request and reply land on the same key.
  SELECT
    flow_log_id, eni_id, action, protocol, evidence, is_syn, packets, bytes, start, "end",
${FOLD_COLUMNS}
  FROM decided
),
keyed AS (
  SELECT
    *,
    CASE WHEN evidence = 'undecided' THEN observed_client_port END AS record_client_port
  FROM folded${portFilter}
),
per_client_port AS (
  -- Exact distinct client ports as a plain GROUP BY (engines spill it to disk; count(DISTINCT) may not).
  -- ${CONNECTION_PER_CLIENT_PORT}
  SELECT
    flow_log_id, eni_id, action, protocol, client_addr, server_addr, server_port, observed_client_port,
    ${clientPort.column},
    max(evidence_rank) AS evidence_rank,
    max(server_service) AS server_service,
    count(*) AS records,
    sum(CASE WHEN is_request THEN 1 ELSE 0 END) AS request_records,
    sum(is_syn) AS syn_records,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    min(start) AS first_seen,
    max("end") AS last_seen
  FROM keyed
  GROUP BY flow_log_id, eni_id, action, protocol, client_addr, server_addr, server_port, ${clientPort.key}observed_client_port
)
SELECT
  eni_id,
  action,
  protocol,
  client_addr,
  server_addr,
  server_port,
  client_port,
  -- A connection decided by flags in one interval and by a well-known port in the next is one row.
  CASE max(evidence_rank) WHEN 2 THEN 'flags' WHEN 1 THEN 'well-known' ELSE 'undecided' END AS evidence,
  CAST(sum(records) AS BIGINT) AS records,
  CAST(sum(request_records) AS BIGINT) AS request_records,
  CAST(sum(syn_records) AS BIGINT) AS syn_records,
  CAST(sum(packets) AS BIGINT) AS packets,
  CAST(sum(bytes) AS BIGINT) AS bytes,
  min(first_seen) AS first_seen,
  max(last_seen) AS last_seen,
  count(observed_client_port) AS distinct_client_ports,
  flow_log_id,
  max(server_service) AS server_service
FROM per_client_port
GROUP BY flow_log_id, eni_id, action, protocol, client_addr, server_addr, server_port, client_port
`;
}

/**
 * The statistics queries of one aggregation. `totals` counts, within the window and ENI scope,
 * the usable records (what the aggregate folds, before the port filter), NODATA and SKIPDATA
 * records, and data records missing a needed value; `oldest_start`/`newest_end` span every row
 * read (before windowing). `enis` lists the ENIs with any record (NODATA included: it proves the
 * ENI is logged) in the window and scope.
 *
 * @example buildFlowStatsSql({ dialect: 'athena', relation: 'vpc_flow_logs', window }).totals
 */
export function buildFlowStatsSql(options: FlowSqlOptions): FlowStatsSql {
  const inScope = conjunction([windowPredicate(options.window), eniPredicate(options.eniIds)], '      ');
  const partition = options.partitionFilter !== undefined ? `\n  WHERE ${options.partitionFilter}` : '';
  const totals = `-- sg-audit flow stats (${options.dialect})
WITH scanned AS (
  SELECT
    log_status,
    start,
    "end",
    COALESCE(
      ${inScope},
      FALSE) AS in_scope,
    ${USABLE_RECORD} AS usable
  FROM ${options.relation}${partition}
)
SELECT
  CAST(sum(CASE WHEN in_scope AND usable THEN 1 ELSE 0 END) AS BIGINT) AS records,
  CAST(sum(CASE WHEN in_scope AND log_status = 'NODATA' THEN 1 ELSE 0 END) AS BIGINT) AS nodata_records,
  CAST(sum(CASE WHEN in_scope AND log_status = 'SKIPDATA' THEN 1 ELSE 0 END) AS BIGINT) AS skipdata_records,
  CAST(sum(CASE WHEN in_scope AND NOT usable AND COALESCE(log_status NOT IN ('NODATA', 'SKIPDATA'), TRUE)
    THEN 1 ELSE 0 END) AS BIGINT) AS incomplete_records,
  min(start) AS oldest_start,
  max("end") AS newest_end
FROM scanned
`;
  const enis = `-- sg-audit flow ENIs (${options.dialect})
SELECT DISTINCT interface_id AS eni_id
FROM ${options.relation}
WHERE ${conjunction(
    [
      windowPredicate(options.window),
      'interface_id IS NOT NULL',
      eniPredicate(options.eniIds),
      options.partitionFilter,
    ],
    '  ',
  )}
ORDER BY eni_id
`;
  return { totals, enis };
}

/**
 * What a row of {@link buildFlowSinglePassSql} carries: a FlowAggregate; an ENI of the scope with
 * records in the window (its counts); an ENI outside the scope with records in the window
 * (`other_records`, so the core can name ENIs the inventory lacks); the totals; the records of
 * one flow log for one ENI in one bucket of the window (`records`, `bucket_start`): delivery
 * proof; or, with `sourceFile`, one object read and its records of any time and status
 * (`source_file`, `records`).
 */
export type FlowResultRowKind = 'aggregate' | 'eni' | 'other-eni' | 'totals' | 'delivery' | 'file';

/** The statistics columns of {@link buildFlowSinglePassSql}'s `eni` and `totals` rows (besides `records`). */
export const FLOW_STATS_COLUMNS = [
  'nodata_records',
  'skipdata_records',
  'incomplete_records',
  'oldest_start',
  'newest_end',
] as const;

/** The columns of the single-pass query, in order: the row kind, the aggregate's, the statistics', the delivery bucket and other ENIs' records. */
export const FLOW_SINGLE_PASS_COLUMNS = [
  'row_kind',
  ...FLOW_AGGREGATE_COLUMNS,
  ...FLOW_STATS_COLUMNS,
  'bucket_start',
  'other_records',
  'source_file',
] as const;

/**
 * Tables an engine built from the core's EphemeralFoldPlan (shared/model/flow.ts), for
 * {@link buildFlowSinglePassSql} to settle undecided rows with:
 *  - `owners` (addr VARCHAR, eni_id VARCHAR): each inventory IPv4 address and its one ENI;
 *  - `ranges` (eni_id VARCHAR, lo INTEGER, hi INTEGER): each ENI's ephemeral port ranges, merged
 *    (so a port lies in at most one range of an ENI), and the default ranges under `defaultKey`.
 */
export interface FoldPlanTables {
  readonly owners: string;
  readonly ranges: string;
  /** The ENI id under which `ranges` holds the default ranges (no ENI id may look like it). */
  readonly defaultKey: string;
}

export interface FlowSinglePassOptions extends FlowSqlOptions {
  /**
   * Settle undecided rows inside the query as the core's `peer-ephemeral` rule would, from these
   * tables: such rows leave with evidence 'peer-ephemeral', one per connection key with the
   * client ports counted. Absent: undecided rows leave with their client port, for the core.
   */
  readonly foldPlan?: FoldPlanTables;
}

/**
 * Record status in the single-pass query: folded (what the aggregate keeps), out of the window or
 * scope, usable but outside the port ranges, NODATA, SKIPDATA, incomplete. Exactly one applies.
 */
const STATUS = {
  outOfScope: 0,
  folded: 1,
  portFiltered: 2,
  nodata: 3,
  skipdata: 4,
  incomplete: 5,
  otherEni: 6,
} as const;

/** The first level's grouping sets: `grouping(status, bucket_start)`; per object: both rolled up. */
const LEVEL1 = { connection: 1, delivery: 2, file: 3 } as const;

/**
 * The second level's grouping sets: `grouping(status, eni_id, bucket_start)`, and per object
 * (`sourceFile`) a value of its own (that expression would give it the totals' 7).
 */
const GROUPING = { connection: 1, delivery: 4, eni: 5, totals: 7, file: 8 } as const;

/**
 * The per-row `settle` (the core's peer-ephemeral rule decides this row) and `flip` (the
 * tentative server is the client) of the rows of `source`, from the fold-plan tables. The local
 * side is the one whose address the row's ENI owns, the server's first (as the core looks); the
 * peer's ranges are its owner ENI's, or the default ones for an address outside the inventory.
 */
function settleJoin(source: string, tables: FoldPlanTables): string {
  const localIsServer = 'so.eni_id = r.eni_id';
  const localPort = `CASE WHEN ${localIsServer} THEN r.server_port ELSE r.client_port END`;
  const peerPort = `CASE WHEN ${localIsServer} THEN r.client_port ELSE r.server_port END`;
  const peerKey = `COALESCE(CASE WHEN ${localIsServer} THEN co.eni_id ELSE so.eni_id END, ${sqlString(tables.defaultKey)})`;
  const serverIsLocal = `CASE WHEN ${localIsServer} THEN TRUE WHEN co.eni_id = r.eni_id THEN FALSE END`;
  return `  SELECT
    r.*,
    -- Only an undecided row with both ports (client_port is kept for no other) can settle, and
    -- only when its local side is known and exactly one side's port is ephemeral for that side.
    COALESCE(r.client_port IS NOT NULL AND ${serverIsLocal} IS NOT NULL
      AND (lr.eni_id IS NOT NULL) <> (pr.eni_id IS NOT NULL), FALSE) AS settle,
    -- The service is local when the peer's port is the ephemeral one.
    COALESCE((pr.eni_id IS NOT NULL) <> ${serverIsLocal}, FALSE) AS flip
  FROM ${source} r
  LEFT JOIN ${tables.owners} co ON co.addr = r.client_addr
  LEFT JOIN ${tables.owners} so ON so.addr = r.server_addr
  LEFT JOIN ${tables.ranges} lr ON lr.eni_id = r.eni_id
    AND ${localPort} BETWEEN lr.lo AND lr.hi
  LEFT JOIN ${tables.ranges} pr ON pr.eni_id = ${peerKey}
    AND ${peerPort} BETWEEN pr.lo AND pr.hi`;
}

/** The per-client-port rows with settled ones turned to their service's side, client port dropped. */
function settledRows(source: string): string {
  const swap = (column: string, other: string) =>
    `CASE WHEN settle AND flip THEN ${other} ELSE ${column} END AS ${column}`;
  return `  SELECT
    l1, status, settle AS settled, flow_log_id, eni_id, bucket_start, source_file, action, protocol,
    ${swap('client_addr', 'server_addr')},
    ${swap('server_addr', 'client_addr')},
    CASE WHEN settle AND flip THEN client_port ELSE server_port END AS server_port,
    CASE WHEN settle THEN NULL ELSE client_port END AS client_port,
    -- The service AWS named belongs to the old server's address; the new server's is not carried.
    CASE WHEN settle AND flip THEN NULL ELSE server_service END AS server_service,
    observed_client_port, evidence_rank, records,
    CASE WHEN settle AND flip THEN records - request_records ELSE request_records END AS request_records,
    syn_records, packets, bytes, first_seen, last_seen
  FROM ${source}`;
}

/**
 * The aggregate query and both statistics queries as ONE query that reads the relation once, for
 * engines that bill per byte scanned (Athena: Trino inlines CTEs, so each reference to a relation
 * is its own scan). Every CTE below is read exactly once; rows that the aggregate does not fold
 * (outside the window or scope, NODATA, SKIPDATA, incomplete, outside the port ranges) go through
 * the same two GROUP BYs keyed by their ENI and status only, and GROUPING SETS at the second
 * level yield:
 *  - `row_kind` 'aggregate': exactly the rows of {@link buildFlowAggregateSql} (its columns, the
 *    statistics columns NULL) — or, with `foldPlan`, those rows with the undecided ones the plan
 *    settles merged per connection key as 'peer-ephemeral' rows;
 *  - 'eni': one per ENI of buildFlowStatsSql's `enis` (any record in the window and scope,
 *    NODATA included), with that ENI's share of the counts in `records`, `nodata_records`,
 *    `skipdata_records` and `incomplete_records` (so a caller can scope the counts itself);
 *  - 'totals': at most one, the row of buildFlowStatsSql's `totals` (`records` = usable records
 *    before the port filter; `oldest_start`/`newest_end` span every row read).
 *  - 'file' (with `sourceFile` only): one per object read, its records of any time and status in
 *    `records` and the object in `source_file` — what the source holds against its own count of
 *    the objects delivered (an object delivered but not read shows as one fewer).
 * Rows come in no particular order. The first level counts records per status rather than
 * summing a flag per statistic: its aggregates run once per record, the second level's once per
 * (connection, client port).
 *
 * @example
 * buildFlowSinglePassSql({ dialect: 'athena', relation: '"sg_audit"."vpc_flow_logs_fl_1"',
 *   window, partitionFilter: "day BETWEEN '2024/06/01' AND '2024/06/08'" })
 */
export function buildFlowSinglePassSql(options: FlowSinglePassOptions): string {
  const { dialect, foldPlan } = options;
  const clientPort = clientPortKey(options);
  const inWindow = windowPredicate(options.window);
  const inScope = conjunction([inWindow, eniPredicate(options.eniIds)], '      ');
  const partition =
    options.partitionFilter !== undefined && options.partitionFilter.trim() !== ''
      ? `\n  WHERE ${options.partitionFilter}`
      : '';
  const ports = options.ports ?? [];
  const kept = ports.length === 0 ? '' : ` AND (\n       ${portPredicate(ports)})`;
  const onlyFolded = (column: string, as = column) => `CASE WHEN is_folded THEN ${column} END AS ${as}`;
  // Level-2 sums count the connection rows of level 1 only (l1 = 1), never its delivery rows.
  const ofConnections = (expression: string) => `CASE WHEN l1 = ${LEVEL1.connection} THEN ${expression} END`;
  const counted = (status: number) =>
    `sum(CASE WHEN l1 = ${LEVEL1.connection} AND status = ${status} THEN records ELSE 0 END)`;
  const settleSteps =
    foldPlan === undefined
      ? ''
      : `
judged AS (
  -- The core's peer-ephemeral rule, applied per (connection, client port) row.
${settleJoin('per_client_port', foldPlan)}
),
settled AS (
${settledRows('judged')}
),`;
  const perPort = foldPlan === undefined ? 'per_client_port' : 'settled';
  const settledKey = foldPlan === undefined ? '' : 'settled, ';
  // Per object read (sourceFile): a grouping set at each level, the same one scan.
  const files = options.sourceFile !== undefined;
  const fileSet = files ? ',\n    (source_file)' : '';
  const fileColumn = files ? 'source_file' : 'CAST(NULL AS VARCHAR) AS source_file';
  // A file row of level 1 spans its object's records, whatever their ENI: it bounds no ENI's times.
  const notOfFiles = (column: string) =>
    files ? `CASE WHEN l1 <> ${LEVEL1.file} THEN ${column} END` : column;
  const groupingSet = files
    ? `CASE WHEN grouping(source_file) = 0 THEN ${GROUPING.file} ELSE grouping(status, eni_id, bucket_start) END`
    : 'grouping(status, eni_id, bucket_start)';

  return `-- sg-audit flow aggregate and stats (${dialect})
WITH scanned AS (
  -- The one scan: every row of the partitions read; the window and scope are columns, not a filter,
  -- because the statistics count what the aggregate leaves out.
  SELECT
    interface_id, log_status, action, protocol, ${addressColumnsOf(options.fields)}, srcport, dstport,
    packets, bytes, start, "end", ${flagsColumnOf(options.fields)} AS flags,
    protocol IN (${PORTED}) AS has_ports,
    ${flowLogIdOf(options)} AS flow_log_id,
    ${files ? `CAST(${options.sourceFile} AS VARCHAR)` : 'CAST(NULL AS VARCHAR)'} AS source_file,
    COALESCE(${inWindow}, FALSE) AS in_window,
    COALESCE(
      ${inScope},
      FALSE) AS in_scope,
    ${USABLE_RECORD} AS usable
  FROM ${options.relation}${partition}
),
decided AS (
  -- Who initiated, as far as this one record tells (meaningful for usable records only).
  SELECT
    *,
${decisionColumns(dialect)}
  FROM scanned
),
folded AS (
  SELECT
    *,
${FOLD_COLUMNS}
  FROM decided
),
classified AS (
  -- Folded: what buildFlowAggregateSql aggregates (in scope, usable, server ports asked for).
  SELECT
    *,
    COALESCE(in_scope AND usable${kept}, FALSE) AS is_folded
  FROM folded
),
keyed AS (
  -- A record that is not folded keeps only its ENI and status as key: it counts in the statistics alone.
  -- Every record of the window, whatever its status or ENI, also proves its flow log delivered in its bucket.
  SELECT
    CASE
      WHEN is_folded THEN ${STATUS.folded}
      WHEN NOT in_window THEN ${STATUS.outOfScope}
      WHEN NOT in_scope THEN ${STATUS.otherEni}
      WHEN usable THEN ${STATUS.portFiltered}
      WHEN log_status = 'NODATA' THEN ${STATUS.nodata}
      WHEN log_status = 'SKIPDATA' THEN ${STATUS.skipdata}
      ELSE ${STATUS.incomplete}
    END AS status,
    flow_log_id,
    interface_id AS eni_id,
    CASE WHEN in_window THEN ${bucketOf(options)} END AS bucket_start,
    source_file,
    ${onlyFolded('action')},
    ${onlyFolded('protocol')},
    ${onlyFolded('client_addr')},
    ${onlyFolded('server_addr')},
    ${onlyFolded('server_service')},
    ${onlyFolded('server_port')},
    ${onlyFolded('observed_client_port')},
    ${onlyFolded(`(CASE WHEN evidence = 'undecided' THEN observed_client_port END)`, 'record_client_port')},
    ${onlyFolded('evidence_rank')},
    CASE WHEN is_folded AND is_request THEN 1 ELSE 0 END AS is_request,
    CASE WHEN is_folded THEN is_syn ELSE 0 END AS is_syn,
    ${onlyFolded('packets')},
    ${onlyFolded('bytes')},
    start,
    "end"
  FROM classified
),
per_client_port AS (
  -- Exact distinct client ports as a plain GROUP BY, as in buildFlowAggregateSql: ${CONNECTION_PER_CLIENT_PORT}.
  -- The records counts the group's records, all of one status. The second set counts each flow
  -- log's records per ENI and bucket: the delivery proof (l1 = ${LEVEL1.delivery}); a third, with
  -- sourceFile, each object's records (l1 = ${LEVEL1.file}).
  SELECT
    grouping(status, bucket_start) AS l1,
    status, flow_log_id, eni_id, bucket_start, ${fileColumn}, action, protocol, client_addr, server_addr, server_port, observed_client_port,
    ${clientPort.column},
    count(*) AS records,
    max(evidence_rank) AS evidence_rank,
    max(server_service) AS server_service,
    sum(is_request) AS request_records,
    sum(is_syn) AS syn_records,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    min(start) AS first_seen,
    max("end") AS last_seen
  FROM keyed
  GROUP BY GROUPING SETS (
    (status, flow_log_id, eni_id, action, protocol, client_addr, server_addr, server_port, ${clientPort.key}observed_client_port),
    (flow_log_id, eni_id, bucket_start)${fileSet}
  )
),${settleSteps}
grouped AS (
  -- grouping(status, eni_id, bucket_start): ${GROUPING.connection} = per connection, ${GROUPING.eni} = per ENI,
  -- ${GROUPING.totals} = everything, ${GROUPING.delivery} = per flow log, ENI and bucket; ${GROUPING.file} = per object.
  SELECT
    ${groupingSet} AS grouping_set,
    status, ${settledKey}flow_log_id, eni_id, bucket_start, ${fileColumn}, action, protocol, client_addr, server_addr, server_port, client_port,
    max(${ofConnections('evidence_rank')}) AS evidence_rank,
    max(${ofConnections('server_service')}) AS server_service,
    sum(CASE WHEN l1 = ${LEVEL1.connection} AND status IN (${STATUS.folded}, ${STATUS.portFiltered}) THEN records ELSE 0 END) AS records,
    sum(${ofConnections('request_records')}) AS request_records,
    sum(${ofConnections('syn_records')}) AS syn_records,
    sum(${ofConnections('packets')}) AS packets,
    sum(${ofConnections('bytes')}) AS bytes,
    min(${notOfFiles('first_seen')}) AS first_seen,
    max(${notOfFiles('last_seen')}) AS last_seen,
    count(${ofConnections('observed_client_port')}) AS distinct_client_ports,
    ${counted(STATUS.nodata)} AS nodata_records,
    ${counted(STATUS.skipdata)} AS skipdata_records,
    ${counted(STATUS.incomplete)} AS incomplete_records,
    ${counted(STATUS.otherEni)} AS other_records,
    sum(CASE WHEN l1 = ${LEVEL1.delivery} THEN records ELSE 0 END) AS delivered_records,
    sum(CASE WHEN l1 = ${LEVEL1.file} THEN records ELSE 0 END) AS file_records,
    max(CASE WHEN l1 = ${LEVEL1.connection} AND status NOT IN (${STATUS.outOfScope}, ${STATUS.otherEni}) AND eni_id IS NOT NULL THEN 1 ELSE 0 END) AS logged
  FROM ${perPort}
  GROUP BY GROUPING SETS (
    (status, ${settledKey}flow_log_id, eni_id, action, protocol, client_addr, server_addr, server_port, client_port),
    (eni_id),
    (),
    (flow_log_id, eni_id, bucket_start)${fileSet}
  )
)
SELECT
  CASE grouping_set
    WHEN ${GROUPING.connection} THEN 'aggregate'
    WHEN ${GROUPING.eni} THEN (CASE WHEN logged = 1 THEN 'eni' ELSE 'other-eni' END)
    WHEN ${GROUPING.delivery} THEN 'delivery'
    WHEN ${GROUPING.file} THEN 'file'
    ELSE 'totals'
  END AS row_kind,
  eni_id,
  action,
  protocol,
  client_addr,
  server_addr,
  server_port,
  client_port,
  CASE WHEN grouping_set = ${GROUPING.connection} THEN
    (CASE ${foldPlan === undefined ? '' : "WHEN settled THEN 'peer-ephemeral' "}WHEN evidence_rank = 2 THEN 'flags' WHEN evidence_rank = 1 THEN 'well-known' ELSE 'undecided' END) END AS evidence,
  CAST(CASE grouping_set WHEN ${GROUPING.delivery} THEN delivered_records WHEN ${GROUPING.file} THEN file_records ELSE records END AS BIGINT) AS records,
  CASE WHEN grouping_set = ${GROUPING.connection} THEN CAST(request_records AS BIGINT) END AS request_records,
  CASE WHEN grouping_set = ${GROUPING.connection} THEN CAST(syn_records AS BIGINT) END AS syn_records,
  CASE WHEN grouping_set = ${GROUPING.connection} THEN CAST(packets AS BIGINT) END AS packets,
  CASE WHEN grouping_set = ${GROUPING.connection} THEN CAST(bytes AS BIGINT) END AS bytes,
  CASE WHEN grouping_set = ${GROUPING.connection} THEN first_seen END AS first_seen,
  CASE WHEN grouping_set = ${GROUPING.connection} THEN last_seen END AS last_seen,
  CASE WHEN grouping_set = ${GROUPING.connection} THEN CAST(distinct_client_ports AS BIGINT) END AS distinct_client_ports,
  CASE WHEN grouping_set IN (${GROUPING.connection}, ${GROUPING.delivery}) THEN flow_log_id END AS flow_log_id,
  CASE WHEN grouping_set = ${GROUPING.connection} THEN server_service END AS server_service,
  CASE WHEN grouping_set IN (${GROUPING.eni}, ${GROUPING.totals}) THEN CAST(nodata_records AS BIGINT) END AS nodata_records,
  CASE WHEN grouping_set IN (${GROUPING.eni}, ${GROUPING.totals}) THEN CAST(skipdata_records AS BIGINT) END AS skipdata_records,
  CASE WHEN grouping_set IN (${GROUPING.eni}, ${GROUPING.totals}) THEN CAST(incomplete_records AS BIGINT) END AS incomplete_records,
  CASE WHEN grouping_set IN (${GROUPING.eni}, ${GROUPING.totals}) THEN first_seen END AS oldest_start,
  CASE WHEN grouping_set IN (${GROUPING.eni}, ${GROUPING.totals}) THEN last_seen END AS newest_end,
  CASE WHEN grouping_set = ${GROUPING.delivery} THEN bucket_start END AS bucket_start,
  CASE WHEN grouping_set = ${GROUPING.eni} THEN CAST(other_records AS BIGINT) END AS other_records,
  CASE WHEN grouping_set = ${GROUPING.file} THEN source_file END AS source_file
FROM grouped
WHERE (grouping_set = ${GROUPING.connection} AND status = ${STATUS.folded})
   OR (grouping_set = ${GROUPING.eni} AND (logged = 1 OR other_records > 0))
   OR grouping_set = ${GROUPING.totals}
   OR (grouping_set = ${GROUPING.delivery} AND bucket_start IS NOT NULL AND eni_id IS NOT NULL AND delivered_records > 0)
   OR (grouping_set = ${GROUPING.file} AND source_file IS NOT NULL)
`;
}

/** A result cell as engines return it: typed (DuckDB) or text (Athena CSV, Logs Insights). */
export type ResultCell = string | number | bigint | boolean | null | undefined;

function integerCell(row: Readonly<Record<string, ResultCell>>, column: string): number {
  const value = row[column];
  const n = typeof value === 'string' ? Number(value.trim()) : Number(value);
  if (value === null || value === undefined || value === '' || !Number.isSafeInteger(n)) {
    throw new InvalidValueError(`expected an integer, got ${String(value)}`, { field: column });
  }
  return n;
}

function optionalIntegerCell(row: Readonly<Record<string, ResultCell>>, column: string): number | null {
  const value = row[column];
  return value === null || value === undefined || value === '' ? null : integerCell(row, column);
}

function textCell(row: Readonly<Record<string, ResultCell>>, column: string): string {
  const value = row[column];
  if (value === null || value === undefined || value === '') {
    throw new InvalidValueError('expected a value, got none', { field: column });
  }
  return String(value);
}

const EVIDENCE: readonly FoldEvidence[] = ['flags', 'well-known', 'peer-ephemeral', 'undecided'];
const ACTIONS: readonly FlowAction[] = ['ACCEPT', 'REJECT'];

/**
 * One FlowAggregate from a result row of {@link buildFlowAggregateSql}, whatever the engine's
 * cell types (numbers, bigints or numeric text; NULL or '' for no port).
 *
 * @throws InvalidValueError naming the column that is missing or malformed.
 * @example flowAggregateFromRow({ eni_id: 'eni-1', action: 'ACCEPT', protocol: '6', … })
 */
export function flowAggregateFromRow(row: Readonly<Record<string, ResultCell>>): FlowAggregate {
  const evidence = textCell(row, 'evidence') as FoldEvidence;
  if (!EVIDENCE.includes(evidence)) {
    throw new InvalidValueError(`unknown evidence '${evidence}'`, { field: 'evidence' });
  }
  const action = textCell(row, 'action') as FlowAction;
  if (!ACTIONS.includes(action)) {
    throw new InvalidValueError(`unknown action '${action}'`, { field: 'action' });
  }
  return {
    eniId: textCell(row, 'eni_id'),
    action,
    protocol: integerCell(row, 'protocol'),
    clientAddr: textCell(row, 'client_addr'),
    serverAddr: textCell(row, 'server_addr'),
    serverPort: optionalIntegerCell(row, 'server_port'),
    clientPort: optionalIntegerCell(row, 'client_port'),
    evidence,
    records: integerCell(row, 'records'),
    requestRecords: integerCell(row, 'request_records'),
    synRecords: integerCell(row, 'syn_records'),
    packets: integerCell(row, 'packets'),
    bytes: integerCell(row, 'bytes'),
    firstSeen: integerCell(row, 'first_seen'),
    lastSeen: integerCell(row, 'last_seen'),
    distinctClientPorts: integerCell(row, 'distinct_client_ports'),
    ...flowLogIdOfRow(row),
    ...serverServiceOfRow(row),
  };
}

/**
 * An AWS service name of a result cell (`pkt-*-aws-service`); undefined for none (NULL, '' or '-').
 *
 * @example awsServiceOfCell('S3') // 'S3'
 */
export function awsServiceOfCell(value: ResultCell): string | undefined {
  return value === null || value === undefined || value === '' || value === '-' ? undefined : String(value);
}

/** The AWS service AWS named for the row's server address, when the format carries it. */
function serverServiceOfRow(row: Readonly<Record<string, ResultCell>>): { serverService?: string } {
  const service = awsServiceOfCell(row.server_service);
  return service === undefined ? {} : { serverService: service };
}

/** The row's flow-log id, when the query could tell it. */
function flowLogIdOfRow(row: Readonly<Record<string, ResultCell>>): { flowLogId?: string } {
  const value = row.flow_log_id;
  return value === null || value === undefined || value === '' ? {} : { flowLogId: String(value) };
}

/** An object a query read (a `file` row of {@link buildFlowSinglePassSql}) and its records. */
export interface SourceFileRead {
  /** The object as the engine names it: `s3://bucket/key` (Athena's "$path"), a path (DuckDB). */
  readonly file: string;
  readonly records: number;
}

/**
 * One SourceFileRead from a `file` row of {@link buildFlowSinglePassSql}.
 *
 * @throws InvalidValueError naming the column that is missing or malformed.
 * @example sourceFileFromRow({ row_kind: 'file', source_file: 's3://logs/AWSLogs/…_fl-1_….log.gz', records: '288' })
 */
export function sourceFileFromRow(row: Readonly<Record<string, ResultCell>>): SourceFileRead {
  return { file: textCell(row, 'source_file'), records: integerCell(row, 'records') };
}

/**
 * One DeliveryCount from a `delivery` row of {@link buildFlowSinglePassSql}.
 *
 * @throws InvalidValueError naming the column that is missing or malformed.
 * @example deliveryCountFromRow({ row_kind: 'delivery', flow_log_id: 'fl-1', eni_id: 'eni-1', bucket_start: '1763337600', records: '42' })
 */
export function deliveryCountFromRow(row: Readonly<Record<string, ResultCell>>): DeliveryCount {
  return {
    flowLogId: flowLogIdOfRow(row).flowLogId ?? null,
    eniId: textCell(row, 'eni_id'),
    bucketStart: integerCell(row, 'bucket_start'),
    records: integerCell(row, 'records'),
  };
}
