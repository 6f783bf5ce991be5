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
 * The statements are a job polled by the caller (../flow-query-job.ts): `start()` runs the DDL
 * (when the tables are to be ensured) one statement at a time, then the tables' queries; each
 * `check(job)` polls them; the last one reads every table's result. The job holds query ids and
 * counters only, and each start sends a ClientRequestToken derived from the job, so a start sent
 * twice runs once. `aggregate()` polls a job in-process (the CLI); the workflow's query step polls
 * it from the state machine. Athena's own DML timeout (30 minutes) bounds a query as well.
 *
 * The parts: the tables and their DDL (flow-tables.ts), running a statement (query-runner.ts),
 * reading its result (result-reader.ts), and folding the result rows (result-rows.ts).
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { S3Client } from '@aws-sdk/client-s3';
import { InvalidValueError } from '../../../shared/errors';
import { buildFlowSinglePassSql, type FlowSqlOptions, sqlString } from '../../../shared/flow/aggregate-sql';
import {
  athenaIdentifier,
  DEFAULT_DELIVERY_SLACK_SECONDS,
  OBJECT_PATH,
  qualifiedTableName,
  windowPartitionFilter,
} from '../../../shared/flow/athena-ddl';
import type { DeliveryCounter } from '../../../shared/model/delivery';
import type {
  FlowAggregateResult,
  FlowAggregateSource,
  FlowQuery,
  FlowSourceStats,
} from '../../../shared/model/flow';
import { dayPrefixesOf, listOwnObjects } from '../flow-log-transfer';
import {
  type FlowQueryJobBase,
  type FlowQueryJobOptions,
  type FlowQueryPoll,
  isThrottling,
  newJob,
  type PolledFlowSource,
  pollToCompletion,
  stillRunning,
} from '../flow-query-job';
import { type InjectedTiming, timingOf } from '../timing';
import { AthenaQueryTimeoutError } from './errors';
import { type AthenaFlowTable, FlowTableSetup } from './flow-tables';
import { s3ObjectCounters } from './object-counters';
import {
  type AthenaFlowSourceLogger,
  AthenaQueryRunner,
  requestToken,
  stopAthenaQueries,
} from './query-runner';
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

export interface AthenaFlowSourceOptions extends Pick<InjectedTiming, 'sleep' | 'now'> {
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
  /**
   * Hold each table's objects read (the query's `file` rows) against S3's own list of the flow
   * log's objects in the partitions scanned (ListObjectsV2 on its day folders; `s3:ListBucket`):
   * the `s3-objects` delivery counters. Needs each table's `location`. @default true
   */
  readonly countObjects?: boolean;
  readonly logger?: AthenaFlowSourceLogger;
}

const ENGINE = 'athena';
const DEFAULT_WORK_GROUP = 'primary';
const DEFAULT_CATALOG = 'AwsDataCatalog';
const MAX_QUERY_BYTES = 262_144;

/** A statement of a job that runs. */
export interface AthenaRunningQuery {
  readonly queryExecutionId: string;
  /** 'ddl': the source's DDL statement `index` (ensureTables); 'aggregate': its table `index`. */
  readonly step: 'ddl' | 'aggregate';
  readonly index: number;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  /** Polls so far (bounds the job when the clock stalls). */
  readonly polls: number;
}

/** A table's query that succeeded: its result is read when the job's last query ends. */
export interface AthenaFinishedQuery {
  /** The table's index in the source. */
  readonly index: number;
  readonly queryExecutionId: string;
  readonly dataScannedInBytes: number;
  readonly resultLocation?: string;
  /** When it started, epoch milliseconds: objects S3 stored later are not held against it. */
  readonly startedAt?: number;
}

/** The state of one aggregation between polls: JSON, one entry per statement at most, never rows. */
export interface AthenaQueryJob extends FlowQueryJobBase<typeof ENGINE> {
  /** DDL statements not yet run to their end, in order (the first runs, alone). */
  readonly ddl: readonly number[];
  /** Tables whose query has not started, the next one last. */
  readonly pendingTables: readonly number[];
  readonly running: readonly AthenaRunningQuery[];
  readonly finished: readonly AthenaFinishedQuery[];
  /**
   * Checks in a row whose start Athena throttled (its active-query quota is shared): the statement
   * waits for the next check instead of failing the job, up to throttleAttempts checks.
   */
  readonly deferredStarts: number;
}

