/**
 * The aggregation itself: buildFlowSinglePassSql over every readable file, ONE read of each, into
 * a result table holding the aggregate rows and the statistics rows together, straight from
 * read_csv/read_parquet with no intermediate copy; then the rows decoded into FlowAggregates and
 * the statistics and rejected lines read back. With `streamRows`, the aggregate rows stay in the
 * table (DuckDB spills it to its temp directory under its memory limit) and are decoded a chunk at
 * a time whenever the core reads them (FlowAggregateRows), never all at once.
 */
import type { DuckDBConnection, DuckDBDataChunk, DuckDBValue, DuckDBVector } from '@duckdb/node-api';
import { FlowLogFormatError } from '../../../shared/errors';
import {
  buildFlowSinglePassSql,
  deliveryCountFromRow,
  type ResultCell,
} from '../../../shared/flow/aggregate-sql';
import { columnName, PACKET_FIELDS } from '../../../shared/flow/format';
import type { DeliveryCount } from '../../../shared/model/delivery';
import type {
  FlowAggregate,
  FlowAggregateRows,
  FlowQuery,
  FlowRowReader,
  FoldEvidence,
} from '../../../shared/model/flow';
import type { FlowFileScanner, Scan } from './file-scanner';
import { createFoldPlanTables, dropFoldPlanTables } from './fold-plan-tables';
import { type MalformedRecords, malformedRecords } from './malformed-records';
import { type FileGroups, FLOW_LOG_ID_OF_FILE, optionalNumber, type TableColumn } from './readers';

/** One aggregation's result rows, and the dictionary of their strings (s → id): names with the aggregation's number. */
const RESULT = 'flow_result';
const STRINGS = 'flow_strings';
const EVIDENCE_BY_CODE: readonly FoldEvidence[] = ['flags', 'well-known', 'undecided', 'peer-ephemeral'];
/** ENIs outside the scope named at most (the most records first). */
const OTHER_ENIS_LISTED = 100;

