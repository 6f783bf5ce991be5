/**
 * The local flow source: runs the one flow aggregation (shared/flow/aggregate-sql.ts) in an
 * embedded DuckDB over the flow-log files of an export directory.
 *
 * Every file is read once. The first probe() or aggregate() copies the columns the aggregation
 * needs, typed, into Parquet files in a scratch directory; probe, statistics and any number of
 * aggregations then query those (the view `flow_records`). Scratch Parquet costs less to write
 * than a DuckDB table (no storage-compression analysis), keeps memory flat (DuckDB runs
 * in memory with memory_limit, spilling to the scratch directory) and reads back in parallel.
 *
 * Malformed input is never fatal and never silently dropped:
 *  - a line DuckDB cannot read (wrong field count, a non-numeric port, …) is counted and sampled
 *    with its file (relative to the directory) and line number, from DuckDB's rejects tables;
 *  - values are read in their ranges (ports 0–65535, protocol 0–255, times before 2106), so a
 *    value out of range — typical of a damaged gzip stream, as DuckDB checks no gzip CRC — is a
 *    counted malformed line rather than a record with an impossible port or time;
 *  - a text file whose first line is not a header of flow-log field names, a file lacking a field
 *    the aggregation needs, or a file that cannot be read at all (gzip that does not inflate,
 *    broken Parquet) is skipped with a warning naming it, and counted as one malformed record
 *    (line 1) — a format problem in one file must not stop the audit of the others;
 *  - only when files exist and NONE of them is readable does loading fail (FlowLogFormatError).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue, type DuckDBVector } from '@duckdb/node-api';
import { FlowLogFormatError } from '../../shared/errors';
import { buildFlowAggregateSql, buildFlowStatsSql, sqlString } from '../../shared/flow/aggregate-sql';
import { columnName, fieldsFromHeader, flowLogField, requiredFieldsMissing } from '../../shared/flow/format';
import type {
  EphemeralFoldPlan,
  FlowAggregate,
  FlowAggregateResult,
  FlowAggregateSource,
  FlowQuery,
  FlowSourceStats,
  FoldEvidence,
  MalformedRecord,
} from '../../shared/model/flow';
import { discoverFlowLogFiles, type FlowLogFile, readFirstLine } from './duckdb-flow-files';
import { settleUndecidedRows } from './ephemeral-settle';

export interface DuckDbFlowSourceOptions {
  /** The directory holding flow-log files at any depth (e.g. an export's `flowlogs/`). */
  readonly directory: string;
  /** Progress lines for long work (the CLI writes them to stderr). */
  readonly progress?: (message: string) => void;
  /** Malformed lines sampled with file and line; the count is always complete. @default 20 */
  readonly malformedSampleLimit?: number;
  /** DuckDB worker threads. @default DuckDB's (one per core) */
  readonly threads?: number;
  /** DuckDB memory_limit. @default '512MB' */
  readonly memoryLimit?: string;
  /** Where the scratch directory is created (and removed on close). @default os.tmpdir() */
  readonly scratchDirectory?: string;
}

/** What the files hold, before any window: the CLI's default window ends at `newestRecord`. */
export interface FlowProbe {
  /** Flow-log files read (empty ones included). */
  readonly files: number;
  /** Files skipped (relative paths), each with a warning. */
  readonly unreadableFiles: readonly string[];
  /** Rows loaded, every log-status. */
  readonly records: number;
  /** Epoch seconds: latest record end and earliest record start, over every row loaded. */
  readonly newestRecord?: number;
  readonly oldestRecord?: number;
  /** The flow-log fields of each readable file (relative path → hyphenated names). */
  readonly fieldsByFile: Readonly<Record<string, readonly string[]>>;
  readonly malformedRecords: number;
  readonly malformedSamples: readonly MalformedRecord[];
  /** Sum of the sizes of the files read. */
  readonly bytesRead: number;
  readonly warnings: readonly string[];
}