/** What one check found. */
interface CheckProgress {
  ddl: number[];
  pendingTables: number[];
  running: AthenaRunningQuery[];
  finished: AthenaFinishedQuery[];
  queries: number;
  bytesScanned: number;
  deferredStarts: number;
  /** Queries known to have ended (no StopQueryExecution needed). */
  readonly ended: Set<string>;
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
 * // or polled: let poll = await source.start(query); … poll = await source.check(query, poll.job);
 */
export class AthenaFlowSource implements FlowAggregateSource, PolledFlowSource<AthenaQueryJob> {
  private readonly athena: AthenaClient;
  private readonly database: string;
  private readonly tables: readonly AthenaFlowTable[];
  private readonly ensureTablesFirst: boolean;
  private readonly maxQueryBytes: number;
  private readonly deliverySlackSeconds?: number;
  private readonly countObjects: boolean;
  private readonly s3: S3Client;
  private readonly maxConcurrentQueries: number;
  private readonly pollIntervalMs: number;
  private readonly queryTimeoutMs: number;
  private readonly throttleAttempts: number;
  private readonly timing: Required<InjectedTiming>;
  private readonly logger?: AthenaFlowSourceLogger;
  private readonly runner: AthenaQueryRunner;
  private readonly reader: AthenaResultReader;
  private readonly tableSetup: FlowTableSetup;

