/**
 * The local flow source: runs the one flow aggregation (shared/flow/aggregate-sql.ts) in an
 * embedded DuckDB directly over the flow-log files of an export directory.
 *
 * Each aggregate() reads every file ONCE: the single-pass query (buildFlowSinglePassSql) yields
 * the aggregate rows and the statistics together, straight from read_csv/read_parquet, with no
 * intermediate copy. probe() reads only what the default window needs: each text file's header
 * line and the newest record, found in the newest files by their S3 object-name time (see
 * {@link newestRecordOf}), or by reading every file when the names cannot prove it.
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
 *  - only when files exist and NONE of them is readable does probing fail (FlowLogFormatError).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue, type DuckDBVector } from '@duckdb/node-api';
import { FlowLogFormatError } from '../../shared/errors';
import { buildFlowSinglePassSql, sqlString } from '../../shared/flow/aggregate-sql';
import { columnName, fieldsFromHeader, flowLogField, requiredFieldsMissing } from '../../shared/flow/format';
import type {
  FlowAggregate,
  FlowAggregateResult,
  FlowAggregateSource,
  FlowQuery,
  FlowSourceStats,
  FoldEvidence,
  MalformedRecord,
} from '../../shared/model/flow';
import { discoverFlowLogFiles, type FlowLogFile, readFirstLine } from './duckdb-flow-files';
import { createFoldPlanTables, dropFoldPlanTables } from './ephemeral-settle';

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
  /** Where the spill directory is created (and removed on close). @default os.tmpdir() */
  readonly scratchDirectory?: string;
}

/** What the files are, before any window: the CLI's default window ends at `newestRecord`. */
export interface FlowProbe {
  /** Flow-log files with a readable format (empty ones included). */
  readonly files: number;
  /** Files skipped (relative paths), each with a warning. */
  readonly unreadableFiles: readonly string[];
  /** Epoch seconds: the latest record end over every file, any log status. */
  readonly newestRecord?: number;
  /** The flow-log fields of each readable file (relative path → hyphenated names). */
  readonly fieldsByFile: Readonly<Record<string, readonly string[]>>;
  /** Files skipped so far, one each (malformed lines are counted by aggregate()). */
  readonly malformedRecords: number;
  readonly malformedSamples: readonly MalformedRecord[];
  /** Sum of the sizes of the readable files. */
  readonly bytesRead: number;
  readonly warnings: readonly string[];
}

const ENGINE = 'duckdb-local';
/** One aggregation's result rows, and the dictionary of their strings (s → id). */
const RESULT = 'flow_result';
const STRINGS = 'flow_strings';
const EVIDENCE_BY_CODE: readonly FoldEvidence[] = ['flags', 'well-known', 'undecided', 'peer-ephemeral'];
/** Text files whose header lines are read at once. */
const HEADER_READS_AT_ONCE = 64;
/** The delivery time in an S3 flow-log object name (`…_20240601T0955Z_hash.log.gz`). */
const OBJECT_TIME = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_/;
/**
 * How long after its object's name time a record may end. S3 delivers a file after its records
 * end; an hour is far beyond the delivery interval and clock skew (the sample data ends 5
 * minutes past), and reading the files of a few hours costs little.
 */
const RECORD_LAG_SECONDS = 3600;
/** The newest files read to find the newest record: those named within this of the newest name. */
const NEWEST_FILES_SPAN_SECONDS = 3 * 3600;

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

/** Text files of one format (header), read by one read_csv. */
interface TextGroup {
  readonly fields: readonly string[];
  readonly files: readonly FlowLogFile[];
}

/** Parquet files that spell the needed columns alike, read by one read_parquet. */
interface ParquetGroup {
  readonly columns: ReadonlyMap<TableColumn, string>;
  readonly files: readonly FlowLogFile[];
}

/** What probe() found: the readable files by format, and what could not be used. */
interface Inspection {
  readonly probe: FlowProbe;
  readonly textGroups: readonly TextGroup[];
  readonly parquetGroups: readonly ParquetGroup[];
  readonly hasTcpFlags: boolean;
  readonly unreadable: readonly UnreadableFile[];
}

