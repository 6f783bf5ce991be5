/**
 * The Athena flow source, for flow logs delivered to S3: runs the one flow aggregation
 * (shared/flow/aggregate-sql.ts, athena dialect) over each flow log's projected table and maps
 * the result rows to FlowAggregates, exactly as the DuckDB source does locally.
 *
 * Per table and window it runs ONE query (at most `maxConcurrentQueries` at a time), its scan
 * pruned to the window's partitions (`day`, `hour`): buildFlowSinglePassSql, whose result holds
 * the aggregate rows, one row per ENI with records and a totals row, told apart by `row_kind`.
 * Cost: Athena bills the bytes each scan reads ($5/TB, at least 10 MB per query), and Trino
 * inlines CTEs, making every read of the table a scan of its own; the query reads it once, so an
 * aggregation scans the window's partitions once (text objects: their gzip size; Parquet: the
 * columns read). DDL is free. The bytes (`Statistics.DataScannedInBytes`, summed) and the
 * queries run are in the stats.
 *
 * Results are read with ONE S3 GetObject of `<OutputLocation>/<QueryExecutionId>.csv` (streamed
 * and parsed as it arrives), not 1,000-row GetQueryResults pages; when the CSV is missing (or no
 * output location is known) the pages are read instead.
 */
import { randomUUID } from 'node:crypto';
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type GetQueryResultsCommandOutput,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Semaphore } from '../../shared/concurrency';
import { InvalidValueError } from '../../shared/errors';
import {
  buildFlowSinglePassSql,
  type FlowSqlOptions,
  flowAggregateFromRow,
  type ResultCell,
} from '../../shared/flow/aggregate-sql';
import {
  athenaIdentifier,
  createDatabaseDdl,
  type FlowLogFileFormat,
  flowLogTableDdl,
  qualifiedTableName,
  windowPartitionFilter,
} from '../../shared/flow/athena-ddl';
import type {
  FlowAggregate,
  FlowAggregateResult,
  FlowAggregateSource,
  FlowQuery,
  FlowSourceStats,
} from '../../shared/model/flow';

/** One flow log's table. A FlowLogTableSpec (shared/flow/athena-ddl.ts) fits as is. */
export interface AthenaFlowTable {
  readonly flowLogId: string;
  readonly table: string;
  /** The flow log's fields in format order (decides whether tcp-flags is read; the DDL's columns). */
  readonly fields: readonly string[];
  readonly perHour: boolean;
  /** @default false */
  readonly hivePartitions?: boolean;
  /** Needed with `ensureTables`. @default 'text' */
  readonly fileFormat?: FlowLogFileFormat;
  /** The table's S3 folder (s3LocationOf); needed with `ensureTables`. */
  readonly location?: string;
  /** First projected day, yyyy/MM/dd; needed with `ensureTables`. */
  readonly projectionStart?: string;
}