/** What one single-pass aggregation read. */
export interface SinglePassResult {
  /** The rows, or none when they are streamed (`rows`). */
  readonly aggregates: FlowAggregate[];
  /** With `streamRows`: the rows, read from the kept result table on demand. */
  readonly rows?: StoredRows;
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
  /**
   * Keep the aggregate rows in the result table and stream them on demand (`rows`) rather than
   * decode them all (`aggregates`); the caller drops the table ({@link StoredRows.drop}).
   */
  readonly streamRows?: boolean;
  /** Names this aggregation's tables apart from an earlier one's still kept. @default 0 */
  readonly serial?: number;
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
  const table = `${RESULT}_${options.serial ?? 0}`;
  const foldPlan =
    query.foldPlan === undefined ? undefined : await createFoldPlanTables(connection, query.foldPlan);
  let scan: Scan;
  try {
    scan = await scanInto(scanner, groups, table, (relation) =>
      buildFlowSinglePassSql({
        dialect: 'duckdb',
        relation,
        fields: [...(options.hasTcpFlags ? ['tcp-flags'] : []), ...packetFieldsOf(groups)],
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
  const stored = new StoredRows(connection, table, `${STRINGS}_${options.serial ?? 0}`);
  const streamed = options.streamRows === true;
  try {
    const aggregates = streamed ? [] : await stored.all();
    // Each settled row counts the undecided (connection, client port) rows it merged.
    if (foldPlan !== undefined)
      options.progress(
        `flow logs: ${await settledRows(stored, aggregates)} undecided rows settled by ephemeral ranges`,
      );
    const statistics = await readStatistics(connection, table);
    let malformed: MalformedRecords;
    try {
      malformed = await malformedRecords(scanner, groups, scan, options.sampleLimit);
    } finally {
      await scanner.dropScanTables(scan);
    }
    if (!streamed) await stored.drop();
    return { aggregates, ...(streamed ? { rows: stored } : {}), ...statistics, malformed, scan };
  } catch (error) {
    await stored.drop();
    throw error;
  }
}

/** The packet-level fields any file has (the readers give every file their columns, NULL where it has none). */
function packetFieldsOf(groups: FileGroups): string[] {
  return PACKET_FIELDS.filter(
    (field) =>
      groups.textGroups.some((g) => g.fields.includes(field)) ||
      groups.parquetGroups.some((g) => g.columns.has(columnName(field) as TableColumn)),
  );
}

/** The undecided (connection, client port) rows the fold plan settled: what its rows count. */
async function settledRows(stored: StoredRows, aggregates: readonly FlowAggregate[]): Promise<number> {
  if (aggregates.length > 0) {
    return aggregates.reduce((n, a) => (a.evidence === 'peer-ephemeral' ? n + a.distinctClientPorts : n), 0);
  }
  return stored.settledClientPorts();
}

/** The statistics rows of the result table: totals, ENIs, deliveries, other ENIs. */
async function readStatistics(
  connection: DuckDBConnection,
  table: string,
): Promise<Omit<SinglePassResult, 'aggregates' | 'rows' | 'malformed' | 'scan'>> {
  const [totals] = (
    await connection.runAndReadAll(`SELECT * FROM ${table} WHERE row_kind = 'totals'`)
  ).getRowObjects();
  const enis = (
    await connection.runAndReadAll(
      `SELECT eni_id FROM ${table} WHERE row_kind = 'eni' AND eni_id IS NOT NULL ORDER BY eni_id`,
    )
  )
    .getRowObjects()
    .map((r) => String(r.eni_id));
  const deliveries = (
    await connection.runAndReadAll(
      `SELECT flow_log_id, eni_id, bucket_start, records FROM ${table} WHERE row_kind = 'delivery'`,
    )
  )
    .getRowObjectsJS()
    .map((r) => deliveryCountFromRow(r as Record<string, ResultCell>));
  const otherEnis = (
    await connection.runAndReadAll(
      `SELECT eni_id, other_records FROM ${table} WHERE row_kind = 'other-eni' ORDER BY other_records DESC, eni_id LIMIT ${OTHER_ENIS_LISTED}`,
    )
  )
    .getRowObjects()
    .map((r) => ({ eniId: String(r.eni_id), records: Number(r.other_records) }));
  const count = (column: string): number => Number(totals?.[column] ?? 0);
  return {
    records: count('records'),
    nodataRecords: count('nodata_records'),
    skipdataRecords: count('skipdata_records'),
    incompleteRecords: count('incomplete_records'),
    oldestStart: optionalNumber(totals?.oldest_start),
    newestEnd: optionalNumber(totals?.newest_end),
    enis,
    deliveries,
    otherEnis,
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
  table: string,
  sql: (relation: string) => string,
): Promise<Scan> {
  for (let attempt = 0; ; attempt += 1) {
    const scan = scanner.scanOf(groups, { rejects: true });
    try {
      await scanner.prepare(scan);
      await scanner.run(`CREATE OR REPLACE TEMP TABLE ${table} AS\n${sql(scan.relation)}`);
      return scan;
    } catch (error) {
      await scanner.dropScanTables(scan);
      // Out of memory says nothing about the files (the caller may run it again with more).
      if (attempt > 0 || isOutOfMemory(error)) throw error;
      const found = await scanner.findBrokenFiles(groups);
      if (found === 0) throw error;
    }
  }
}

/**
 * Whether DuckDB failed for want of memory (its out-of-memory error, whatever the operator). By
 * its message: the native binding's errors need not be instances of this realm's Error.
 */
export function isOutOfMemory(error: unknown): boolean {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message.includes('Out of Memory Error');
}

/** Whether the engine left a row undecided with both ports: the rows the fold's pass 3 reads again. */
const UNDECIDED_WITH_PORTS =
  "a.evidence = 'undecided' AND a.client_port IS NOT NULL AND a.server_port IS NOT NULL";

/**
 * The aggregate rows of a result table, decoded into FlowAggregates a chunk at a time. Strings
 * travel as ids into a dictionary (built once, held in JavaScript: one entry per distinct ENI,
 * address and flow log) and numbers as DOUBLE (exact below 2^53): decoding a DuckDB string per
 * cell costs more than the aggregation itself once results reach a million rows.
 */
export class StoredRows implements FlowAggregateRows {
  /** The dictionary's strings, once the rows are coded (codedRows). */
  private strings?: Promise<string[]> | undefined;
  private dropped = false;
  /** Whether reads give the strings as text (the dictionary joins ran out of memory). */
  private plainText = false;

  /** How the source that kept the rows releases them (in turn with its aggregations, which share the connection). */
  releasedBy?: (rows: StoredRows) => Promise<void>;

  constructor(
    private readonly connection: DuckDBConnection,
    private readonly table: string,
    private readonly dictionary: string,
  ) {}

  /** Drops the tables (through the source that kept them, when it said how). */
  release(): Promise<void> {
    this.strings = undefined;
    return this.releasedBy === undefined ? this.drop() : this.releasedBy(this);
  }

  /** Every aggregate row (or at least the undecided ones with both ports), in chunks. */
  async *read(options: { readonly undecidedOnly?: boolean } = {}): AsyncIterable<FlowAggregate[]> {
    this.checkKept();
    const opened = await this.open(options.undecidedOnly === true);
    // Counted before the stream opens: another statement on the connection would end the stream.
    const expected = await this.count(opened.relation);
    let read = 0;
    for await (const chunk of await this.connection.stream(opened.select)) {
      read += chunk.rowCount;
      yield decodeChunk(chunk, opened.text);
    }
    // A stream that fails (out of memory, say) ends like one that is done: DuckDB's C API returns
    // no chunk for both. Fewer rows than the table holds is that failure, never the end of the data.
    if (read !== expected) {
      throw new Error(
        `DuckDB stopped streaming the flow aggregates after ${read} of ${expected} rows (it reports no reason on a stream; out of memory is the likely one): raise --memory-limit`,
      );
    }
  }

  /** The rows of `relation` (what {@link read} streams). */
  private async count(relation: string): Promise<number> {
    const [row] = (
      await this.connection.runAndReadAll(`SELECT CAST(count(*) AS DOUBLE) FROM ${relation}`)
    ).getRows();
    return Number(row?.[0] ?? 0);
  }

  /**
   * The rows' stream: strings as dictionary ids, from the rows coded once (codedRows), or as text
   * once DuckDB cannot code them within its memory (one dictionary entry per peer address:
   * millions with a week of scanners). The text is slower to decode but a plain scan, which needs
   * no more memory however many peers: the statement to stream, and the relation it reads to count it.
   */
  private async open(
    undecidedOnly: boolean,
  ): Promise<{ select: string; text: (value: DuckDBValue) => string; relation: string }> {
    const strings = await this.prepare();
    if (strings !== undefined) {
      const text = (id: DuckDBValue): string => {
        const value = strings[Number(id)];
        if (value === undefined)
          throw new FlowLogFormatError(`flow-log string id ${String(id)} is not in the dictionary`);
        return value;
      };
      const relation = `${codedOf(this.dictionary)}${undecidedOnly ? ` WHERE ${UNDECIDED_CODED}` : ''}`;
      return { select: `SELECT * FROM ${relation}`, text, relation };
    }
    const where = undecidedOnly ? ` AND ${UNDECIDED_WITH_PORTS}` : '';
    return {
      select: aggregateRows(this.table, where),
      text: String,
      relation: `${this.table} a WHERE a.row_kind = 'aggregate'${where}`,
    };
  }

  /** The distinct (ENI, action, flow log) of the rows, sorted. */
  async readers(): Promise<FlowRowReader[]> {
    this.checkKept();
    const rows = (
      await this.connection.runAndReadAll(
        `SELECT DISTINCT eni_id, action, flow_log_id FROM ${this.table} WHERE row_kind = 'aggregate' ORDER BY ALL`,
      )
    ).getRowObjects();
    return rows.map((r) => ({
      eniId: String(r.eni_id),
      action: r.action === 'ACCEPT' ? 'ACCEPT' : 'REJECT',
      ...(r.flow_log_id === null ? {} : { flowLogId: String(r.flow_log_id) }),
    }));
  }

  /** The client ports the settled ('peer-ephemeral') rows count. */
  async settledClientPorts(): Promise<number> {
    this.checkKept();
    const [row] = (
      await this.connection.runAndReadAll(
        `SELECT CAST(COALESCE(sum(distinct_client_ports), 0) AS DOUBLE) FROM ${this.table} WHERE row_kind = 'aggregate' AND evidence = 'peer-ephemeral'`,
      )
    ).getRows();
    return Number(row?.[0] ?? 0);
  }

  /** Every row at once. */
  async all(): Promise<FlowAggregate[]> {
    const aggregates: FlowAggregate[] = [];
    for await (const chunk of this.read()) for (const row of chunk) aggregates.push(row);
    return aggregates;
  }

  /** Drops the tables (rows cannot be read afterwards). Safe to call more than once. */
  async drop(): Promise<void> {
    if (this.dropped) return;
    this.dropped = true;
    await dropDictionary(this.connection, this.dictionary);
    await this.connection.run(`DROP TABLE IF EXISTS ${codedOf(this.dictionary)}`);
    await this.connection.run(`DROP TABLE IF EXISTS ${this.table}`);
  }

  private checkKept(): void {
    if (this.dropped) throw new Error(`the aggregate rows of ${this.table} were dropped`);
  }

  /**
   * Codes the rows for the reads to come (once; reads do it themselves when not asked first):
   * the dictionary's strings, or undefined when DuckDB could not code them within its memory and
   * the reads give the strings as text. The coding is what needs memory; a read needs little more
   * than a scan, so the source may lower DuckDB's memory once this is done.
   */
  async prepare(): Promise<string[] | undefined> {
    if (this.plainText) return undefined;
    try {
      return await this.codedRows();
    } catch (error) {
      if (!isOutOfMemory(error)) throw error;
      this.plainText = true;
      this.strings = undefined;
      return undefined;
    }
  }

  /** The rows coded once, for every later read: their strings. */
  private codedRows(): Promise<string[]> {
    this.checkKept();
    this.strings ??= codeRows(this.connection, this.table, this.dictionary);
    return this.strings;
  }
}

/** The undecided rows with both ports, in the coded table (evidence 2 is 'undecided'). */
const UNDECIDED_CODED = 'evidence = 2 AND client_port IS NOT NULL AND server_port IS NOT NULL';

/**
 * Codes the aggregate rows once into a table of dictionary ids ({@link aggregateRows} with the
 * dictionary) and drops the dictionary's tables: the joins that code them build hash tables of the
 * whole dictionary (one entry per peer address, hundreds of MiB with a week of scanners), which
 * are let go here, before the fold's heap grows, instead of being built again by every read.
 */
async function codeRows(connection: DuckDBConnection, table: string, dictionary: string): Promise<string[]> {
  try {
    const strings = await buildDictionary(connection, table, dictionary);
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE ${codedOf(dictionary)} AS\n${aggregateRows(table, '', dictionary)}`,
    );
    return strings;
  } finally {
    await dropDictionary(connection, dictionary);
  }
}

async function dropDictionary(connection: DuckDBConnection, dictionary: string): Promise<void> {
  await connection.run(`DROP TABLE IF EXISTS ${dictionary}`);
  await connection.run(`DROP TABLE IF EXISTS ${namesOf(dictionary)}`);
}

/** The table of the rows coded with `dictionary`. */
function codedOf(dictionary: string): string {
  return `${dictionary}_coded`;
}

async function buildDictionary(
  connection: DuckDBConnection,
  table: string,
  dictionary: string,
): Promise<string[]> {
  const rows = `(SELECT * FROM ${table} WHERE row_kind = 'aggregate')`;
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE ${dictionary} AS
       SELECT s, CAST(row_number() OVER () - 1 AS INTEGER) AS id
       FROM (SELECT eni_id AS s FROM ${rows} UNION SELECT client_addr FROM ${rows} UNION SELECT server_addr FROM ${rows}
             UNION SELECT flow_log_id FROM ${rows} WHERE flow_log_id IS NOT NULL
             UNION SELECT server_service FROM ${rows} WHERE server_service IS NOT NULL)`,
  );
  // The few strings that are not addresses (ENIs, flow logs, services), joined apart: a join
  // against the whole dictionary (one entry per peer address) builds a hash table of all of it.
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE ${namesOf(dictionary)} AS
       SELECT s, id FROM ${dictionary}
       WHERE s IN (SELECT eni_id FROM ${rows} UNION SELECT flow_log_id FROM ${rows} UNION SELECT server_service FROM ${rows})`,
  );
  const strings: string[] = [];
  const columns = (await connection.runAndReadAll(`SELECT s, id FROM ${dictionary}`)).getColumns();
  columns[0]?.forEach((s, i) => {
    strings[Number(columns[1]?.[i])] = String(s);
  });
  return strings;
}

/** The dictionary's entries that are not addresses (ENIs, flow logs, services): a few, where it has one per peer. */
function namesOf(dictionary: string): string {
  return `${dictionary}_names`;
}

/**
 * The aggregate rows of `table` (and `where`), numbers as DOUBLE and strings as ids of
 * `dictionary`, or as text without one (a plain scan, no join).
 */
function aggregateRows(table: string, where: string, dictionary?: string): string {
  const string = (alias: string, column: string) =>
    dictionary === undefined ? `a.${column}` : `${alias}.id AS ${column}`;
  const joins =
    dictionary === undefined
      ? ''
      : `
JOIN ${namesOf(dictionary)} eni ON eni.s = a.eni_id
JOIN ${dictionary} client ON client.s = a.client_addr
JOIN ${dictionary} server ON server.s = a.server_addr
LEFT JOIN ${namesOf(dictionary)} log ON log.s = a.flow_log_id
LEFT JOIN ${namesOf(dictionary)} service ON service.s = a.server_service`;
  return `SELECT
  ${string('eni', 'eni_id')}, a.action = 'ACCEPT' AS accepted, a.protocol, ${string('client', 'client_addr')}, ${string('server', 'server_addr')},
  a.server_port, a.client_port,
  CAST(CASE a.evidence WHEN 'flags' THEN 0 WHEN 'well-known' THEN 1 WHEN 'peer-ephemeral' THEN 3 ELSE 2 END AS TINYINT) AS evidence,
  CAST(a.records AS DOUBLE), CAST(a.request_records AS DOUBLE), CAST(a.syn_records AS DOUBLE),
  CAST(a.packets AS DOUBLE), CAST(a.bytes AS DOUBLE), CAST(a.first_seen AS DOUBLE), CAST(a.last_seen AS DOUBLE),
  CAST(a.distinct_client_ports AS DOUBLE), ${string('log', 'flow_log_id')}, ${string('service', 'server_service')}
FROM ${table} a${joins}
WHERE a.row_kind = 'aggregate'${where}`;
}

/**
 * A whole number read from DuckDB (the counters arrive as DOUBLE) as a small integer when it is one.
 * Read from a DOUBLE vector, even 1 is a boxed double to V8, and the objects holding these
 * counters (one per connection, millions with many peers) would each box every one of them.
 */
function count(value: DuckDBValue): number {
  const n = Number(value);
  return n >= 0 && n <= 0x7fffffff && Number.isInteger(n) ? n | 0 : n;
}

/** One chunk of {@link aggregateRows} as FlowAggregates. */
function decodeChunk(chunk: DuckDBDataChunk, text: (value: DuckDBValue) => string): FlowAggregate[] {
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
  const services = column(17);
  const port = (value: DuckDBValue): number | null => (value === null ? null : count(value));
  const aggregates: FlowAggregate[] = [];
  const rows = chunk.rowCount;
  for (let row = 0; row < rows; row += 1) {
    const flowLog = flowLogs.getItem(row);
    const service = services.getItem(row);
    aggregates.push({
      eniId: text(eni.getItem(row)),
      action: accepted.getItem(row) === true ? 'ACCEPT' : 'REJECT',
      protocol: count(protocol.getItem(row)),
      clientAddr: text(client.getItem(row)),
      serverAddr: text(server.getItem(row)),
      serverPort: port(serverPort.getItem(row)),
      clientPort: port(clientPort.getItem(row)),
      evidence: EVIDENCE_BY_CODE[Number(evidence.getItem(row))] ?? 'undecided',
      records: count(records.getItem(row)),
      requestRecords: count(requests.getItem(row)),
      synRecords: count(syns.getItem(row)),
      packets: count(packets.getItem(row)),
      bytes: count(bytes.getItem(row)),
      firstSeen: count(first.getItem(row)),
      lastSeen: count(last.getItem(row)),
      distinctClientPorts: count(clientPorts.getItem(row)),
      ...(flowLog === null ? {} : { flowLogId: text(flowLog) }),
      ...(service === null ? {} : { serverService: text(service) }),
    });
  }
  return aggregates;
}