/** One scan of the files: the reader SQL of each group, and the rejects tables it fills. */
interface Scan {
  readonly relation: string;
  readonly rejectTables: readonly string[];
  readonly files: readonly FlowLogFile[];
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
  private inspecting?: Promise<Inspection>;
  private instance?: DuckDBInstance;
  private connection?: DuckDBConnection;
  private scratch?: string;
  /** Files a scan found unreadable (relative path → reason): left out of later scans. */
  private readonly broken = new Map<string, string>();
  /** Statements that read the files since the source opened (stats.queries). */
  private queries = 0;
  private scans = 0;
  /** Aggregations share temp tables: one runs at a time. */
  private aggregating: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(options: DuckDbFlowSourceOptions) {
    this.options = options;
    this.sampleLimit = Math.max(0, options.malformedSampleLimit ?? 20);
  }

  /** Reads the headers and finds the newest record (once) and says what the files hold. */
  async probe(): Promise<FlowProbe> {
    return (await this.inspect()).probe;
  }

  /**
   * The earliest record start and latest record end over every readable file (one read of the
   * start and end columns): what a caller needs when it asked no aggregation yet.
   */
  async span(): Promise<{ oldestRecord?: number; newestRecord?: number }> {
    const inspection = await this.inspect();
    const { relation } = this.scanOf(inspection, { rejects: false });
    this.queries += 1;
    const [row] = (
      await this.requireConnection().runAndReadAll(
        `SELECT min(start) AS oldest, max("end") AS newest FROM ${relation}`,
      )
    ).getRowObjects();
    const oldest = optionalNumber(row?.oldest);
    const newest = optionalNumber(row?.newest);
    return {
      ...(oldest !== undefined ? { oldestRecord: oldest } : {}),
      ...(newest !== undefined ? { newestRecord: newest } : {}),
    };
  }

  /** The FlowAggregate rows and statistics of one query (window, ENIs, ports): one read of every file. */
  aggregate(query: FlowQuery): Promise<FlowAggregateResult> {
    const run = this.aggregating.then(() => this.aggregateNow(query));
    this.aggregating = run.catch(() => undefined);
    return run;
  }