/** Powertools Logger satisfies it. */
export interface AthenaFlowSourceLogger {
  debug(message: string, extra?: object): void;
  info(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
}

/** Where a runner's Athena queries run (the CLI's flags, the query function's environment). */
export interface AthenaSettings {
  readonly database: string;
  /** @default 'primary' */
  readonly workGroup?: string;
  /** `s3://bucket/prefix/` for query results; omit when the workgroup sets one. */
  readonly outputLocation?: string;
}

export interface AthenaFlowSourceOptions {
  readonly athena: AthenaClient;
  readonly s3: S3Client;
  readonly database: string;
  readonly tables: readonly AthenaFlowTable[];
  /** @default 'primary' */
  readonly workGroup?: string;
  /** `s3://bucket/prefix/` for results, sent as ResultConfiguration; omit when the workgroup sets one. */
  readonly outputLocation?: string;
  /** @default 'AwsDataCatalog' */
  readonly catalog?: string;
  /** Create the database and tables if missing (CREATE … IF NOT EXISTS, once per source). @default false */
  readonly ensureTables?: boolean;
  /** Between GetQueryExecution polls. @default 1000 */
  readonly pollIntervalMs?: number;
  /** A query still running after this is stopped (Athena's own DML timeout is 30 min). @default 1800000 */
  readonly queryTimeoutMs?: number;
  /** Queries running at once (the account's active-DML quota is shared, e.g. 100 in ap-northeast-2). @default 4 */
  readonly maxConcurrentQueries?: number;
  /** Attempts per call when Athena answers TooManyRequestsException. @default 8 */
  readonly throttleAttempts?: number;
  /** First backoff after a throttle, doubled per attempt up to `throttleMaxDelayMs`. @default 1000 */
  readonly throttleBaseDelayMs?: number;
  /** @default 30000 */
  readonly throttleMaxDelayMs?: number;
  /** Athena's QueryString limit: a longer ENI scope is applied to the results instead. @default 262144 */
  readonly maxQueryBytes?: number;
  /** How far past the window's end S3 objects may still hold its records. @default 3600 */
  readonly deliverySlackSeconds?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Epoch milliseconds. */
  readonly now?: () => number;
  readonly logger?: AthenaFlowSourceLogger;
}

/** A query ended FAILED or CANCELLED; carries Athena's StateChangeReason. */
export class AthenaQueryFailedError extends Error {
  override readonly name = 'AthenaQueryFailedError';
  readonly queryExecutionId: string;
  readonly state: string;
  readonly stateChangeReason?: string;
  readonly errorType?: number;

  constructor(
    queryExecutionId: string,
    status: { state: string; reason?: string; errorType?: number },
    options?: ErrorOptions,
  ) {
    super(`Athena query ${queryExecutionId} ${status.state}: ${status.reason ?? 'no reason given'}`, options);
    this.queryExecutionId = queryExecutionId;
    this.state = status.state;
    this.stateChangeReason = status.reason;
    this.errorType = status.errorType;
  }
}

/** A query ran longer than `queryTimeoutMs`; it was stopped. */
export class AthenaQueryTimeoutError extends Error {
  override readonly name = 'AthenaQueryTimeoutError';
  readonly queryExecutionId: string;
  readonly timeoutMs: number;

  constructor(queryExecutionId: string, timeoutMs: number, options?: ErrorOptions) {
    super(`Athena query ${queryExecutionId} still running after ${timeoutMs} ms: stopped`, options);
    this.queryExecutionId = queryExecutionId;
    this.timeoutMs = timeoutMs;
  }
}

/** A result file or page that is not the CSV/rows the query produces. */
export class AthenaResultFormatError extends Error {
  override readonly name = 'AthenaResultFormatError';
}

const ENGINE = 'athena';
const DEFAULT_WORK_GROUP = 'primary';
const DEFAULT_CATALOG = 'AwsDataCatalog';
const MAX_QUERY_BYTES = 262_144;
/** GetQueryResults page size (the API's maximum). */
const RESULT_PAGE_ROWS = 1000;
/** Bounds the page loop: 100M rows. */
const MAX_RESULT_PAGES = 100_000;
const S3_URL = /^s3:\/\/([^/]+)\/(.+)$/;

interface CompletedQuery {
  readonly id: string;
  readonly dataScannedInBytes: number;
  /** Where Athena wrote the result CSV, if known. */
  readonly resultLocation?: string;
}

/** The statistics columns a table's result sums (totals or an ENI's share). */
const COUNT_COLUMNS = ['records', 'nodata_records', 'skipdata_records', 'incomplete_records'] as const;
type CountColumn = (typeof COUNT_COLUMNS)[number];
type Counts = Record<CountColumn, number>;

/** One table's share of an aggregation. */
interface TableResult {
  readonly aggregates: FlowAggregate[];
  readonly counts: Counts;
  readonly oldestStart?: number;
  readonly newestEnd?: number;
  readonly enis: string[];
  readonly eniScopeInResults: boolean;
}

type CsvCell = string | null;

/** What one aggregate() call has run so far, and whether a query of it failed. */
interface AggregationRun {
  queries: number;
  bytesScanned: number;
  failed: boolean;
}

type RecordHandler = (record: Record<string, ResultCell>, row: number, queryExecutionId: string) => void;

/**
 * An incremental CSV reader for Athena's result files: every value quoted (`""` inside), NULL as
 * an unquoted empty field, rows ending in `\n` (or `\r\n`); quoted values may hold newlines and
 * commas. Fed in chunks of any size, it calls `onRow` per complete row.
 *
 * @example
 * const rows: (string | null)[][] = [];
 * const csv = new CsvRowReader((row) => rows.push(row));
 * csv.push('"a","b"\n"1",'); csv.push('\n'); csv.end(); // rows: [['a','b'], ['1', null]]
 */
export class CsvRowReader {
  private row: CsvCell[] = [];
  private field = '';
  /** start: before a field; plain: in an unquoted field; quoted: inside quotes; closing: after a quote inside quotes. */
  private state: 'start' | 'plain' | 'quoted' | 'closing' = 'start';
  private rows = 0;