const ENGINE = 'duckdb-local';
/** The view over the scratch Parquet files: the relation every query reads. */
const TABLE = 'flow_records';
/** One aggregation's rows, and the dictionary of their ENI ids and addresses (s → id). */
const AGGREGATE = 'flow_aggregate';
const STRINGS = 'flow_strings';
const EVIDENCE_BY_CODE: readonly FoldEvidence[] = ['flags', 'well-known', 'undecided', 'peer-ephemeral'];
/** The aggregate rows after the fold plan settled what it could. */
const SETTLED = 'flow_aggregate_settled';
/** Text files whose header lines are read at once. */
const HEADER_READS_AT_ONCE = 32;

/** The columns the aggregation reads, typed; any other column of a file stays text and is never cast. */
const COLUMN_TYPES = {
  interface_id: 'VARCHAR',
  srcaddr: 'VARCHAR',
  dstaddr: 'VARCHAR',
  srcport: 'INTEGER',
  dstport: 'INTEGER',
  protocol: 'INTEGER',
  packets: 'BIGINT',
  bytes: 'BIGINT',
  start: 'BIGINT',
  end: 'BIGINT',
  action: 'VARCHAR',
  log_status: 'VARCHAR',
  tcp_flags: 'INTEGER',
} as const;
type TableColumn = keyof typeof COLUMN_TYPES;
const TABLE_COLUMNS = Object.keys(COLUMN_TYPES) as TableColumn[];

/**
 * The types values are read as: the ranges a flow-log value can take (ports 0–65535, protocol
 * 0–255, epoch seconds before 2106), so a value out of range is a rejected line with its line
 * number rather than a record with an impossible port or time. DuckDB does not check gzip CRCs,
 * so a damaged gzip stream mostly surfaces this way too.
 */
const READ_TYPES: Readonly<Record<TableColumn, string>> = {
  ...COLUMN_TYPES,
  srcport: 'USMALLINT',
  dstport: 'USMALLINT',
  protocol: 'UTINYINT',
  start: 'UINTEGER',
  end: 'UINTEGER',
  tcp_flags: 'USMALLINT',
};

const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

interface UnreadableFile {
  readonly file: string;
  readonly reason: string;
}

interface LoadedFlowLogs {
  readonly probe: FlowProbe;
  readonly hasTcpFlags: boolean;
  readonly sources: readonly string[];
}

/**
 * Flow aggregates from local flow-log files through DuckDB.
 *
 * @example
 * const source = new DuckDbFlowSource({ directory: 'export/flowlogs', progress: console.error });
 * try {
 *   const { newestRecord } = await source.probe();
 *   const { aggregates, stats } = await source.aggregate({ window: { start: newestRecord! - 7 * 86400, end: newestRecord! }, eniIds: [] });
 * } finally {
 *   await source.close();
 * }
 */
export class DuckDbFlowSource implements FlowAggregateSource {
  private readonly options: DuckDbFlowSourceOptions;
  private readonly sampleLimit: number;
  private loading?: Promise<LoadedFlowLogs>;
  private instance?: DuckDBInstance;
  private connection?: DuckDBConnection;
  private scratch?: string;
  /** The scratch Parquet files written so far (one per successful scan). */
  private readonly scratchFiles: string[] = [];
  /** Statements that read the files or the scratch files since the source opened (stats.queries). */
  private queries = 0;
  private rejectTables = 0;
  /** Aggregations share scratch tables: one runs at a time. */
  private aggregating: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(options: DuckDbFlowSourceOptions) {
    this.options = options;
    this.sampleLimit = Math.max(0, options.malformedSampleLimit ?? 20);
  }

  /** Reads the files (once) and says what they hold. */
  async probe(): Promise<FlowProbe> {
    return (await this.load()).probe;
  }

  /** The FlowAggregate rows and statistics of one query (window, ENIs, ports). */
  aggregate(query: FlowQuery): Promise<FlowAggregateResult> {
    const run = this.aggregating.then(() => this.aggregateNow(query));
    this.aggregating = run.catch(() => undefined);
    return run;
  }