  private async aggregateNow(query: FlowQuery): Promise<FlowAggregateResult> {
    const inspection = await this.inspect();
    const connection = this.requireConnection();
    this.progress(
      `flow logs: aggregating ${new Date(query.window.start * 1000).toISOString()} – ${new Date(query.window.end * 1000).toISOString()}`,
    );
    const foldPlan =
      query.foldPlan === undefined ? undefined : await createFoldPlanTables(connection, query.foldPlan);
    let scan: Scan;
    try {
      scan = await this.scanInto(connection, inspection, (relation) =>
        buildFlowSinglePassSql({
          dialect: 'duckdb',
          relation,
          fields: inspection.hasTcpFlags ? ['tcp-flags'] : [],
          window: query.window,
          eniIds: query.eniIds,
          ports: query.ports,
          ...(foldPlan !== undefined ? { foldPlan } : {}),
        }),
      );
    } finally {
      if (foldPlan !== undefined) await dropFoldPlanTables(connection);
    }
    const aggregates = await this.fetchAggregates(connection);
    if (foldPlan !== undefined) {
      // Each settled row counts the undecided (connection, client port) rows it merged.
      const settled = aggregates.reduce(
        (n, a) => (a.evidence === 'peer-ephemeral' ? n + a.distinctClientPorts : n),
        0,
      );
      this.progress(`flow logs: ${settled} undecided rows settled by ephemeral ranges`);
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
    const malformed = await this.malformedLines(connection, scan.rejectTables, scan.files);
    await connection.run(`DROP TABLE ${RESULT}`);

    const count = (column: string): number => Number(totals?.[column] ?? 0);
    const { probe } = inspection;
    const warnings = [...probe.warnings, ...this.brokenWarnings()];
    if (malformed.count > 0) {
      warnings.push(`${malformed.count} malformed flow-log line(s) skipped (see malformed samples)`);
    }
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
    const newest = optionalNumber(totals?.newest_end);
    if (newest !== undefined && probe.newestRecord !== undefined && newest > probe.newestRecord) {
      warnings.push(
        `a record ends at ${new Date(newest * 1000).toISOString()}, after the newest record the object names pointed to; pass --end to include it`,
      );
    }
    const unreadable = [
      ...inspection.unreadable,
      ...[...this.broken].map(([file, reason]) => ({ file, reason })),
    ];
    const samples = [
      ...unreadable.map((u) => ({ file: u.file, line: 1, reason: u.reason })),
      ...malformed.samples,
    ]
      .sort(compareSamples)
      .slice(0, this.sampleLimit);
    const stats: FlowSourceStats = {
      engine: ENGINE,
      sources: sourcesOf(scan.files, this.options.directory),
      files: scan.files.length,
      records: count('records'),
      nodataRecords: count('nodata_records'),
      skipdataRecords: count('skipdata_records'),
      malformedRecords: malformed.count + unreadable.length,
      malformedSamples: samples,
      queries: this.queries,
      bytesScanned: scan.files.reduce((sum, f) => sum + f.bytes, 0),
      newestRecord: newest,
      oldestRecord: optionalNumber(totals?.oldest_start),
      enisWithRecords: enis,
      warnings,
    };
    this.progress(`flow logs: ${aggregates.length} aggregate rows from ${stats.records} records`);
    return { aggregates, stats };
  }

  /**
   * Runs the single-pass query over every readable file into the result table. When a file
   * turns out unreadable (gzip that does not inflate, broken Parquet), finds the culprits file by
   * file, leaves them out with a warning and runs the query again.
   */
  private async scanInto(
    connection: DuckDBConnection,
    inspection: Inspection,
    sql: (relation: string) => string,
  ): Promise<Scan> {
    for (let attempt = 0; ; attempt += 1) {
      const scan = this.scanOf(inspection, { rejects: true });
      this.queries += 1;
      try {
        await connection.run(`CREATE OR REPLACE TEMP TABLE ${RESULT} AS\n${sql(scan.relation)}`);
        return scan;
      } catch (error) {
        await this.dropTables(connection, scan.rejectTables);
        if (attempt > 0) throw error;
        const found = await this.findBrokenFiles(connection, inspection);
        if (found === 0) throw error;
      }
    }
  }

  /** Reads each file alone and records those DuckDB cannot read; returns how many it found. */
  private async findBrokenFiles(connection: DuckDBConnection, inspection: Inspection): Promise<number> {
    let found = 0;
    for (const group of inspection.textGroups) {
      for (const file of group.files) {
        if (this.broken.has(file.relativePath)) continue;
        try {
          this.queries += 1;
          await connection.run(
            `SELECT count(*) FROM ${textReader([file], group.fields, { ignoreErrors: true })}`,
          );
        } catch (error) {
          this.broken.set(file.relativePath, `DuckDB cannot read it: ${firstLine(error)}`);
          found += 1;
        }
      }
    }
    for (const group of inspection.parquetGroups) {
      for (const file of group.files) {
        if (this.broken.has(file.relativePath)) continue;
        try {
          this.queries += 1;
          await connection.run(`SELECT count(*) FROM ${parquetReader([file], group.columns)}`);
        } catch (error) {
          this.broken.set(file.relativePath, `DuckDB cannot read it: ${firstLine(error)}`);
          found += 1;
        }
      }
    }
    return found;
  }

  private brokenWarnings(): string[] {
    return [...this.broken].map(([file, reason]) => `${file}: ${reason}; file skipped`);
  }

  /** The relation of every readable file (UNION ALL of one reader per group), fresh rejects tables. */
  private scanOf(
    inspection: Pick<Inspection, 'textGroups' | 'parquetGroups'>,
    options: { rejects: boolean },
  ): Scan {
    const parts: string[] = [];
    const rejectTables: string[] = [];
    const files: FlowLogFile[] = [];
    const usable = (group: { files: readonly FlowLogFile[] }) =>
      group.files.filter((f) => !this.broken.has(f.relativePath));
    for (const group of inspection.textGroups) {
      const readable = usable(group);
      if (readable.length === 0) continue;
      files.push(...readable);
      let rejects: { table: string; scans: string } | undefined;
      if (options.rejects) {
        this.scans += 1;
        rejects = { table: `flow_rejects_${this.scans}`, scans: `flow_reject_scans_${this.scans}` };
        rejectTables.push(rejects.table, rejects.scans);
      }
      parts.push(
        `SELECT * FROM ${textReader(readable, group.fields, rejects ? { rejects } : { ignoreErrors: true })}`,
      );
    }
    for (const group of inspection.parquetGroups) {
      const readable = usable(group);
      if (readable.length === 0) continue;
      files.push(...readable);
      parts.push(`SELECT * FROM ${parquetReader(readable, group.columns)}`);
    }
    if (parts.length === 0) {
      const columns = TABLE_COLUMNS.map((c) => `CAST(NULL AS ${COLUMN_TYPES[c]}) AS ${quoteIdentifier(c)}`);
      parts.push(`SELECT ${columns.join(', ')} WHERE FALSE`);
    }
    return { relation: `(\n${parts.join('\nUNION ALL\n')}\n) flow_records`, rejectTables, files };
  }

  private async dropTables(connection: DuckDBConnection, tables: readonly string[]): Promise<void> {
    for (const table of tables) await connection.run(`DROP TABLE IF EXISTS ${table}`);
  }

  /**
   * Turns the result's aggregate rows into FlowAggregates. Strings travel as ids into a
   * dictionary and numbers as DOUBLE (exact below 2^53): decoding a DuckDB string per cell costs
   * more than the aggregation itself once results reach a million rows.
   */
  private async fetchAggregates(connection: DuckDBConnection): Promise<FlowAggregate[]> {
    const rows = `(SELECT * FROM ${RESULT} WHERE row_kind = 'aggregate')`;
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
    await connection.run(`DROP TABLE ${STRINGS}`);
    return aggregates;
  }

  /** Closes DuckDB and removes the spill directory. Safe to call more than once. */
  async close(): Promise<void> {
    this.closed = true;
    await this.inspecting?.catch(() => undefined);
    await this.aggregating.catch(() => undefined);
    this.connection?.closeSync();
    this.instance?.closeSync();
    this.connection = undefined;
    this.instance = undefined;
    if (this.scratch !== undefined) {
      await rm(this.scratch, { recursive: true, force: true });
      this.scratch = undefined;
    }
  }

  private inspect(): Promise<Inspection> {
    if (this.closed) return Promise.reject(new Error('DuckDbFlowSource is closed'));
    this.inspecting ??= this.inspectFiles();
    return this.inspecting;
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
      // Rows are aggregated, never listed in file order: let every thread work at once.
      preserve_insertion_order: 'false',
    };
    if (this.options.threads !== undefined) config.threads = String(this.options.threads);
    this.instance = await DuckDBInstance.create(':memory:', config);
    this.connection = await this.instance.connect();
    return this.connection;
  }

