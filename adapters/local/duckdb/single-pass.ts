/**
 * The aggregation itself: buildFlowSinglePassSql over every readable file, ONE read of each, into
 * a result table holding the aggregate rows and the statistics rows together, straight from
 * read_csv/read_parquet with no intermediate copy; then the rows decoded into FlowAggregates and
 * the statistics and rejected lines read back.
 */
import type { DuckDBConnection, DuckDBValue, DuckDBVector } from '@duckdb/node-api';
import { FlowLogFormatError } from '../../../shared/errors';
import {
  buildFlowSinglePassSql,
  deliveryCountFromRow,
  type ResultCell,
} from '../../../shared/flow/aggregate-sql';
import type { DeliveryCount } from '../../../shared/model/delivery';
import type { FlowAggregate, FlowQuery, FoldEvidence } from '../../../shared/model/flow';
import type { FlowFileScanner, Scan } from './file-scanner';
import { createFoldPlanTables, dropFoldPlanTables } from './fold-plan-tables';
import { type MalformedRecords, malformedRecords } from './malformed-records';
import { type FileGroups, FLOW_LOG_ID_OF_FILE, optionalNumber } from './readers';

/** One aggregation's result rows, and the dictionary of their strings (s → id). */
const RESULT = 'flow_result';
const STRINGS = 'flow_strings';
const EVIDENCE_BY_CODE: readonly FoldEvidence[] = ['flags', 'well-known', 'undecided', 'peer-ephemeral'];
/** ENIs outside the scope named at most (the most records first). */
const OTHER_ENIS_LISTED = 100;

/** What one single-pass aggregation read. */
export interface SinglePassResult {
  readonly aggregates: FlowAggregate[];
  /** The totals row's counts (0 when no record was read). */
  readonly records: number;
  readonly nodataRecords: number;
  readonly skipdataRecords: number;
  readonly incompleteRecords: number;
  readonly oldestStart?: number;
  readonly newestEnd?: number;
  /** ENIs with records in the window, sorted. */
  readonly enis: string[];
  /** Records per flow log (from the file names), ENI and bucket of the window, any log-status. */
  readonly deliveries: DeliveryCount[];
  /** Records in the window of ENIs the query did not ask about. */
  readonly otherEnis: { eniId: string; records: number }[];
  /** The lines DuckDB rejected and the implausible records: all counted, the first sampled; cut objects. */
  readonly malformed: MalformedRecords;
  /** The files read (those found unreadable left out). */
  readonly scan: Scan;
}

export interface SinglePassOptions {
  /** Whether any file has tcp-flags (the SQL then decides initiators by flags). */
  readonly hasTcpFlags: boolean;
  readonly sampleLimit: number;
  readonly progress: (message: string) => void;
}

/**
 * Runs one aggregation (window, ENIs, ports, and the fold plan when given) over the files.
 *
 * @example
 * const result = await runSinglePass(scanner, inspection, { window, eniIds: [] }, { hasTcpFlags: true, sampleLimit: 20, progress });
 * result.aggregates // FlowAggregate[]; result.records, result.malformed.count, …
 */