  private async aggregateNow(query: FlowQuery): Promise<FlowAggregateResult> {
    const loaded = await this.load();
    const connection = this.requireConnection();
    const sqlOptions = {
      dialect: 'duckdb' as const,
      relation: TABLE,
      fields: loaded.hasTcpFlags ? ['tcp-flags'] : [],
      window: query.window,
      eniIds: query.eniIds,
      ports: query.ports,
    };
    this.progress(
      `flow logs: aggregating ${new Date(query.window.start * 1000).toISOString()} – ${new Date(query.window.end * 1000).toISOString()}`,
    );

    const aggregates = await this.fetchAggregates(
      connection,
      buildFlowAggregateSql(sqlOptions),
      query.foldPlan,
    );

    const statsSql = buildFlowStatsSql(sqlOptions);
    this.queries += 2;
    const [totals] = (await connection.runAndReadAll(statsSql.totals)).getRowObjects();
    const enis = (await connection.runAndReadAll(statsSql.enis)).getRowObjects().map((r) => String(r.eni_id));

    const count = (column: string): number => Number(totals?.[column] ?? 0);
    const warnings = [...loaded.probe.warnings];
    if (count('skipdata_records') > 0) {
      warnings.push(
        `${count('skipdata_records')} SKIPDATA record(s) in the window: flow-log records were lost, traffic may be missing`,
      );
    }
    if (count('incomplete_records') > 0) {
      warnings.push(
        `${count('incomplete_records')} record(s) in the window lack a value the aggregation needs ('-') and were not counted`,
      );
    }
    const { probe } = loaded;
    const stats: FlowSourceStats = {
      engine: ENGINE,
      sources: loaded.sources,
      files: probe.files,
      records: count('records'),
      nodataRecords: count('nodata_records'),
      skipdataRecords: count('skipdata_records'),
      malformedRecords: probe.malformedRecords,
      malformedSamples: probe.malformedSamples,
      queries: this.queries,
      bytesScanned: probe.bytesRead,
      newestRecord: probe.newestRecord,
      oldestRecord: probe.oldestRecord,
      enisWithRecords: enis,
      warnings,
    };
    this.progress(`flow logs: ${aggregates.length} aggregate rows from ${stats.records} records`);
    return { aggregates, stats };
  }

