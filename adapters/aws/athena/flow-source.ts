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
 * The parts: the tables and their DDL (flow-tables.ts), running a statement (query-runner.ts),
 * reading its result (result-reader.ts), and folding the result rows (result-rows.ts).
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { S3Client } from '@aws-sdk/client-s3';
import { Semaphore } from '../../../shared/concurrency';
import { InvalidValueError } from '../../../shared/errors';
import {
  buildFlowSinglePassSql,
  type FlowSqlOptions,
  type ResultCell,
  sqlString,
} from '../../../shared/flow/aggregate-sql';
import { athenaIdentifier, qualifiedTableName, windowPartitionFilter } from '../../../shared/flow/athena-ddl';
import type {
  FlowAggregateResult,
  FlowAggregateSource,
  FlowQuery,
  FlowSourceStats,
} from '../../../shared/model/flow';
import { type AthenaFlowTable, FlowTableSetup } from './flow-tables';
import { type AthenaFlowSourceLogger, AthenaQueryRunner } from './query-runner';
import { AthenaResultReader } from './result-reader';
import { type CountColumn, SinglePassRows, type TableResult } from './result-rows';

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

const ENGINE = 'athena';
const DEFAULT_WORK_GROUP = 'primary';
const DEFAULT_CATALOG = 'AwsDataCatalog';
const MAX_QUERY_BYTES = 262_144;

type RecordHandler = (record: Record<string, ResultCell>, row: number, queryExecutionId: string) => void;

/** What one aggregate() call has run so far, and whether a query of it failed. */
interface AggregationRun {
  queries: number;
  bytesScanned: number;
  failed: boolean;
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
  private readonly database: string;
  private readonly tables: readonly AthenaFlowTable[];
  private readonly ensureTablesFirst: boolean;
  private readonly maxQueryBytes: number;
  private readonly deliverySlackSeconds?: number;
  private readonly logger?: AthenaFlowSourceLogger;
  /** Every query and DDL statement of this source, under the account's active-query quota. */
  private readonly slots: Semaphore;
  private readonly runner: AthenaQueryRunner;
  private readonly reader: AthenaResultReader;
  private readonly tableSetup: FlowTableSetup;

  constructor(options: AthenaFlowSourceOptions) {
    this.database = athenaIdentifier(options.database, 'database');
    this.tables = options.tables;
    this.ensureTablesFirst = options.ensureTables ?? false;
    if (options.outputLocation !== undefined && !/^s3:\/\/[^/]+\//.test(`${options.outputLocation}/`)) {
      throw new InvalidValueError(`'${options.outputLocation}' is not an s3:// location`, {
        field: 'outputLocation',
      });
    }
    this.maxQueryBytes = positiveInteger(options.maxQueryBytes, MAX_QUERY_BYTES, 'maxQueryBytes');
    this.deliverySlackSeconds = options.deliverySlackSeconds;
    this.slots = new Semaphore(positiveInteger(options.maxConcurrentQueries, 4, 'maxConcurrentQueries'));
    this.logger = options.logger;
    this.runner = new AthenaQueryRunner({
      athena: options.athena,
      catalog: options.catalog ?? DEFAULT_CATALOG,
      database: this.database,
      workGroup: options.workGroup ?? DEFAULT_WORK_GROUP,
      outputLocation: options.outputLocation,
      pollIntervalMs: positiveInteger(options.pollIntervalMs, 1000, 'pollIntervalMs'),
      queryTimeoutMs: positiveInteger(options.queryTimeoutMs, 30 * 60 * 1000, 'queryTimeoutMs'),
      throttleAttempts: positiveInteger(options.throttleAttempts, 8, 'throttleAttempts'),
      throttleBaseDelayMs: positiveInteger(options.throttleBaseDelayMs, 1000, 'throttleBaseDelayMs'),
      throttleMaxDelayMs: positiveInteger(options.throttleMaxDelayMs, 30_000, 'throttleMaxDelayMs'),
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      now: options.now ?? Date.now,
      logger: options.logger,
    });
    this.reader = new AthenaResultReader({
      athena: options.athena,
      s3: options.s3,
      runner: this.runner,
      logger: options.logger,
    });
    for (const table of this.tables) qualifiedTableName(this.database, table.table);
    this.tableSetup = new FlowTableSetup({
      database: this.database,
      tables: this.tables,
      buildNow: this.ensureTablesFirst,
      runDdl: (ddl) => this.slots.run(() => this.runner.execute(ddl, 'ddl', { inDatabase: false })),
      logger: options.logger,
    });
  }

  /**
   * Creates the database and every table if missing (idempotent DDL, issued once per source;
   * a failure lets the next call try again). Resolves to the number of statements run.
   */
  ensureTables(): Promise<number> {
    return this.tableSetup.ensure();
  }

  /** The FlowAggregate rows and statistics of every table for one query (window, ENIs, ports). */
  async aggregate(query: FlowQuery): Promise<FlowAggregateResult> {
    const run: AggregationRun = { queries: 0, bytesScanned: 0, failed: false };
    if (this.ensureTablesFirst) {
      const createsTables = !this.tableSetup.started;
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
    // SKIPDATA records travel as a count (skipdataRecords): the audit states it once, with its
    // own code; a warning string here would state it twice.
    const warnings: string[] = [];
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
      deliveries: results.flatMap((r) => r.deliveries),
      flowLogIds: this.tables.map((t) => t.flowLogId),
      otherEnis: results.flatMap((r) => r.otherEnis),
    };
    this.logger?.info('athena flow aggregation done', {
      aggregates: aggregates.length,
      records: stats.records,
      queries: stats.queries,
      bytesScanned: stats.bytesScanned,
    });
    return { aggregates, stats };
  }

  private async aggregateTable(
    table: AthenaFlowTable,
    query: FlowQuery,
    run: AggregationRun,
  ): Promise<TableResult & { readonly eniScopeInResults: boolean }> {
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
      // One table per flow log: every row is that flow log's.
      flowLogId: sqlString(table.flowLogId),
      ...(query.bucketSeconds !== undefined ? { bucketSeconds: query.bucketSeconds } : {}),
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
    const rows = new SinglePassRows(eniScopeInResults ? new Set(query.eniIds) : undefined);
    await this.query(run, sql, `aggregate ${table.table}`, (record, row, id) => rows.add(record, row, id));
    return { ...rows.result(), eniScopeInResults };
  }

  /**
   * Runs one DML query in a slot and streams its result rows; once any query of the run failed,
   * the queries still waiting for a slot are not started (they would cost scans for nothing).
   */
  private query(run: AggregationRun, sql: string, purpose: string, onRecord: RecordHandler): Promise<void> {
    return this.slots.run(async () => {
      if (run.failed) throw new Error(`${purpose}: not started, an earlier query of the aggregation failed`);
      try {
        const done = await this.runner.execute(sql, purpose, { inDatabase: true });
        run.queries += 1;
        run.bytesScanned += done.dataScannedInBytes;
        await this.reader.read(done, (record, row) => onRecord(record, row, done.id));
      } catch (error) {
        run.failed = true;
        throw error;
      }
    });
  }
}