  constructor(private readonly onRow: (row: CsvCell[]) => void) {}

  push(text: string): void {
    let i = 0;
    const n = text.length;
    while (i < n) {
      if (this.state === 'quoted') {
        // Fast path: Athena quotes every value, so most text is read here in slices.
        const quote = text.indexOf('"', i);
        if (quote === -1) {
          this.field += text.slice(i);
          return;
        }
        this.field += text.slice(i, quote);
        this.state = 'closing';
        i = quote + 1;
        continue;
      }
      const c = text[i] as string;
      i += 1;
      if (this.state === 'closing') {
        if (c === '"') {
          this.field += '"';
          this.state = 'quoted';
        } else if (c === ',') {
          this.endField(this.field);
        } else if (c === '\n') {
          this.endField(this.field);
          this.endRow();
        } else if (c !== '\r') {
          throw new AthenaResultFormatError(`result CSV row ${this.rows + 1}: '${c}' after a closing quote`);
        }
      } else if (c === '"' && this.state === 'start') {
        this.state = 'quoted';
      } else if (c === ',') {
        this.endField(this.state === 'start' ? null : this.field);
      } else if (c === '\n') {
        if (this.state === 'start' && this.row.length === 0) continue; // a blank line
        this.endField(this.state === 'start' ? null : this.field);
        this.endRow();
      } else if (c !== '\r') {
        this.field += c;
        this.state = 'plain';
      }
    }
  }

  /** Flushes the last row (a file need not end in a newline). */
  end(): void {
    if (this.state === 'quoted') {
      throw new AthenaResultFormatError(`result CSV row ${this.rows + 1}: unterminated quoted value`);
    }
    if (this.state !== 'start' || this.row.length > 0) {
      this.endField(this.state === 'start' ? null : this.field);
      this.endRow();
    }
  }

  private endField(value: CsvCell): void {
    this.row.push(value);
    this.field = '';
    this.state = 'start';
  }