  constructor(options: AthenaFlowSourceOptions) {
    this.athena = options.athena;
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
    this.countObjects = options.countObjects ?? true;
    this.s3 = options.s3;
    this.maxConcurrentQueries = positiveInteger(options.maxConcurrentQueries, 4, 'maxConcurrentQueries');
    this.pollIntervalMs = positiveInteger(options.pollIntervalMs, 1000, 'pollIntervalMs');
    this.queryTimeoutMs = positiveInteger(options.queryTimeoutMs, 30 * 60 * 1000, 'queryTimeoutMs');
    this.throttleAttempts = positiveInteger(options.throttleAttempts, 8, 'throttleAttempts');
    this.timing = timingOf(options);
    this.logger = options.logger;
    this.runner = new AthenaQueryRunner({
      athena: options.athena,
      catalog: options.catalog ?? DEFAULT_CATALOG,
      database: this.database,
      workGroup: options.workGroup ?? DEFAULT_WORK_GROUP,
      outputLocation: options.outputLocation,
      pollIntervalMs: this.pollIntervalMs,
      queryTimeoutMs: this.queryTimeoutMs,
      throttleAttempts: this.throttleAttempts,
      throttleBaseDelayMs: positiveInteger(options.throttleBaseDelayMs, 1000, 'throttleBaseDelayMs'),
      throttleMaxDelayMs: positiveInteger(options.throttleMaxDelayMs, 30_000, 'throttleMaxDelayMs'),
      sleep: this.timing.sleep,
      now: this.timing.now,
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
      runDdl: (ddl) => this.runner.execute(ddl, 'ddl', { inDatabase: false }),
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

  /** The FlowAggregate rows and statistics of every table for one query (window, ENIs, ports): a job polled in-process. */
  aggregate(query: FlowQuery): Promise<FlowAggregateResult> {
    return pollToCompletion(this, query, {
      pollIntervalMs: this.pollIntervalMs,
      sleep: this.timing.sleep,
      checkAtOnce: true,
    });
  }

  /**
   * Builds every table's SQL (failing before any statement starts), then starts the first DDL
   * statement when the tables are still to be ensured, else the tables' queries up to the
   * concurrency.
   */
  async start(query: FlowQuery, options: FlowQueryJobOptions = {}): Promise<FlowQueryPoll<AthenaQueryJob>> {
    for (const table of this.tables) this.sqlOf(table, query);
    const ddl = this.ensureTablesFirst && !this.tableSetup.started ? this.tableSetup.statements() : [];
    const job: AthenaQueryJob = {
      ...newJob(ENGINE, options),
      ddl: ddl.map((_, i) => i),
      pendingTables: this.tables.map((_, i) => i).reverse(),
      running: [],
      finished: [],
      deferredStarts: 0,
    };
    return this.check(query, job, { poll: false });
  }

  /**
   * Polls each running statement once, then starts what follows: the next DDL statement (one at a
   * time: the tables need the database), or the tables' queries up to the concurrency. When the
   * last query has succeeded, reads every table's result. Once a statement fails, nothing more is
   * started and the running ones are stopped.
   *
   * @throws AthenaQueryFailedError, AthenaQueryTimeoutError, AthenaResultFormatError; the
   *   throttling error of a start after its last attempt.
   */
  async check(
    query: FlowQuery,
    job: AthenaQueryJob,
    { poll = true }: { poll?: boolean } = {},
  ): Promise<FlowQueryPoll<AthenaQueryJob>> {
    const statements = job.ddl.length > 0 ? this.tableSetup.statements() : [];
    const ddlIndexes = [...job.ddl, ...job.running.filter((r) => r.step === 'ddl').map((r) => r.index)];
    const tableIndexes = [
      ...job.pendingTables,
      ...job.finished.map((f) => f.index),
      ...job.running.filter((r) => r.step === 'aggregate').map((r) => r.index),
    ];
    if (
      ddlIndexes.some((i) => statements[i] === undefined) ||
      tableIndexes.some((i) => this.tables[i] === undefined)
    ) {
      throw new InvalidValueError('the job names statements or tables this source does not have', {
        field: 'job',
      });
    }
    const progress: CheckProgress = {
      ddl: [...job.ddl],
      pendingTables: [...job.pendingTables],
      running: poll ? [] : [...job.running],
      finished: [...job.finished],
      queries: job.queries,
      bytesScanned: job.bytesScanned,
      deferredStarts: job.deferredStarts,
      ended: new Set(),
    };
    try {
      if (poll) {
        for (const running of job.running) await this.pollQuery(running, progress);
      }
      const [late] = progress.running;
      const unstarted = progress.ddl.length > 0 || progress.pendingTables.length > 0;
      if (
        job.deadline !== undefined &&
        this.timing.now() >= job.deadline &&
        (late !== undefined || unstarted)
      ) {
        throw new AthenaQueryTimeoutError(
          late?.queryExecutionId ?? '(not started)',
          late === undefined ? 0 : this.timing.now() - late.startedAt,
        );
      }
      // The job's first starts throw their throttling (nothing runs yet: the caller may start again,
      // the token dedupes); a check's starts wait for the next check instead.
      await this.startNext(query, job.jobId, statements, progress, poll);
    } catch (error) {
      const ids = [...job.running, ...progress.running].map((r) => r.queryExecutionId);
      await stopAthenaQueries(
        this.athena,
        stillRunning(ids, progress.ended),
        this.logger,
        error instanceof AthenaQueryTimeoutError ? 'timed out' : 'given up',
      );
      throw error;
    }
    const next: AthenaQueryJob = {
      ...job,
      ddl: progress.ddl,
      pendingTables: progress.pendingTables,
      running: progress.running,
      finished: progress.finished,
      queries: progress.queries,
      bytesScanned: progress.bytesScanned,
      deferredStarts: progress.deferredStarts,
    };
    if (next.running.length > 0 || next.ddl.length > 0 || next.pendingTables.length > 0) {
      return { status: 'running', job: next };
    }
    return { status: 'done', result: await this.result(query, next) };
  }

  /** Stops the job's running statements (best effort). */
  async stop(job: AthenaQueryJob): Promise<void> {
    await stopAthenaQueries(
      this.athena,
      job.running.map((r) => r.queryExecutionId),
      this.logger,
    );
  }

  /** Polls one statement: still running (within its time), succeeded (recorded), or failed (thrown). */
  private async pollQuery(running: AthenaRunningQuery, progress: CheckProgress): Promise<void> {
    const { queryExecutionId: id, step, index } = running;
    const purpose = step === 'ddl' ? `ddl ${index}` : `aggregate ${this.tables[index]?.table}`;
    let polled: Awaited<ReturnType<AthenaQueryRunner['poll']>>;
    try {
      polled = await this.runner.poll(id, purpose);
    } catch (error) {
      progress.ended.add(id);
      throw error;
    }
    if (polled.state === 'running') {
      const polls = running.polls + 1;
      const maxPolls = Math.ceil(this.queryTimeoutMs / this.pollIntervalMs) + 1;
      if (this.timing.now() - running.startedAt >= this.queryTimeoutMs || polls >= maxPolls) {
        throw new AthenaQueryTimeoutError(id, this.queryTimeoutMs);
      }
      progress.running.push({ ...running, polls });
      return;
    }
    progress.ended.add(id);
    progress.queries += 1;
    if (step === 'ddl') {
      progress.ddl = progress.ddl.filter((i) => i !== index);
      return;
    }
    progress.bytesScanned += polled.query.dataScannedInBytes;
    progress.finished.push({
      index,
      queryExecutionId: id,
      dataScannedInBytes: polled.query.dataScannedInBytes,
      ...(polled.query.resultLocation !== undefined ? { resultLocation: polled.query.resultLocation } : {}),
      startedAt: running.startedAt,
    });
  }

  /**
   * Starts the next DDL statement (one at a time), or, the DDL done, tables' queries up to the
   * concurrency. With `deferThrottled`, a start Athena still throttles after its attempts waits
   * for the next check (up to throttleAttempts checks in a row).
   */
  private async startNext(
    query: FlowQuery,
    jobId: string,
    statements: readonly string[],
    progress: CheckProgress,
    deferThrottled: boolean,
  ): Promise<void> {
    const start = async (sql: string, purpose: string, inDatabase: boolean): Promise<string | undefined> => {
      try {
        const id = await this.runner.start(sql, purpose, {
          inDatabase,
          token: requestToken(jobId, purpose, sql),
        });
        progress.deferredStarts = 0;
        return id;
      } catch (error) {
        if (!deferThrottled || !isThrottling(error) || progress.deferredStarts + 1 >= this.throttleAttempts) {
          throw error;
        }
        progress.deferredStarts += 1;
        this.logger?.warn('athena start throttled: trying again at the next check', {
          purpose,
          deferredStarts: progress.deferredStarts,
        });
        return undefined;
      }
    };
    const [ddl] = progress.ddl;
    if (ddl !== undefined) {
      if (progress.running.some((r) => r.step === 'ddl')) return;
      const id = await start(statements[ddl] as string, `ddl ${ddl}`, false);
      if (id === undefined) return;
      progress.running.push({
        queryExecutionId: id,
        step: 'ddl',
        index: ddl,
        startedAt: this.timing.now(),
        polls: 0,
      });
      return;
    }
    if (this.ensureTablesFirst) this.tableSetup.markEnsured();
    while (progress.pendingTables.length > 0 && progress.running.length < this.maxConcurrentQueries) {
      const index = progress.pendingTables.at(-1) as number;
      const table = this.tables[index] as AthenaFlowTable;
      const { sql, eniScopeInResults } = this.sqlOf(table, query);
      if (eniScopeInResults) {
        // The scan costs the same without the ENI list (nothing is partitioned by ENI); only the
        // result grows, and the per-ENI rows give the scope's counts exactly.
        this.logger?.warn('ENI scope too long for one Athena query: applied to the results', {
          table: table.table,
          enis: query.eniIds.length,
        });
      }
      const id = await start(sql, `aggregate ${table.table}`, true);
      if (id === undefined) return;
      progress.pendingTables.pop();
      progress.running.push({
        queryExecutionId: id,
        step: 'aggregate',
        index,
        startedAt: this.timing.now(),
        polls: 0,
      });
    }
  }

  /** A table's single-pass SQL; without the ENI list when that would exceed Athena's query length. */
  private sqlOf(table: AthenaFlowTable, query: FlowQuery): { sql: string; eniScopeInResults: boolean } {
    const sqlOptions = (eniIds: readonly string[]): FlowSqlOptions => ({
      dialect: 'athena',
      relation: qualifiedTableName(this.database, table.table),
      fields: table.fields,
      window: query.window,
      eniIds,
      ports: query.ports,
      // The window's partitions, and of them this flow log's objects only: the table's folder is
      // shared by every flow log delivering to the bucket and prefix (another's records would
      // count twice, another format's would not parse).
      partitionFilter: windowPartitionFilter(query.window, table.perHour, {
        hivePartitions: table.hivePartitions ?? false,
        deliverySlackSeconds: this.deliverySlackSeconds,
        flowLogId: table.flowLogId,
        dialect: 'athena',
      }),
      // One table per flow log: every row is that flow log's.
      flowLogId: sqlString(table.flowLogId),
      // Each object's records, for the S3 object counters (one scan still).
      sourceFile: OBJECT_PATH.athena,
      ...(query.bucketSeconds !== undefined ? { bucketSeconds: query.bucketSeconds } : {}),
    });
    const sql = buildFlowSinglePassSql(sqlOptions(query.eniIds));
    const eniScopeInResults = query.eniIds.length > 0 && Buffer.byteLength(sql) > this.maxQueryBytes;
    return eniScopeInResults
      ? { sql: buildFlowSinglePassSql(sqlOptions([])), eniScopeInResults }
      : { sql, eniScopeInResults };
  }

  /**
   * Each table's S3 object counters: its flow log's objects in the partitions the query scanned
   * (ListObjectsV2), against the objects its `file` rows name. A listing that fails leaves the
   * table without counters, said in a warning (its records still prove what they prove).
   */
  private async objectCounters(
    query: FlowQuery,
    job: AthenaQueryJob,
    results: readonly TableResult[],
  ): Promise<{ counters: DeliveryCounter[]; warnings: string[] }> {
    const counters: DeliveryCounter[] = [];
    const warnings: string[] = [];
    if (!this.countObjects) return { counters, warnings };
    const finished = [...job.finished].sort((a, b) => a.index - b.index);
    for (const [i, done] of finished.entries()) {
      const table = this.tables[done.index] as AthenaFlowTable;
      const result = results[i];
      if (table.location === undefined || result === undefined) continue;
      const slack = this.deliverySlackSeconds ?? DEFAULT_DELIVERY_SLACK_SECONDS;
      try {
        const folders = dayPrefixesOf(table.location, table.hivePartitions ?? false, query.window, slack);
        const listed = await listOwnObjects(this.s3, folders, table.flowLogId);
        counters.push(
          ...s3ObjectCounters(table, listed, result.files, {
            window: query.window,
            deliverySlackSeconds: slack,
            bucketSeconds: query.bucketSeconds ?? 86_400,
            ...(done.startedAt !== undefined ? { queryStartedAt: Math.floor(done.startedAt / 1000) } : {}),
          }),
        );
      } catch (error) {
        const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        this.logger?.warn('athena: flow-log objects not counted', { table: table.table, error: why });
        warnings.push(
          `flow log ${table.flowLogId}: its S3 objects were not counted (${why}); delivery rests on its records alone`,
        );
      }
    }
    return { counters, warnings };
  }

  /** Reads each table's result (in table order) and sums the statistics. */
  private async result(query: FlowQuery, job: AthenaQueryJob): Promise<FlowAggregateResult> {
    const results: (TableResult & { readonly eniScopeInResults: boolean })[] = [];
    for (const done of [...job.finished].sort((a, b) => a.index - b.index)) {
      const { eniScopeInResults } = this.sqlOf(this.tables[done.index] as AthenaFlowTable, query);
      const rows = new SinglePassRows(eniScopeInResults ? new Set(query.eniIds) : undefined);
      const id = done.queryExecutionId;
      await this.reader.read(
        {
          id,
          dataScannedInBytes: done.dataScannedInBytes,
          ...(done.resultLocation !== undefined ? { resultLocation: done.resultLocation } : {}),
        },
        (record, row) => rows.add(record, row, id),
      );
      results.push({ ...rows.result(), eniScopeInResults });
    }
    const counted = await this.objectCounters(query, job, results);

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
    warnings.push(...counted.warnings);
    if (results.some((r) => r.eniScopeInResults)) {
      warnings.push(
        `${query.eniIds.length} ENIs do not fit in one Athena query: the scope was applied to the results (the scan costs the same)`,
      );
    }
    const stats: FlowSourceStats = {
      engine: ENGINE,
      sources: this.tables.map((t) => t.flowLogId),
      files: results.reduce((sum, r) => sum + r.files.length, 0),
      records: count('records'),
      nodataRecords: count('nodata_records'),
      skipdataRecords: count('skipdata_records'),
      malformedRecords: 0,
      malformedSamples: [],
      queries: job.queries,
      bytesScanned: job.bytesScanned,
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
      ...(counted.counters.length > 0 ? { counters: counted.counters } : {}),
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
}