  private async inspectFiles(): Promise<Inspection> {
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
    const unknownFields = new Set<string>();

    // Text: the header line decides the format; files of one format are read by one read_csv.
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
    for (const group of textGroups.values()) {
      for (const field of group.fields) {
        if (flowLogField(field) === undefined) unknownFields.add(field);
      }
    }
    const parquetGroups =
      parquet.length > 0
        ? [...(await this.parquetGroups(connection, parquet, unreadable, fieldsByFile)).values()]
        : [];

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

    const inspection = {
      textGroups: [...textGroups.values()],
      parquetGroups,
      hasTcpFlags:
        [...textGroups.values()].some((g) => g.fields.includes('tcp-flags')) ||
        parquetGroups.some((g) => g.columns.has('tcp_flags')),
      unreadable,
    };
    const newestRecord = await this.newestRecordOf(connection, inspection);
    const unreadablePaths = new Set(unreadable.map((u) => u.file));
    const read = files.filter((f) => !unreadablePaths.has(f.relativePath));
    const probe: FlowProbe = {
      files: read.length,
      unreadableFiles: [...unreadablePaths],
      ...(newestRecord !== undefined ? { newestRecord } : {}),
      fieldsByFile,
      malformedRecords: unreadable.length,
      malformedSamples: unreadable
        .map((u) => ({ file: u.file, line: 1, reason: u.reason }))
        .sort(compareSamples)
        .slice(0, this.sampleLimit),
      bytesRead: read.reduce((sum, f) => sum + f.bytes, 0),
      warnings,
    };
    this.progress(
      `flow logs: ${probe.files} readable files, newest record ${newestRecord === undefined ? 'none' : new Date(newestRecord * 1000).toISOString()} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    return { ...inspection, probe };
  }

  /**
   * The latest record end over every file, reading as few files as the S3 object names allow.
   * A flow-log object is named by its delivery time and holds records that ended before it was
   * delivered (allowing {@link RECORD_LAG_SECONDS}). So the files named within
   * {@link NEWEST_FILES_SPAN_SECONDS} of the newest name, plus every Parquet file (two columns
   * of it cost little) and every file without such a name, are read; if their newest record
   * ends after any other file's name time plus the lag, it is the newest of all. Otherwise every
   * file is read. Lines that cannot be read are skipped here (aggregate() counts them); a file
   * that cannot be read at all is left to aggregate() to report.
   */
  private async newestRecordOf(
    connection: DuckDBConnection,
    inspection: Omit<Inspection, 'probe'>,
  ): Promise<number | undefined> {
    const named = inspection.textGroups.flatMap((g) => g.files).map((f) => objectTime(f.relativePath));
    const latestName = Math.max(...named.map((t) => t ?? Number.NEGATIVE_INFINITY));
    const cutoff = latestName - NEWEST_FILES_SPAN_SECONDS;
    const recent = (file: FlowLogFile): boolean => {
      const time = objectTime(file.relativePath);
      return time === undefined || time > cutoff;
    };
    const narrowed = {
      ...inspection,
      textGroups: inspection.textGroups.map((g) => ({ ...g, files: g.files.filter(recent) })),
    };
    const newest = await this.newestEnd(connection, narrowed);
    const others = inspection.textGroups.some((g) => g.files.some((f) => !recent(f)));
    if (!others || (newest !== undefined && newest > cutoff + RECORD_LAG_SECONDS)) return newest;
    return this.newestEnd(connection, inspection);
  }

  /** max(end) over the files of the groups, any log status; unreadable lines and files skipped. */
  private async newestEnd(
    connection: DuckDBConnection,
    inspection: Omit<Inspection, 'probe'>,
  ): Promise<number | undefined> {
    const { relation } = this.scanOf(inspection, { rejects: false });
    try {
      this.queries += 1;
      const [row] = (
        await connection.runAndReadAll(`SELECT max("end") AS newest FROM ${relation}`)
      ).getRowObjects();
      return optionalNumber(row?.newest);
    } catch {
      // A file DuckDB cannot read: take the newest of the others, file by file (a single file
      // that fails is skipped); aggregate() reports it.
      const singles = [
        ...inspection.textGroups.flatMap((g) =>
          g.files.map((file) => ({ textGroups: [{ fields: g.fields, files: [file] }], parquetGroups: [] })),
        ),
        ...inspection.parquetGroups.flatMap((g) =>
          g.files.map((file) => ({ textGroups: [], parquetGroups: [{ columns: g.columns, files: [file] }] })),
        ),
      ];
      if (singles.length <= 1) return undefined;
      let newest: number | undefined;
      for (const single of singles) {
        const end = await this.newestEnd(connection, { ...inspection, ...single });
        if (end !== undefined) newest = Math.max(newest ?? end, end);
      }
      return newest;
    }
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
    try {
      await readSchemas(files);
    } catch {
      // One broken file fails the batch: read them one by one so only the broken ones are skipped.
      for (const file of files) {
        try {
          await readSchemas([file]);
        } catch (error) {
          unreadable.push({ file: file.relativePath, reason: `DuckDB cannot read it: ${firstLine(error)}` });
        }
      }
    }

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
    const [total] = (await connection.runAndReadAll(`SELECT count(*) AS n FROM ${rejected}`)).getRowObjects();
    const count = Number(total?.n ?? 0);
    let samples: MalformedRecord[] = [];
    if (count > 0 && this.sampleLimit > 0) {
      const rows = (
        await connection.runAndReadAll(
          `SELECT file, line, error_type, column_name, error_message FROM ${rejected} ORDER BY file, line LIMIT ${this.sampleLimit}`,
        )
      ).getRowObjects();
      samples = rows.map((r) => ({
        file: relativeByPath.get(String(r.file)) ?? String(r.file),
        line: Number(r.line),
        reason: malformedReason(
          String(r.error_type),
          r.column_name === null ? undefined : String(r.column_name),
          String(r.error_message),
        ),
      }));
    }
    await this.dropTables(connection, rejectTables);
    return { count, samples };
  }
}

/** A text reader: typed columns in their ranges, '-' as NULL; rejects recorded or lines skipped. */
function textReader(
  files: readonly FlowLogFile[],
  fields: readonly string[],
  errors:
    | { readonly rejects: { readonly table: string; readonly scans: string } }
    | { readonly ignoreErrors: true },
): string {
  const columns = fields.map((f) => {
    const name = columnName(f);
    const type = name in READ_TYPES ? READ_TYPES[name as TableColumn] : 'VARCHAR';
    return `${sqlString(name)}: ${sqlString(type)}`;
  });
  const present = new Set(fields.map(columnName));
  const select = TABLE_COLUMNS.map((c) => typedColumn(c, present.has(c) ? quoteIdentifier(c) : 'NULL'));
  const handling =
    'rejects' in errors
      ? `store_rejects = true, rejects_table = ${sqlString(errors.rejects.table)}, rejects_scan = ${sqlString(errors.rejects.scans)}`
      : 'ignore_errors = true';
  return `(SELECT ${select.join(', ')}
   FROM read_csv([${files.map((f) => sqlString(f.path)).join(', ')}],
     delim = ' ', header = true, columns = {${columns.join(', ')}},
     nullstr = '-', quote = '', escape = '', auto_detect = false,
     hive_partitioning = false, union_by_name = false, ${handling}))`;
}

/** A Parquet reader; TRY_CAST: a value of the wrong type or range becomes NULL (an incomplete record). */
function parquetReader(files: readonly FlowLogFile[], columns: ReadonlyMap<TableColumn, string>): string {
  const select = TABLE_COLUMNS.map((c) => {
    const actual = columns.get(c);
    return typedColumn(
      c,
      actual === undefined ? 'NULL' : `TRY_CAST(${quoteIdentifier(actual)} AS ${READ_TYPES[c]})`,
    );
  });
  return `(SELECT ${select.join(', ')}
   FROM read_parquet([${files.map((f) => sqlString(f.path)).join(', ')}], union_by_name = true, hive_partitioning = false))`;
}

/** One column of the relation, in the one type every reader gives it. */
function typedColumn(column: TableColumn, value: string): string {
  return `CAST(${value} AS ${COLUMN_TYPES[column]}) AS ${quoteIdentifier(column)}`;
}

/**
 * The delivery time (epoch seconds) in an S3 flow-log object name, or undefined.
 *
 * @example objectTime('…_fl-0abc_20240601T0955Z_1a2b.log.gz') // 1717235700
 */
function objectTime(path: string): number | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const m = OBJECT_TIME.exec(name);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  const time = Date.UTC(y, mo - 1, d, h, mi) / 1000;
  return Number.isFinite(time) ? time : undefined;
}

/** The flow-log ids of the files read (from object names), plus the directory for files without one. */
function sourcesOf(files: readonly FlowLogFile[], directory: string): string[] {
  const ids = [
    ...new Set(files.map((f) => f.flowLogId).filter((id): id is string => id !== undefined)),
  ].sort();
  return files.some((f) => f.flowLogId === undefined) ? [...ids, directory] : ids;
}

function compareSamples(a: MalformedRecord, b: MalformedRecord): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line;
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