  private endRow(): void {
    const row = this.row;
    this.row = [];
    this.rows += 1;
    this.onRow(row);
  }
}

/** Calls `onRecord` with each row after the first as an object keyed by the first row's names. */
function recordsOf(
  queryId: string,
  onRecord: (record: Record<string, ResultCell>, row: number) => void,
): (cells: CsvCell[]) => void {
  let header: string[] | undefined;
  let row = 0;
  return (cells) => {
    if (header === undefined) {
      header = cells.map((c) => c ?? '');
      return;
    }
    row += 1;
    if (cells.length !== header.length) {
      throw new AthenaResultFormatError(
        `query ${queryId} result row ${row}: ${cells.length} values for ${header.length} columns`,
      );
    }
    const record: Record<string, ResultCell> = {};
    header.forEach((name, i) => {
      record[name] = cells[i];
    });
    onRecord(record, row);
  };
}

const isThrottle = (error: unknown): boolean =>
  error instanceof Error &&
  (error.name === 'TooManyRequestsException' || error.name === 'ThrottlingException');

const isMissingObject = (error: unknown): boolean =>
  error instanceof Error &&
  (error.name === 'NoSuchKey' ||
    error.name === 'NotFound' ||
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404);

function zeroCounts(): Counts {
  return { records: 0, nodata_records: 0, skipdata_records: 0, incomplete_records: 0 };
}

/** A count or bound cell: NULL (or empty) is none; anything else must be a whole number. */
function optionalNumber(record: Readonly<Record<string, ResultCell>>, column: string): number | undefined {
  const value = record[column];
  if (value === null || value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new InvalidValueError(`expected an integer, got ${String(value)}`, { field: column });
  }
  return n;
}

/** Adds a statistics row's counts (NULL: none, as a sum over no records) to `into`. */
function addCounts(into: Counts, record: Readonly<Record<string, ResultCell>>): void {
  for (const column of COUNT_COLUMNS) into[column] += optionalNumber(record, column) ?? 0;
}

function positiveInteger(value: number | undefined, fallback: number, field: string): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InvalidValueError(`expected a positive integer, got ${n}`, { field });
  }
  return n;
}

/**
 * Flow aggregates of S3-delivered flow logs through Athena.
 *
 * @example
 * const source = new AthenaFlowSource({ athena, s3, database: 'sg_audit', workGroup: 'sg-audit',
 *   outputLocation: 's3://audit-results/athena/', ensureTables: true,
 *   tables: flowLogs.map((f) => flowLogTableSpec(f, accountId, region)) });
 * const { aggregates, stats } = await source.aggregate({ window, eniIds: [] });
 */
export class AthenaFlowSource implements FlowAggregateSource {
  private readonly athena: AthenaClient;
  private readonly s3: S3Client;
  private readonly database: string;
  private readonly tables: readonly AthenaFlowTable[];
  private readonly workGroup: string;
  private readonly outputLocation?: string;
  private readonly catalog: string;
  private readonly ensureTablesFirst: boolean;
  private readonly pollIntervalMs: number;
  private readonly queryTimeoutMs: number;
  private readonly throttleAttempts: number;
  private readonly throttleBaseDelayMs: number;
  private readonly throttleMaxDelayMs: number;
  private readonly maxQueryBytes: number;
  private readonly deliverySlackSeconds?: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly logger?: AthenaFlowSourceLogger;
  /** Every query and DDL statement of this source, under the account's active-query quota. */
  private readonly slots: Semaphore;
  /** The DDL ensureTables runs, in order (built in the constructor when ensureTables is set). */
  private readonly ddl: readonly string[];
  private ensuring?: Promise<number>;