export async function runSinglePass(
  scanner: FlowFileScanner,
  groups: FileGroups,
  query: FlowQuery,
  options: SinglePassOptions,
): Promise<SinglePassResult> {
  const { connection } = scanner;
  const foldPlan =
    query.foldPlan === undefined ? undefined : await createFoldPlanTables(connection, query.foldPlan);
  let scan: Scan;
  try {
    scan = await scanInto(scanner, groups, (relation) =>
      buildFlowSinglePassSql({
        dialect: 'duckdb',
        relation,
        fields: options.hasTcpFlags ? ['tcp-flags'] : [],
        window: query.window,
        eniIds: query.eniIds,
        ports: query.ports,
        flowLogId: FLOW_LOG_ID_OF_FILE,
        ...(query.bucketSeconds !== undefined ? { bucketSeconds: query.bucketSeconds } : {}),
        ...(foldPlan !== undefined ? { foldPlan } : {}),
      }),
    );
  } finally {
    if (foldPlan !== undefined) await dropFoldPlanTables(connection);
  }
  const aggregates = await fetchAggregates(connection);
  if (foldPlan !== undefined) {
    // Each settled row counts the undecided (connection, client port) rows it merged.
    const settled = aggregates.reduce(
      (n, a) => (a.evidence === 'peer-ephemeral' ? n + a.distinctClientPorts : n),
      0,
    );
    options.progress(`flow logs: ${settled} undecided rows settled by ephemeral ranges`);
  }
  const [totals] = (
    await connection.runAndReadAll(`SELECT * FROM ${RESULT} WHERE row_kind = 'totals'`)
  ).getRowObjects();
  const enis = (
    await connection.runAndReadAll(
      `SELECT eni_id FROM ${RESULT} WHERE row_kind = 'eni' AND eni_id IS NOT NULL ORDER BY eni_id`,
    )
  )
    .getRowObjects()
    .map((r) => String(r.eni_id));
  const deliveries = (
    await connection.runAndReadAll(
      `SELECT flow_log_id, eni_id, bucket_start, records FROM ${RESULT} WHERE row_kind = 'delivery'`,
    )
  )
    .getRowObjectsJS()
    .map((r) => deliveryCountFromRow(r as Record<string, ResultCell>));
  const otherEnis = (
    await connection.runAndReadAll(
      `SELECT eni_id, other_records FROM ${RESULT} WHERE row_kind = 'other-eni' ORDER BY other_records DESC, eni_id LIMIT ${OTHER_ENIS_LISTED}`,
    )
  )
    .getRowObjects()
    .map((r) => ({ eniId: String(r.eni_id), records: Number(r.other_records) }));
  let malformed: MalformedRecords;
  try {
    malformed = await malformedRecords(scanner, groups, scan, options.sampleLimit);
  } finally {
    await scanner.dropScanTables(scan);
  }
  await connection.run(`DROP TABLE ${RESULT}`);

  const count = (column: string): number => Number(totals?.[column] ?? 0);
  return {
    aggregates,
    records: count('records'),
    nodataRecords: count('nodata_records'),
    skipdataRecords: count('skipdata_records'),
    incompleteRecords: count('incomplete_records'),
    oldestStart: optionalNumber(totals?.oldest_start),
    newestEnd: optionalNumber(totals?.newest_end),
    enis,
    deliveries,
    otherEnis,
    malformed,
    scan,
  };
}

/**
 * Runs the single-pass query over every readable file into the result table. When a file
 * turns out unreadable (gzip that does not inflate, broken Parquet), finds the culprits file by
 * file, leaves them out (with a warning, by the caller) and runs the query again.
 */
async function scanInto(
  scanner: FlowFileScanner,
  groups: FileGroups,
  sql: (relation: string) => string,
): Promise<Scan> {
  for (let attempt = 0; ; attempt += 1) {
    const scan = scanner.scanOf(groups, { rejects: true });
    try {
      await scanner.prepare(scan);
      await scanner.run(`CREATE OR REPLACE TEMP TABLE ${RESULT} AS\n${sql(scan.relation)}`);
      return scan;
    } catch (error) {
      await scanner.dropScanTables(scan);
      if (attempt > 0) throw error;
      const found = await scanner.findBrokenFiles(groups);
      if (found === 0) throw error;
    }
  }
}

/**
 * Turns the result's aggregate rows into FlowAggregates. Strings travel as ids into a
 * dictionary and numbers as DOUBLE (exact below 2^53): decoding a DuckDB string per cell costs
 * more than the aggregation itself once results reach a million rows.
 */