  /**
   * Runs the aggregate query and turns its rows into FlowAggregates. Strings travel as ids into a
   * dictionary and numbers as DOUBLE (exact below 2^53): decoding a DuckDB string per cell costs
   * more than the aggregation itself once results reach a million rows.
   */
  private async fetchAggregates(
    connection: DuckDBConnection,
    aggregateSql: string,
    foldPlan: EphemeralFoldPlan | undefined,
  ): Promise<FlowAggregate[]> {
    this.queries += 1;
    await connection.run(`CREATE OR REPLACE TEMP TABLE ${AGGREGATE} AS\n${aggregateSql}`);
    let rows = AGGREGATE;
    if (foldPlan !== undefined) {
      const settled = await settleUndecidedRows(connection, AGGREGATE, SETTLED, foldPlan);
      this.progress(`flow logs: ${settled} undecided rows settled by ephemeral ranges`);
      rows = SETTLED;
    }
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE ${STRINGS} AS
       SELECT s, CAST(row_number() OVER () - 1 AS INTEGER) AS id
       FROM (SELECT eni_id AS s FROM ${rows} UNION SELECT client_addr FROM ${rows} UNION SELECT server_addr FROM ${rows})`,
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
  CAST(a.distinct_client_ports AS DOUBLE)
FROM ${rows} a
JOIN ${STRINGS} eni ON eni.s = a.eni_id
JOIN ${STRINGS} client ON client.s = a.client_addr
JOIN ${STRINGS} server ON server.s = a.server_addr`;
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
      const rows = chunk.rowCount;
      for (let row = 0; row < rows; row += 1) {
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
        });
      }
    }
    await connection.run(
      `DROP TABLE ${AGGREGATE}; DROP TABLE ${STRINGS}${rows === SETTLED ? `; DROP TABLE ${SETTLED}` : ''}`,
    );
    return aggregates;
  }

  /** Closes DuckDB and removes the scratch directory. Safe to call more than once. */
  async close(): Promise<void> {
    this.closed = true;
    await this.loading?.catch(() => undefined);
    this.connection?.closeSync();
    this.instance?.closeSync();
    this.connection = undefined;
    this.instance = undefined;
    if (this.scratch !== undefined) {
      await rm(this.scratch, { recursive: true, force: true });
      this.scratch = undefined;
    }
  }

  private load(): Promise<LoadedFlowLogs> {
    if (this.closed) return Promise.reject(new Error('DuckDbFlowSource is closed'));
    this.loading ??= this.loadFiles();
    return this.loading;
  }

  private progress(message: string): void {
    this.options.progress?.(message);
  }

  private requireConnection(): DuckDBConnection {
    if (this.connection === undefined) throw new Error('DuckDbFlowSource is closed');
    return this.connection;
  }

  private async open(): Promise<DuckDBConnection> {
    this.scratch = await mkdtemp(join(this.options.scratchDirectory ?? tmpdir(), 'sg-audit-flow-'));
    const config: Record<string, string> = {
      memory_limit: this.options.memoryLimit ?? '512MB',
      temp_directory: join(this.scratch, 'spill'),
      // Rows are aggregated, never listed in file order: let every thread write at once.
      preserve_insertion_order: 'false',
    };
    if (this.options.threads !== undefined) config.threads = String(this.options.threads);
    this.instance = await DuckDBInstance.create(':memory:', config);
    this.connection = await this.instance.connect();
    return this.connection;
  }

  private async loadFiles(): Promise<LoadedFlowLogs> {
    const started = Date.now();
    const { directory } = this.options;
    const files = await discoverFlowLogFiles(directory);
    const connection = await this.open();
    const warnings: string[] = [];
    if (files.length === 0)
      warnings.push(`no flow-log files (*.log[.gz], *.txt[.gz], *.parquet) under ${directory}`);
    const text = files.filter((f) => f.kind === 'text');
    const parquet = files.filter((f) => f.kind === 'parquet');
    this.progress(
      `flow logs: ${files.length} files under ${directory} (${text.length} text, ${parquet.length} Parquet)`,
    );

    const unreadable: UnreadableFile[] = [];
    const fieldsByFile: Record<string, readonly string[]> = {};
    const rejectTables: string[] = [];
    let hasTcpFlags = false;
    const unknownFields = new Set<string>();

    // Text: the header line decides the format; files of one format are read by one scan.
    const textGroups = new Map<string, { fields: string[]; files: FlowLogFile[] }>();
    const textFields: (string[] | undefined)[] = [];
    for (let i = 0; i < text.length; i += HEADER_READS_AT_ONCE) {
      const batch = text.slice(i, i + HEADER_READS_AT_ONCE);
      textFields.push(...(await Promise.all(batch.map((file) => this.textFields(file, unreadable)))));
    }
    text.forEach((file, i) => {
      const fields = textFields[i];
      if (fields === undefined) return;
      fieldsByFile[file.relativePath] = fields;
      if (fields.length === 0) return;
      const key = fields.join(' ');
      const group = textGroups.get(key) ?? { fields, files: [] };
      group.files.push(file);
      textGroups.set(key, group);
    });
    let groupNumber = 0;
    for (const group of textGroups.values()) {
      groupNumber += 1;
      for (const field of group.fields) {
        if (flowLogField(field) === undefined) unknownFields.add(field);
      }
      hasTcpFlags ||= group.fields.includes('tcp-flags');
      this.progress(
        `flow logs: reading ${group.files.length} text files of format ${groupNumber}/${textGroups.size} (${group.fields.length} fields)`,
      );
      await this.readGroup(group.files, unreadable, (batch) =>
        this.copyText(connection, batch, group.fields, rejectTables),
      );
    }

    // Parquet: columns are named like Athena's (account_id, …); types come with the file.
    if (parquet.length > 0) {
      this.progress(`flow logs: reading ${parquet.length} Parquet files`);
      const parquetGroups = await this.parquetGroups(connection, parquet, unreadable, fieldsByFile);
      for (const group of parquetGroups.values()) {
        hasTcpFlags ||= group.columns.has('tcp_flags');
        await this.readGroup(group.files, unreadable, (batch) =>
          this.copyParquet(connection, batch, group.columns),
        );
      }
    }

    await this.createRecordsView(connection);

    for (const failure of unreadable) {
      delete fieldsByFile[failure.file];
      warnings.push(`${failure.file}: ${failure.reason}; file skipped`);
    }
    if (unknownFields.size > 0) {
      warnings.push(
        `flow-log fields unknown to this version were read as text: ${[...unknownFields].join(', ')}`,
      );
    }
    if (files.length > 0 && unreadable.length === files.length) {
      const shown = unreadable.slice(0, 5).map((u) => `${u.file}: ${u.reason}`);
      throw new FlowLogFormatError(
        `none of the ${files.length} flow-log files could be read (${shown.join('; ')}${unreadable.length > 5 ? '; …' : ''})`,
        { file: directory },
      );
    }

    const malformed = await this.malformedLines(connection, rejectTables, files);
    const headerSamples: MalformedRecord[] = unreadable.map((u) => ({
      file: u.file,
      line: 1,
      reason: u.reason,
    }));
    const malformedSamples = [...headerSamples, ...malformed.samples]
      .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line))
      .slice(0, this.sampleLimit);
    if (malformed.count > 0) {
      warnings.push(`${malformed.count} malformed flow-log line(s) skipped (see malformed samples)`);
    }

    this.queries += 1;
    const [span] = (
      await connection.runAndReadAll(
        `SELECT count(*) AS n, min(start) AS oldest, max("end") AS newest FROM ${TABLE}`,
      )
    ).getRowObjects();
    const unreadablePaths = new Set(unreadable.map((u) => u.file));
    const read = files.filter((f) => !unreadablePaths.has(f.relativePath));
    const probe: FlowProbe = {
      files: read.length,
      unreadableFiles: [...unreadablePaths],
      records: Number(span?.n ?? 0),
      newestRecord: optionalNumber(span?.newest),
      oldestRecord: optionalNumber(span?.oldest),
      fieldsByFile,
      malformedRecords: malformed.count + unreadable.length,
      malformedSamples,
      bytesRead: read.reduce((sum, f) => sum + f.bytes, 0),
      warnings,
    };
    const flowLogIds = [
      ...new Set(read.map((f) => f.flowLogId).filter((id): id is string => id !== undefined)),
    ];
    const sources = read.some((f) => f.flowLogId === undefined)
      ? [...flowLogIds.sort(), directory]
      : flowLogIds.sort();
    this.progress(
      `flow logs: loaded ${probe.records} records from ${probe.files} files in ${((Date.now() - started) / 1000).toFixed(1)} s` +
        (probe.malformedRecords > 0 ? ` (${probe.malformedRecords} malformed)` : ''),
    );
    return { probe, hasTcpFlags, sources };
  }

  /** The fields named by a text file's header; [] for an empty file; undefined (and recorded) when unusable. */
  private async textFields(file: FlowLogFile, unreadable: UnreadableFile[]): Promise<string[] | undefined> {
    let header: string | undefined;
    try {
      header = await readFirstLine(file);
    } catch (error) {
      unreadable.push({ file: file.relativePath, reason: `cannot read: ${(error as Error).message}` });
      return undefined;
    }
    if (header === undefined) return [];
    try {
      const fields = fieldsFromHeader(header, { allowUnknownFields: true });
      const missing = requiredFieldsMissing(fields);
      if (missing.length > 0) {
        unreadable.push({ file: file.relativePath, reason: `flow-log format lacks ${missing.join(', ')}` });
        return undefined;
      }
      return fields;
    } catch (error) {
      if (!(error instanceof FlowLogFormatError)) throw error;
      unreadable.push({ file: file.relativePath, reason: `unrecognised flow-log header (${error.message})` });
      return undefined;
    }
  }

  /** Runs one scan over a group; when it fails, scans file by file so only the broken files are skipped. */
  private async readGroup(
    files: readonly FlowLogFile[],
    unreadable: UnreadableFile[],
    scan: (batch: readonly FlowLogFile[]) => Promise<void>,
  ): Promise<void> {
    try {
      await scan(files);
      return;
    } catch (error) {
      if (files.length === 1 && files[0] !== undefined) {
        unreadable.push({
          file: files[0].relativePath,
          reason: `DuckDB cannot read it: ${firstLine(error)}`,
        });
        return;
      }
    }
    for (const file of files) {
      try {
        await scan([file]);
      } catch (error) {
        unreadable.push({ file: file.relativePath, reason: `DuckDB cannot read it: ${firstLine(error)}` });
      }
    }
  }

  private async copyText(
    connection: DuckDBConnection,
    files: readonly FlowLogFile[],
    fields: readonly string[],
    rejectTables: string[],
  ): Promise<void> {
    this.rejectTables += 1;
    const rejects = `flow_rejects_${this.rejectTables}`;
    const scans = `flow_reject_scans_${this.rejectTables}`;
    const columns = fields.map((f) => {
      const name = columnName(f);
      const type = name in READ_TYPES ? READ_TYPES[name as TableColumn] : 'VARCHAR';
      return `${sqlString(name)}: ${sqlString(type)}`;
    });
    const present = new Set(fields.map(columnName));
    const select = TABLE_COLUMNS.map((c) => scratchColumn(c, present.has(c) ? quoteIdentifier(c) : 'NULL'));
    await this.copyToScratch(
      connection,
      `SELECT ${select.join(', ')}
       FROM read_csv([${files.map((f) => sqlString(f.path)).join(', ')}],
         delim = ' ', header = true, columns = {${columns.join(', ')}},
         nullstr = '-', quote = '', escape = '', auto_detect = false,
         hive_partitioning = false, union_by_name = false,
         store_rejects = true, rejects_table = ${sqlString(rejects)}, rejects_scan = ${sqlString(scans)})`,
    );
    rejectTables.push(rejects, scans);
  }

  /** Parquet files grouped by how they spell the columns the aggregation reads. */
  private async parquetGroups(
    connection: DuckDBConnection,
    files: readonly FlowLogFile[],
    unreadable: UnreadableFile[],
    fieldsByFile: Record<string, readonly string[]>,
  ): Promise<Map<string, { columns: Map<TableColumn, string>; files: FlowLogFile[] }>> {
    const columnsByPath = new Map<string, string[]>();
    const readSchemas = async (batch: readonly FlowLogFile[]): Promise<void> => {
      this.queries += 1;
      const rows = (
        await connection.runAndReadAll(
          `SELECT file_name, name FROM parquet_schema([${batch.map((f) => sqlString(f.path)).join(', ')}])
           WHERE num_children IS NULL OR num_children = 0`,
        )
      ).getRowObjects();
      for (const row of rows) {
        const path = String(row.file_name);
        columnsByPath.set(path, [...(columnsByPath.get(path) ?? []), String(row.name)]);
      }
    };
    await this.readGroup(files, unreadable, readSchemas);

    const groups = new Map<string, { columns: Map<TableColumn, string>; files: FlowLogFile[] }>();
    const failed = new Set(unreadable.map((u) => u.file));
    for (const file of files) {
      if (failed.has(file.relativePath)) continue;
      // Columns that are not flow-log field names (a user's extras) are ignored; fields are matched by name.
      const columns = new Map<TableColumn, string>();
      const fields: string[] = [];
      for (const actual of columnsByPath.get(file.path) ?? []) {
        const field = parquetField(actual);
        if (field === undefined || fields.includes(field)) continue;
        fields.push(field);
        const column = columnName(field);
        if (column in COLUMN_TYPES) columns.set(column as TableColumn, actual);
      }
      const missing = requiredFieldsMissing(fields);
      if (missing.length > 0) {
        unreadable.push({ file: file.relativePath, reason: `flow-log format lacks ${missing.join(', ')}` });
        continue;
      }
      fieldsByFile[file.relativePath] = fields;
      const key = TABLE_COLUMNS.map((c) => columns.get(c) ?? '').join(' ');
      const group = groups.get(key) ?? { columns, files: [] };
      group.files.push(file);
      groups.set(key, group);
    }
    return groups;
  }

  private async copyParquet(
    connection: DuckDBConnection,
    files: readonly FlowLogFile[],
    columns: ReadonlyMap<TableColumn, string>,
  ): Promise<void> {
    // TRY_CAST: a value of the wrong type or range becomes NULL, and the record is counted as incomplete.
    const select = TABLE_COLUMNS.map((c) => {
      const actual = columns.get(c);
      return scratchColumn(
        c,
        actual === undefined ? 'NULL' : `TRY_CAST(${quoteIdentifier(actual)} AS ${READ_TYPES[c]})`,
      );
    });
    await this.copyToScratch(
      connection,
      `SELECT ${select.join(', ')}
       FROM read_parquet([${files.map((f) => sqlString(f.path)).join(', ')}], union_by_name = true, hive_partitioning = false)`,
    );
  }

  /** Writes one scan's typed columns to a new scratch Parquet file; a failed scan leaves none. */
  private async copyToScratch(connection: DuckDBConnection, select: string): Promise<void> {
    const file = join(this.requireScratch(), `records-${this.scratchFiles.length + 1}.parquet`);
    this.queries += 1;
    try {
      // lz4: nearly as cheap to write as uncompressed, a third smaller on disk.
      await connection.run(`COPY (${select}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION lz4_raw)`);
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
    this.scratchFiles.push(file);
  }

  /** The relation every query reads: the scratch files, or an empty table of the same columns. */
  private async createRecordsView(connection: DuckDBConnection): Promise<void> {
    if (this.scratchFiles.length === 0) {
      const columns = TABLE_COLUMNS.map((c) => `${quoteIdentifier(c)} ${COLUMN_TYPES[c]}`).join(', ');
      await connection.run(`CREATE TABLE ${TABLE} (${columns})`);
      return;
    }
    await connection.run(
      `CREATE VIEW ${TABLE} AS SELECT * FROM read_parquet([${this.scratchFiles.map(sqlString).join(', ')}])`,
    );
  }

  private requireScratch(): string {
    if (this.scratch === undefined) throw new Error('DuckDbFlowSource is closed');
    return this.scratch;
  }

  /** Every line DuckDB rejected, counted once per line, and the first ones with file and line. */
  private async malformedLines(
    connection: DuckDBConnection,
    rejectTables: readonly string[],
    files: readonly FlowLogFile[],
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
    this.queries += 2;
    const [total] = (await connection.runAndReadAll(`SELECT count(*) AS n FROM ${rejected}`)).getRowObjects();
    const count = Number(total?.n ?? 0);
    if (count === 0 || this.sampleLimit === 0) return { count, samples: [] };
    const rows = (
      await connection.runAndReadAll(
        `SELECT file, line, error_type, column_name, error_message FROM ${rejected} ORDER BY file, line LIMIT ${this.sampleLimit}`,
      )
    ).getRowObjects();
    const samples = rows.map((r) => ({
      file: relativeByPath.get(String(r.file)) ?? String(r.file),
      line: Number(r.line),
      reason: malformedReason(
        String(r.error_type),
        r.column_name === null ? undefined : String(r.column_name),
        String(r.error_message),
      ),
    }));
    return { count, samples };
  }
}

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

/** One column of a scratch file, in the one type every scratch file gives it. */
function scratchColumn(column: TableColumn, value: string): string {
  return `CAST(${value} AS ${COLUMN_TYPES[column]}) AS ${quoteIdentifier(column)}`;
}

function optionalNumber(value: DuckDBValue | undefined): number | undefined {
  return value === null || value === undefined ? undefined : Number(value);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/** The hyphenated field a Parquet column holds, if its name is a flow-log field name. */
function parquetField(column: string): string | undefined {
  try {
    const [field, extra] = fieldsFromHeader(column, { allowUnknownFields: true });
    return extra === undefined ? field : undefined;
  } catch {
    return undefined;
  }
}