  constructor(options: AthenaFlowSourceOptions) {
    this.athena = options.athena;
    this.s3 = options.s3;
    this.database = athenaIdentifier(options.database, 'database');
    this.tables = options.tables;
    this.workGroup = options.workGroup ?? DEFAULT_WORK_GROUP;
    this.catalog = options.catalog ?? DEFAULT_CATALOG;
    this.ensureTablesFirst = options.ensureTables ?? false;
    if (options.outputLocation !== undefined && !/^s3:\/\/[^/]+\//.test(`${options.outputLocation}/`)) {
      throw new InvalidValueError(`'${options.outputLocation}' is not an s3:// location`, {
        field: 'outputLocation',
      });
    }
    this.outputLocation = options.outputLocation;
    this.pollIntervalMs = positiveInteger(options.pollIntervalMs, 1000, 'pollIntervalMs');
    this.queryTimeoutMs = positiveInteger(options.queryTimeoutMs, 30 * 60 * 1000, 'queryTimeoutMs');
    this.throttleAttempts = positiveInteger(options.throttleAttempts, 8, 'throttleAttempts');
    this.throttleBaseDelayMs = positiveInteger(options.throttleBaseDelayMs, 1000, 'throttleBaseDelayMs');
    this.throttleMaxDelayMs = positiveInteger(options.throttleMaxDelayMs, 30_000, 'throttleMaxDelayMs');
    this.maxQueryBytes = positiveInteger(options.maxQueryBytes, MAX_QUERY_BYTES, 'maxQueryBytes');
    this.deliverySlackSeconds = options.deliverySlackSeconds;
    this.slots = new Semaphore(positiveInteger(options.maxConcurrentQueries, 4, 'maxConcurrentQueries'));
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
    for (const table of this.tables) qualifiedTableName(this.database, table.table);
    // Built now, so a bad name, field, location or date fails at cold start rather than mid-run.
    this.ddl = this.ensureTablesFirst
      ? [createDatabaseDdl(this.database), ...this.tables.map((table) => this.tableDdl(table))]
      : [];
  }

  private tableDdl(table: AthenaFlowTable): string {
    if (table.location === undefined || table.projectionStart === undefined) {
      throw new InvalidValueError('ensureTables needs the location and projectionStart of every table', {
        field: `tables[${table.flowLogId}]`,
      });
    }
    return flowLogTableDdl({
      database: this.database,
      table: table.table,
      fields: table.fields,
      location: table.location,
      fileFormat: table.fileFormat ?? 'text',
      hivePartitions: table.hivePartitions ?? false,
      perHour: table.perHour,
      projectionStart: table.projectionStart,
    });
  }

  /**
   * Creates the database and every table if missing (idempotent DDL, issued once per source;
   * a failure lets the next call try again). Resolves to the number of statements run.
   */
  ensureTables(): Promise<number> {
    this.ensuring ??= this.createTables().catch((error: unknown) => {
      this.ensuring = undefined;
      throw error;
    });
    return this.ensuring;
  }

  /** The FlowAggregate rows and statistics of every table for one query (window, ENIs, ports). */
  async aggregate(query: FlowQuery): Promise<FlowAggregateResult> {
    const run: AggregationRun = { queries: 0, bytesScanned: 0, failed: false };
    if (this.ensureTablesFirst) {
      const createsTables = this.ensuring === undefined;
      const statements = await this.ensureTables();
      if (createsTables) run.queries += statements;
    }
    const results = await Promise.all(this.tables.map((table) => this.aggregateTable(table, query, run)));

    const aggregates = results.flatMap((r) => r.aggregates);
    const count = (column: CountColumn): number => results.reduce((sum, r) => sum + r.counts[column], 0);
    const bound = (
      values: readonly (number | undefined)[],
      pick: (a: number, b: number) => number,
    ): number | undefined => {
      const known = values.filter((v): v is number => v !== undefined);
      return known.length === 0 ? undefined : known.reduce(pick);
    };
    const warnings: string[] = [];
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
    if (results.some((r) => r.eniScopeInResults)) {
      warnings.push(
        `${query.eniIds.length} ENIs do not fit in one Athena query: the scope was applied to the results (the scan costs the same)`,
      );
    }
    const stats: FlowSourceStats = {
      engine: ENGINE,
      sources: this.tables.map((t) => t.flowLogId),
      files: 0,
      records: count('records'),
      nodataRecords: count('nodata_records'),
      skipdataRecords: count('skipdata_records'),
      malformedRecords: 0,
      malformedSamples: [],
      queries: run.queries,
      bytesScanned: run.bytesScanned,
      newestRecord: bound(
        results.map((r) => r.newestEnd),
        Math.max,
      ),
      oldestRecord: bound(
        results.map((r) => r.oldestStart),
        Math.min,
      ),
      enisWithRecords: [...new Set(results.flatMap((r) => r.enis))].sort(),
      warnings,
    };
    this.logger?.info('athena flow aggregation done', {
      aggregates: aggregates.length,
      records: stats.records,
      queries: stats.queries,
      bytesScanned: stats.bytesScanned,
    });
    return { aggregates, stats };
  }