async function fetchAggregates(connection: DuckDBConnection): Promise<FlowAggregate[]> {
  const rows = `(SELECT * FROM ${RESULT} WHERE row_kind = 'aggregate')`;
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE ${STRINGS} AS
       SELECT s, CAST(row_number() OVER () - 1 AS INTEGER) AS id
       FROM (SELECT eni_id AS s FROM ${rows} UNION SELECT client_addr FROM ${rows} UNION SELECT server_addr FROM ${rows}
             UNION SELECT flow_log_id FROM ${rows} WHERE flow_log_id IS NOT NULL)`,
  );
  const strings: string[] = [];
  const dictionary = (await connection.runAndReadAll(`SELECT s, id FROM ${STRINGS}`)).getColumns();
  dictionary[0]?.forEach((s, i) => {
    strings[Number(dictionary[1]?.[i])] = String(s);
  });
  const coded = `SELECT
  eni.id AS eni_id, a.action = 'ACCEPT' AS accepted, a.protocol, client.id AS client_addr, server.id AS server_addr,
  a.server_port, a.client_port,
  CAST(CASE a.evidence WHEN 'flags' THEN 0 WHEN 'well-known' THEN 1 WHEN 'peer-ephemeral' THEN 3 ELSE 2 END AS TINYINT) AS evidence,
  CAST(a.records AS DOUBLE), CAST(a.request_records AS DOUBLE), CAST(a.syn_records AS DOUBLE),
  CAST(a.packets AS DOUBLE), CAST(a.bytes AS DOUBLE), CAST(a.first_seen AS DOUBLE), CAST(a.last_seen AS DOUBLE),
  CAST(a.distinct_client_ports AS DOUBLE), log.id AS flow_log_id
FROM ${rows} a
JOIN ${STRINGS} eni ON eni.s = a.eni_id
JOIN ${STRINGS} client ON client.s = a.client_addr
JOIN ${STRINGS} server ON server.s = a.server_addr
LEFT JOIN ${STRINGS} log ON log.s = a.flow_log_id`;
  const text = (id: DuckDBValue): string => {
    const value = strings[Number(id)];
    if (value === undefined)
      throw new FlowLogFormatError(`flow-log string id ${String(id)} is not in the dictionary`);
    return value;
  };
  const port = (value: DuckDBValue): number | null => (value === null ? null : Number(value));
  const aggregates: FlowAggregate[] = [];
  const result = await connection.stream(coded);
  for await (const chunk of result) {
    const column = (i: number): DuckDBVector => chunk.getColumnVector(i);
    const eni = column(0);
    const accepted = column(1);
    const protocol = column(2);
    const client = column(3);
    const server = column(4);
    const serverPort = column(5);
    const clientPort = column(6);
    const evidence = column(7);
    const records = column(8);
    const requests = column(9);
    const syns = column(10);
    const packets = column(11);
    const bytes = column(12);
    const first = column(13);
    const last = column(14);
    const clientPorts = column(15);
    const flowLogs = column(16);
    const rows = chunk.rowCount;
    for (let row = 0; row < rows; row += 1) {
      const flowLog = flowLogs.getItem(row);
      aggregates.push({
        eniId: text(eni.getItem(row)),
        action: accepted.getItem(row) === true ? 'ACCEPT' : 'REJECT',
        protocol: Number(protocol.getItem(row)),
        clientAddr: text(client.getItem(row)),
        serverAddr: text(server.getItem(row)),
        serverPort: port(serverPort.getItem(row)),
        clientPort: port(clientPort.getItem(row)),
        evidence: EVIDENCE_BY_CODE[Number(evidence.getItem(row))] ?? 'undecided',
        records: Number(records.getItem(row)),
        requestRecords: Number(requests.getItem(row)),
        synRecords: Number(syns.getItem(row)),
        packets: Number(packets.getItem(row)),
        bytes: Number(bytes.getItem(row)),
        firstSeen: Number(first.getItem(row)),
        lastSeen: Number(last.getItem(row)),
        distinctClientPorts: Number(clientPorts.getItem(row)),
        ...(flowLog === null ? {} : { flowLogId: text(flowLog) }),
      });
    }
  }
  await connection.run(`DROP TABLE ${STRINGS}`);
  return aggregates;
}