  private async createTables(): Promise<number> {
    const statements =
      this.ddl.length > 0
        ? this.ddl
        : [createDatabaseDdl(this.database), ...this.tables.map((t) => this.tableDdl(t))];
    // In order: the tables need the database.
    for (const ddl of statements) {
      await this.slots.run(() => this.execute(ddl, 'ddl', false));
    }
    this.logger?.info('athena flow tables ensured', {
      database: this.database,
      statements: statements.length,
    });
    return statements.length;
  }

  private async aggregateTable(
    table: AthenaFlowTable,
    query: FlowQuery,
    run: AggregationRun,
  ): Promise<TableResult> {
    const sqlOptions = (eniIds: readonly string[]): FlowSqlOptions => ({
      dialect: 'athena',
      relation: qualifiedTableName(this.database, table.table),
      fields: table.fields,
      window: query.window,
      eniIds,
      ports: query.ports,
      partitionFilter: windowPartitionFilter(query.window, table.perHour, {
        hivePartitions: table.hivePartitions ?? false,
        deliverySlackSeconds: this.deliverySlackSeconds,
      }),
    });
    let sql = buildFlowSinglePassSql(sqlOptions(query.eniIds));
    const eniScopeInResults = query.eniIds.length > 0 && Buffer.byteLength(sql) > this.maxQueryBytes;
    if (eniScopeInResults) {
      // The scan costs the same without the ENI list (nothing is partitioned by ENI); only the
      // result grows, and the per-ENI rows give the scope's counts exactly.
      sql = buildFlowSinglePassSql(sqlOptions([]));
      this.logger?.warn('ENI scope too long for one Athena query: applied to the results', {
        table: table.table,
        enis: query.eniIds.length,
      });
    }
    const inScope = eniScopeInResults ? new Set(query.eniIds) : undefined;

    const aggregates: FlowAggregate[] = [];
    const enis: string[] = [];
    const totalCounts = zeroCounts();
    const scopedCounts = zeroCounts();
    let oldestStart: number | undefined;
    let newestEnd: number | undefined;
    await this.query(run, sql, `aggregate ${table.table}`, (record, row, id) => {
      try {
        const kind = record.row_kind;
        if (kind === 'aggregate') {
          const aggregate = flowAggregateFromRow(record);
          if (inScope === undefined || inScope.has(aggregate.eniId)) aggregates.push(aggregate);
        } else if (kind === 'eni') {
          const eni = String(record.eni_id ?? '');
          if (eni !== '' && (inScope === undefined || inScope.has(eni))) {
            enis.push(eni);
            addCounts(scopedCounts, record);
          }
        } else if (kind === 'totals') {
          addCounts(totalCounts, record);
          oldestStart = optionalNumber(record, 'oldest_start');
          newestEnd = optionalNumber(record, 'newest_end');
        } else {
          throw new InvalidValueError(`unknown row kind '${String(kind)}'`, { field: 'row_kind' });
        }
      } catch (error) {
        throw new AthenaResultFormatError(
          `query ${id} result row ${row}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
    });
    return {
      aggregates,
      counts: inScope === undefined ? totalCounts : scopedCounts,
      oldestStart,
      newestEnd,
      enis,
      eniScopeInResults,
    };
  }

  /**
   * Runs one DML query in a slot and streams its result rows; once any query of the run failed,
   * the queries still waiting for a slot are not started (they would cost scans for nothing).
   */
  private query(run: AggregationRun, sql: string, purpose: string, onRecord: RecordHandler): Promise<void> {
    return this.slots.run(async () => {
      if (run.failed) throw new Error(`${purpose}: not started, an earlier query of the aggregation failed`);
      try {
        const done = await this.execute(sql, purpose, true);
        run.queries += 1;
        run.bytesScanned += done.dataScannedInBytes;
        await this.readResult(done, (record, row) => onRecord(record, row, done.id));
      } catch (error) {
        run.failed = true;
        throw error;
      }
    });
  }

  /** Starts a query, waits for it to succeed, and says what it cost and where its result is. */
  private async execute(sql: string, purpose: string, inDatabase: boolean): Promise<CompletedQuery> {
    const token = randomUUID();
    const started = await this.retryThrottled(`start ${purpose}`, () =>
      this.athena.send(
        new StartQueryExecutionCommand({
          QueryString: sql,
          ClientRequestToken: token,
          // Names are qualified anyway; DDL runs outside the database, which may not exist yet.
          QueryExecutionContext: inDatabase
            ? { Catalog: this.catalog, Database: this.database }
            : { Catalog: this.catalog },
          WorkGroup: this.workGroup,
          ...(this.outputLocation !== undefined
            ? { ResultConfiguration: { OutputLocation: this.outputLocation } }
            : {}),
        }),
      ),
    );
    const id = started.QueryExecutionId;
    if (id === undefined || id === '') {
      throw new AthenaResultFormatError(`StartQueryExecution (${purpose}) returned no QueryExecutionId`);
    }
    this.logger?.debug('athena query started', { purpose, queryExecutionId: id });
    const execution = await this.waitFor(id, purpose);
    const done: CompletedQuery = {
      id,
      dataScannedInBytes: execution.Statistics?.DataScannedInBytes ?? 0,
      resultLocation: execution.ResultConfiguration?.OutputLocation ?? this.defaultResultLocation(id),
    };
    this.logger?.info('athena query succeeded', {
      purpose,
      queryExecutionId: id,
      dataScannedInBytes: done.dataScannedInBytes,
    });
    return done;
  }

  private defaultResultLocation(id: string): string | undefined {
    if (this.outputLocation === undefined) return undefined;
    return `${this.outputLocation.replace(/\/+$/, '')}/${id}.csv`;
  }

  /** Polls until the query ends; stops it (and throws) when it outlives the timeout. */
  private async waitFor(id: string, purpose: string): Promise<QueryExecution> {
    const startedAt = this.now();
    // Bounded by polls as well as by the clock, so a stalled clock cannot spin forever.
    const maxPolls = Math.ceil(this.queryTimeoutMs / this.pollIntervalMs) + 1;
    for (let poll = 1; ; poll += 1) {
      const { QueryExecution: execution } = await this.retryThrottled(`poll ${purpose}`, () =>
        this.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id })),
      );
      const status = execution?.Status;
      const state = status?.State;
      if (state === 'SUCCEEDED' && execution !== undefined) return execution;
      if (state === 'FAILED' || state === 'CANCELLED') {
        this.logger?.error('athena query failed', {
          purpose,
          queryExecutionId: id,
          state,
          reason: status?.StateChangeReason,
        });
        throw new AthenaQueryFailedError(id, {
          state,
          reason: status?.StateChangeReason ?? status?.AthenaError?.ErrorMessage,
          errorType: status?.AthenaError?.ErrorType,
        });
      }
      if (this.now() - startedAt >= this.queryTimeoutMs || poll >= maxPolls) {
        await this.stop(id, purpose);
        throw new AthenaQueryTimeoutError(id, this.queryTimeoutMs);
      }
      await this.sleep(this.pollIntervalMs);
    }
  }

  private async stop(id: string, purpose: string): Promise<void> {
    try {
      await this.athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
      this.logger?.warn('athena query timed out: stopped', { purpose, queryExecutionId: id });
    } catch (error) {
      // The timeout is the error to report; a failed stop only leaves Athena's own timeout.
      this.logger?.error('athena query timed out and could not be stopped', {
        purpose,
        queryExecutionId: id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private async retryThrottled<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await call();
      } catch (error) {
        if (!isThrottle(error) || attempt >= this.throttleAttempts) throw error;
        const delay = Math.min(this.throttleMaxDelayMs, this.throttleBaseDelayMs * 2 ** (attempt - 1));
        this.logger?.warn('athena throttled: retrying', { what, attempt, delayMs: delay });
        await this.sleep(delay);
      }
    }
  }

  /** Reads a query's result rows: the CSV in one GET, else GetQueryResults pages. */
  private async readResult(
    query: CompletedQuery,
    onRecord: (record: Record<string, ResultCell>, row: number) => void,
  ): Promise<void> {
    if (query.resultLocation !== undefined) {
      try {
        await this.readCsv(query, query.resultLocation, onRecord);
        return;
      } catch (error) {
        if (!isMissingObject(error)) throw error;
        this.logger?.warn('athena result CSV missing: reading GetQueryResults pages', {
          queryExecutionId: query.id,
          location: query.resultLocation,
        });
      }
    }
    await this.readPages(query.id, onRecord);
  }

  private async readCsv(
    query: CompletedQuery,
    location: string,
    onRecord: (record: Record<string, ResultCell>, row: number) => void,
  ): Promise<void> {
    const match = S3_URL.exec(location);
    if (match === null) {
      throw new AthenaResultFormatError(
        `query ${query.id}: result location '${location}' is not an s3:// URL`,
      );
    }
    const object = await this.s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
    const reader = new CsvRowReader(recordsOf(query.id, onRecord));
    const decoder = new TextDecoder('utf-8');
    const body = object.Body as unknown;
    if (body !== null && typeof body === 'object' && Symbol.asyncIterator in body) {
      for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
        reader.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
      }
      reader.push(decoder.decode());
    } else if (body !== null && typeof body === 'object' && 'transformToString' in body) {
      reader.push(await (body as { transformToString(): Promise<string> }).transformToString());
    } else if (body !== undefined && body !== null) {
      throw new AthenaResultFormatError(`query ${query.id}: unreadable result body at ${location}`);
    }
    reader.end();
  }

  private async readPages(
    id: string,
    onRecord: (record: Record<string, ResultCell>, row: number) => void,
  ): Promise<void> {
    let names: string[] | undefined;
    let row = 0;
    let token: string | undefined;
    for (let page = 1; page <= MAX_RESULT_PAGES; page += 1) {
      const result: GetQueryResultsCommandOutput = await this.retryThrottled(`results ${id}`, () =>
        this.athena.send(
          new GetQueryResultsCommand({
            QueryExecutionId: id,
            MaxResults: RESULT_PAGE_ROWS,
            NextToken: token,
          }),
        ),
      );
      const rows = (result.ResultSet?.Rows ?? []).map((r) =>
        (r.Data ?? []).map((d) => d.VarCharValue ?? null),
      );
      let first = 0;
      if (names === undefined) {
        const declared = (result.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name ?? '');
        const head = rows[0];
        // The first row of a SELECT's first page repeats the column names.
        if (
          declared.length === 0 ||
          (head !== undefined && head.join('\u0000') === declared.join('\u0000'))
        ) {
          names = (head ?? []).map((c) => c ?? '');
          first = 1;
        } else {
          names = declared;
        }
      }
      for (const cells of rows.slice(first)) {
        row += 1;
        if (cells.length !== names.length) {
          throw new AthenaResultFormatError(
            `query ${id} result row ${row}: ${cells.length} values for ${names.length} columns`,
          );
        }
        const record: Record<string, ResultCell> = {};
        names.forEach((name, i) => {
          record[name] = cells[i];
        });
        onRecord(record, row);
      }
      if (result.NextToken === undefined || result.NextToken === '' || result.NextToken === token) return;
      token = result.NextToken;
    }
    throw new AthenaResultFormatError(`query ${id}: more than ${MAX_RESULT_PAGES} result pages`);
  }
}
