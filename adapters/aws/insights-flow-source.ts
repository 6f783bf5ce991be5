/**
 * The Logs Insights flow source: flow aggregates from VPC flow logs delivered to CloudWatch Logs,
 * computed inside Logs Insights by the query of shared/flow/insights-query.ts.
 *
 * Cost and completeness:
 *  - ONE query per window for all in-scope ENIs of a log-group format (up to 50 log groups of one
 *    format per query): Logs Insights scans the whole time range of every log group it names,
 *    whatever the filter, so a query per SG would multiply the scan cost by the number of SGs.
 *    ENI lists are split only to keep each query under 10,000 characters.
 *  - A query returning as many rows as its limit may have been truncated: its window is split in
 *    halves (recursively, bounded) and the halves' aggregates merged; a window that cannot be split
 *    further is an error (FlowLogQueryTruncatedError), never a silent loss.
 *  - Concurrency is bounded under the account's Logs Insights quota; StartQuery's
 *    LimitExceededException (too many concurrent queries) is retried with backoff; a query running
 *    past its timeout is stopped (StopQuery). Once one query fails, no new query starts and the
 *    running ones are stopped.
 *  - stats.bytesScanned sums every query's statistics.bytesScanned (split queries included), so the
 *    report can state the scan cost; stats.records sums recordsMatched of the queries kept.
 *    NODATA/SKIPDATA records are filtered out inside the query and not counted (0 in the stats);
 *    enisWithRecords are the ENIs with aggregate rows.
 */
import {
  type CloudWatchLogsClient,
  GetQueryResultsCommand,
  type GetQueryResultsResponse,
  type QueryStatistics,
  type ResultField,
  StartQueryCommand,
  StopQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { Semaphore } from '../../shared/concurrency';
import { deliveriesFromAggregates } from '../../shared/coverage/delivery';
import { InvalidValueError } from '../../shared/errors';
import { requiredFieldsMissing } from '../../shared/flow/format';
import {
  buildInsightsQuery,
  chunkEniIds,
  DEFAULT_INSIGHTS_LIMIT,
  insightsEniBudget,
  MAX_INSIGHTS_LIMIT,
  MAX_INSIGHTS_QUERY_LENGTH,
  MAX_LOG_GROUPS_PER_QUERY,
  mergeFlowAggregates,
  parseInsightsResults,
} from '../../shared/flow/insights-query';
import type {
  FlowAggregate,
  FlowAggregateResult,
  FlowAggregateSource,
  FlowQuery,
  FlowSourceStats,
  TimeWindow,
} from '../../shared/model/flow';

/** Structured logging (Powertools Logger satisfies it). */
export interface FlowSourceLogger {
  debug(message: string, extra?: object): void;
  info(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
}

/** A log group holding flow-log records, with the format its flow log writes. */
export interface InsightsLogGroup {
  readonly name: string;
  /** The flow-log fields of the format, in order (parseLogFormat of the flow log's LogFormat). */
  readonly fields: readonly string[];
}

export interface InsightsFlowSourceOptions {
  readonly logs: CloudWatchLogsClient;
  /** The log groups of the flow logs in scope (from the inventory's flow-log configs). */
  readonly logGroups: readonly InsightsLogGroup[];
  /**
   * The flow logs writing to those groups: their records prove delivery. One: its id goes on the
   * delivery counts; several: the counts name none (the core gives them to an ENI's only log).
   */
  readonly flowLogIds?: readonly string[];
  /** Result rows per query; above 10,000 results are paged with nextToken. @default 10000 (max 100000) */
  readonly limit?: number;
  /** Queries running at once, under the account's Logs Insights quota (100). @default 20 */
  readonly maxConcurrentQueries?: number;
  /** Log groups of one format named in one query. @default 50 (the API's maximum) */
  readonly maxLogGroupsPerQuery?: number;
  /** queryString length limit. @default 10000 */
  readonly maxQueryLength?: number;
  /** Wait between GetQueryResults polls. @default 1000 */
  readonly pollIntervalMs?: number;
  /** A query running longer is stopped and fails (Logs Insights itself stops at 60 min). @default 900000 */
  readonly queryTimeoutMs?: number;
  /** Times a truncated window may be halved, along one path. @default 12 */
  readonly maxSplitDepth?: number;
  /** StartQuery attempts when it throws LimitExceededException. @default 8 */
  readonly startQueryAttempts?: number;
  /** First backoff delay after LimitExceededException, doubled per attempt. @default 1000 */
  readonly retryBaseDelayMs?: number;
  /** Longest backoff delay. @default 30000 */
  readonly retryMaxDelayMs?: number;
  /**
   * Seconds added on both sides of the StartQuery time range. Flow-log events are timestamped with
   * the record's start, which the query also filters on exactly, so none is needed. @default 0
   */
  readonly timestampSlackSeconds?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
  /** Backoff jitter in [0, 1). @default Math.random */
  readonly random?: () => number;
  readonly logger?: FlowSourceLogger;
}

interface QueryErrorDetails {
  readonly logGroups: readonly string[];
  readonly queryId?: string;
  readonly status?: string;
}

/** A Logs Insights query that could not start, failed, was cancelled or returned unusable rows. */
export class FlowLogQueryFailedError extends Error {
  override readonly name: string = 'FlowLogQueryFailedError';
  readonly logGroups: readonly string[];
  readonly queryId?: string;
  readonly status?: string;

  constructor(message: string, details: QueryErrorDetails, options?: ErrorOptions) {
    super(message, options);
    this.logGroups = details.logGroups;
    this.queryId = details.queryId;
    this.status = details.status;
  }
}

/** A Logs Insights query that ran past the timeout (ours, then stopped, or Logs Insights' own). */
export class FlowLogQueryTimeoutError extends FlowLogQueryFailedError {
  override readonly name = 'FlowLogQueryTimeoutError';
}

/** Rows Logs Insights returns when a query's `limit` was not applied (its historical cap). */
const SILENT_ROW_CAP = 10_000;

/** A query hit its row limit on a window that may not be split further: rows would be lost. */
export class FlowLogQueryTruncatedError extends FlowLogQueryFailedError {
  override readonly name = 'FlowLogQueryTruncatedError';
}

/** A running query given up because another one failed (never escapes aggregate()). */
class QueryAbandonedError extends Error {
  override readonly name = 'QueryAbandonedError';
}

const ENGINE = 'logs-insights';
/** GetQueryResults returns at most this many rows per call. */
const ROWS_PER_PAGE = 10_000;
/** Result pages read at most per query (100,000 rows / 10,000, with room). */
const MAX_RESULT_PAGES = 100;

/** The state of one aggregate() call: counters and the first failure. */
class AggregationRun {
  queries = 0;
  bytesScanned = 0;
  recordsMatched = 0;
  splits = 0;
  failure?: unknown;
  /** The queries of one aggregate() call share the bound, splits of a truncated window included. */
  readonly slots: Semaphore;

  constructor(maxConcurrentQueries: number) {
    this.slots = new Semaphore(maxConcurrentQueries);
  }

  /** Records the first failure (later queries are abandoned) and returns the error. */
  fail(error: unknown): unknown {
    if (this.failure === undefined && !(error instanceof QueryAbandonedError)) this.failure = error;
    return error;
  }
}

/** Log groups of one format, queried together. */
interface QueryBatch {
  readonly names: readonly string[];
  readonly fields: readonly string[];
}

interface QueryOutcome {
  readonly rows: readonly (readonly ResultField[])[];
  readonly recordsMatched: number;
}

/** An integer option in min..max (default 1..MAX_SAFE_INTEGER), or InvalidValueError naming it. */
function integerOption(
  value: number,
  field: string,
  { min = 1, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidValueError(`expected an integer in ${min}..${max}, got ${value}`, { field });
  }
  return value;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Flow aggregates from VPC flow logs in CloudWatch Logs, through Logs Insights.
 *
 * @example
 * const source = new InsightsFlowSource({
 *   logs: new CloudWatchLogsClient({ retryMode: 'adaptive' }),
 *   logGroups: [{ name: '/vpc/flow-logs', fields: parseLogFormat(flowLog.logFormat) }],
 * });
 * const { aggregates, stats } = await source.aggregate({ window, eniIds: ['eni-0a1b2c3d'] });
 */
export class InsightsFlowSource implements FlowAggregateSource {
  private readonly logs: CloudWatchLogsClient;
  private readonly batches: readonly QueryBatch[];
  private readonly configWarnings: readonly string[];
  private readonly limit: number;
  private readonly flowLogIds: readonly string[];
  private readonly maxConcurrentQueries: number;
  private readonly maxQueryLength: number;
  private readonly pollIntervalMs: number;
  private readonly queryTimeoutMs: number;
  private readonly maxSplitDepth: number;
  private readonly startQueryAttempts: number;
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly slackSeconds: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly logger?: FlowSourceLogger;

  constructor(options: InsightsFlowSourceOptions) {
    this.logs = options.logs;
    this.limit = integerOption(options.limit ?? DEFAULT_INSIGHTS_LIMIT, 'limit', { max: MAX_INSIGHTS_LIMIT });
    this.flowLogIds = [...new Set(options.flowLogIds ?? [])].sort();
    this.maxConcurrentQueries = integerOption(options.maxConcurrentQueries ?? 20, 'maxConcurrentQueries', {
      max: 100,
    });
    const groupsPerQuery = integerOption(
      options.maxLogGroupsPerQuery ?? MAX_LOG_GROUPS_PER_QUERY,
      'maxLogGroupsPerQuery',
      { max: MAX_LOG_GROUPS_PER_QUERY },
    );
    this.maxQueryLength = integerOption(
      options.maxQueryLength ?? MAX_INSIGHTS_QUERY_LENGTH,
      'maxQueryLength',
      { max: MAX_INSIGHTS_QUERY_LENGTH },
    );
    this.pollIntervalMs = integerOption(options.pollIntervalMs ?? 1000, 'pollIntervalMs');
    this.queryTimeoutMs = integerOption(options.queryTimeoutMs ?? 15 * 60_000, 'queryTimeoutMs');
    this.maxSplitDepth = integerOption(options.maxSplitDepth ?? 12, 'maxSplitDepth', { max: 40, min: 0 });
    this.startQueryAttempts = integerOption(options.startQueryAttempts ?? 8, 'startQueryAttempts');
    this.retryBaseDelayMs = integerOption(options.retryBaseDelayMs ?? 1000, 'retryBaseDelayMs');
    this.retryMaxDelayMs = integerOption(options.retryMaxDelayMs ?? 30_000, 'retryMaxDelayMs');
    this.slackSeconds = integerOption(options.timestampSlackSeconds ?? 0, 'timestampSlackSeconds', {
      max: 86_400,
      min: 0,
    });
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.logger = options.logger;
    const { batches, warnings } = batchLogGroups(options.logGroups, groupsPerQuery);
    this.batches = batches;
    this.configWarnings = warnings;
  }

  /**
   * The FlowAggregate rows of the window and ENIs (and server ports) asked for, over every log
   * group, with the queries' statistics.
   *
   * @throws FlowLogQueryFailedError, FlowLogQueryTimeoutError, FlowLogQueryTruncatedError;
   *   InvalidValueError for a malformed window or ENI id.
   */
  async aggregate(query: FlowQuery): Promise<FlowAggregateResult> {
    const window = validWindow(query.window);
    // Every query is planned (and its ENI list checked) before the first one starts.
    const units: { batch: QueryBatch; eniIds: readonly string[] }[] = [];
    let filterInCode = false;
    for (const batch of this.batches) {
      const budget = insightsEniBudget(
        { fields: batch.fields, ports: query.ports, window, limit: this.limit },
        this.maxQueryLength,
      );
      // No ENIs asked for = every ENI: one query without an ENI filter.
      let chunks = query.eniIds.length === 0 ? [[]] : chunkEniIds(query.eniIds, budget);
      if (chunks.length > 1) {
        // Insights bills the whole window of every log group per query, whatever the filter:
        // one unfiltered query scans each byte once, N chunks would scan it N times.
        chunks = [[]];
        filterInCode = true;
      }
      for (const eniIds of chunks) units.push({ batch, eniIds });
    }
    this.logger?.info('flow logs: Logs Insights aggregation', {
      logGroups: this.batches.reduce((n, b) => n + b.names.length, 0),
      queries: units.length,
      window,
    });

    const run = new AggregationRun(this.maxConcurrentQueries);
    const settled = await Promise.allSettled(
      units.map((u) => this.aggregateWindow(run, u.batch, u.eniIds, query.ports, window, 0)),
    );
    if (run.failure !== undefined) throw run.failure;
    const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (rejected !== undefined) throw rejected.reason;
    const merged = mergeFlowAggregates(settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : [])));
    const inScope = new Set(query.eniIds);
    const aggregates = filterInCode ? merged.filter((a) => inScope.has(a.eniId)) : merged;

    const warnings = [...this.configWarnings];
    if (filterInCode) {
      warnings.push(
        `${query.eniIds.length} ENIs do not fit one query's ENI filter: each log group was queried once without it ` +
          '(one scan of the window) and the rows were filtered to the audited ENIs; the record count covers every ENI',
      );
    }
    if (run.splits > 0) {
      warnings.push(
        `${run.splits} Logs Insights window(s) returned the row limit (${this.limit}) and were split in halves; ` +
          'distinct client ports of rows merged across halves are upper bounds',
      );
    }
    const stats: FlowSourceStats = {
      engine: ENGINE,
      sources: [...new Set(this.batches.flatMap((b) => b.names))].sort(),
      files: 0,
      records: run.recordsMatched,
      nodataRecords: 0,
      skipdataRecords: 0,
      malformedRecords: 0,
      malformedSamples: [],
      queries: run.queries,
      bytesScanned: run.bytesScanned,
      enisWithRecords: [...new Set(aggregates.map((a) => a.eniId))].sort(),
      warnings,
      deliveries: deliveriesFromAggregates(
        aggregates,
        this.flowLogIds.length === 1 ? (this.flowLogIds[0] ?? null) : null,
        query.window,
        query.bucketSeconds ?? 86_400,
      ),
      ...(this.flowLogIds.length > 0 ? { flowLogIds: [...this.flowLogIds] } : {}),
    };
    this.logger?.info('flow logs: Logs Insights aggregation done', {
      rows: aggregates.length,
      queries: stats.queries,
      bytesScanned: stats.bytesScanned,
      records: stats.records,
    });
    return { aggregates, stats };
  }

  /** The aggregates of one batch, ENI chunk and window; a truncated window is split and merged. */
  private async aggregateWindow(
    run: AggregationRun,
    batch: QueryBatch,
    eniIds: readonly string[],
    ports: FlowQuery['ports'],
    window: TimeWindow,
    depth: number,
  ): Promise<FlowAggregate[]> {
    const queryString = buildInsightsQuery({
      fields: batch.fields,
      eniIds,
      ports,
      window,
      limit: this.limit,
    });
    if (queryString.length > this.maxQueryLength) {
      throw run.fail(
        new InvalidValueError(`query of ${queryString.length} characters exceeds ${this.maxQueryLength}`, {
          field: 'maxQueryLength',
        }),
      );
    }
    const outcome = await run.slots.run(() => this.runQuery(run, batch.names, queryString, window));
    // 10,000 rows is suspect whatever the limit asked: an SDK or endpoint that drops `limit`
    // returns exactly that many, and taking them as complete would lose traffic in silence.
    if (outcome.rows.length < this.limit && outcome.rows.length !== SILENT_ROW_CAP) {
      run.recordsMatched += outcome.recordsMatched;
      try {
        return parseInsightsResults(outcome.rows);
      } catch (error) {
        throw run.fail(
          new FlowLogQueryFailedError(
            `Logs Insights returned rows that are not flow aggregates: ${errorMessage(error)}`,
            { logGroups: batch.names },
            { cause: error },
          ),
        );
      }
    }

    if (window.start >= window.end || depth >= this.maxSplitDepth) {
      throw run.fail(
        new FlowLogQueryTruncatedError(
          `Logs Insights returned the row limit (${this.limit}) for ${batch.names.join(', ')} over ` +
            `${window.start}..${window.end} and the window may not be split further (depth ${depth}): ` +
            'raise the limit, narrow the ENIs, or allow deeper splits',
          { logGroups: batch.names },
        ),
      );
    }
    run.splits += 1;
    const middle = Math.floor((window.start + window.end) / 2);
    this.logger?.warn('flow logs: Logs Insights row limit reached, splitting the window', {
      logGroups: batch.names,
      window,
      depth,
    });
    const halves = await Promise.allSettled([
      this.aggregateWindow(run, batch, eniIds, ports, { start: window.start, end: middle }, depth + 1),
      this.aggregateWindow(run, batch, eniIds, ports, { start: middle + 1, end: window.end }, depth + 1),
    ]);
    const rejected = halves.find((h): h is PromiseRejectedResult => h.status === 'rejected');
    if (rejected !== undefined) throw rejected.reason;
    return mergeFlowAggregates(halves.flatMap((h) => (h.status === 'fulfilled' ? h.value : [])));
  }

  /** Starts one query, polls it to completion and reads every page of its rows. */
  private async runQuery(
    run: AggregationRun,
    logGroups: readonly string[],
    queryString: string,
    window: TimeWindow,
  ): Promise<QueryOutcome> {
    if (run.failure !== undefined) throw new QueryAbandonedError('another query failed');
    const queryId = await this.startQuery(run, logGroups, queryString, window);
    run.queries += 1;
    let statistics: QueryStatistics | undefined;
    /** Whether the query is known to have ended (or been stopped): no StopQuery needed. */
    let ended = false;
    try {
      const deadline = this.now() + this.queryTimeoutMs;
      const maxPolls = Math.ceil(this.queryTimeoutMs / this.pollIntervalMs) + 1;
      for (let poll = 0; poll < maxPolls; poll += 1) {
        await this.sleep(this.pollIntervalMs);
        if (run.failure !== undefined) throw new QueryAbandonedError('another query failed');
        const response = await this.results(queryId, logGroups);
        statistics = response.statistics ?? statistics;
        ended = response.status !== 'Scheduled' && response.status !== 'Running';
        switch (response.status) {
          case 'Complete': {
            const rows = await this.allRows(queryId, logGroups, response);
            this.logger?.debug('flow logs: Logs Insights query complete', {
              queryId,
              rows: rows.length,
              bytesScanned: statistics?.bytesScanned,
              recordsMatched: statistics?.recordsMatched,
            });
            return { rows, recordsMatched: statistics?.recordsMatched ?? 0 };
          }
          case 'Scheduled':
          case 'Running':
            break;
          case 'Timeout':
            throw new FlowLogQueryTimeoutError(
              `Logs Insights query ${queryId} on ${logGroups.join(', ')} timed out in Logs Insights`,
              { logGroups, queryId, status: response.status },
            );
          default:
            throw new FlowLogQueryFailedError(
              `Logs Insights query ${queryId} on ${logGroups.join(', ')} ended ${response.status ?? 'without a status'}`,
              { logGroups, queryId, status: response.status },
            );
        }
        if (this.now() >= deadline) break;
      }
      throw new FlowLogQueryTimeoutError(
        `Logs Insights query ${queryId} on ${logGroups.join(', ')} ran past ${this.queryTimeoutMs} ms and was stopped`,
        { logGroups, queryId },
      );
    } catch (error) {
      // A query we give up on keeps scanning (and billing) unless stopped.
      if (!ended) await this.stopQuery(queryId, logGroups);
      throw run.fail(error);
    } finally {
      // Scanned bytes are billed whether or not the query completed.
      run.bytesScanned += statistics?.bytesScanned ?? 0;
    }
  }

  /** StartQuery, retried with exponential backoff while the concurrent-query quota is exhausted. */
  private async startQuery(
    run: AggregationRun,
    logGroups: readonly string[],
    queryString: string,
    window: TimeWindow,
  ): Promise<string> {
    const request = {
      logGroupNames: [...logGroups],
      startTime: Math.max(0, window.start - this.slackSeconds),
      endTime: window.end + this.slackSeconds,
      queryString,
      limit: this.limit,
    };
    for (let attempt = 1; ; attempt += 1) {
      try {
        const response = await this.logs.send(new StartQueryCommand(request));
        if (response.queryId === undefined) {
          throw new FlowLogQueryFailedError('StartQuery returned no queryId', { logGroups });
        }
        this.logger?.debug('flow logs: Logs Insights query started', {
          queryId: response.queryId,
          logGroups,
          startTime: request.startTime,
          endTime: request.endTime,
          length: queryString.length,
        });
        return response.queryId;
      } catch (error) {
        const throttled = error instanceof Error && error.name === 'LimitExceededException';
        if (throttled && attempt < this.startQueryAttempts && run.failure === undefined) {
          const ceiling = Math.min(this.retryMaxDelayMs, this.retryBaseDelayMs * 2 ** (attempt - 1));
          // Equal jitter: half fixed, half random, so retrying queries do not move in lockstep.
          const delay = Math.round(ceiling / 2 + (ceiling / 2) * this.random());
          this.logger?.warn('flow logs: Logs Insights concurrent-query limit reached, retrying StartQuery', {
            attempt,
            delayMs: delay,
            logGroups,
          });
          await this.sleep(delay);
          continue;
        }
        if (error instanceof FlowLogQueryFailedError) throw run.fail(error);
        if (run.failure !== undefined) throw new QueryAbandonedError('another query failed');
        throw run.fail(
          new FlowLogQueryFailedError(
            `StartQuery on ${logGroups.join(', ')} failed${throttled ? ` after ${attempt} attempts` : ''}: ${errorMessage(error)}`,
            { logGroups },
            { cause: error },
          ),
        );
      }
    }
  }

  private async results(
    queryId: string,
    logGroups: readonly string[],
    nextToken?: string,
  ): Promise<GetQueryResultsResponse> {
    try {
      return await this.logs.send(
        new GetQueryResultsCommand({ queryId, nextToken, maxItems: Math.min(this.limit, ROWS_PER_PAGE) }),
      );
    } catch (error) {
      throw new FlowLogQueryFailedError(
        `GetQueryResults of ${queryId} failed: ${errorMessage(error)}`,
        { logGroups, queryId },
        { cause: error },
      );
    }
  }

  /** The rows of a complete query: the first page and every nextToken page after it. */
  private async allRows(
    queryId: string,
    logGroups: readonly string[],
    first: GetQueryResultsResponse,
  ): Promise<ResultField[][]> {
    const rows = [...(first.results ?? [])];
    let token = first.nextToken;
    for (let page = 1; token !== undefined && page < MAX_RESULT_PAGES; page += 1) {
      const next = await this.results(queryId, logGroups, token);
      rows.push(...(next.results ?? []));
      token = next.nextToken === token ? undefined : next.nextToken;
    }
    if (token !== undefined) {
      throw new FlowLogQueryFailedError(`results of ${queryId} span more than ${MAX_RESULT_PAGES} pages`, {
        logGroups,
        queryId,
      });
    }
    return rows;
  }

  /** Best-effort StopQuery: a query that already ended cannot be stopped, which is fine. */
  private async stopQuery(queryId: string, logGroups: readonly string[]): Promise<void> {
    try {
      await this.logs.send(new StopQueryCommand({ queryId }));
      this.logger?.warn('flow logs: Logs Insights query stopped', { queryId, logGroups });
    } catch (error) {
      this.logger?.warn('flow logs: StopQuery failed', { queryId, error: errorMessage(error) });
    }
  }
}

function validWindow(window: TimeWindow): TimeWindow {
  integerOption(window.start, 'window.start', { min: 0 });
  integerOption(window.end, 'window.end', { min: window.start });
  return { start: window.start, end: window.end };
}

/**
 * Log groups grouped by format (one query reads one format) in batches of at most `perQuery`
 * names; groups whose format lacks a field the aggregation needs are left out with a warning.
 */
function batchLogGroups(
  logGroups: readonly InsightsLogGroup[],
  perQuery: number,
): { batches: QueryBatch[]; warnings: string[] } {
  const warnings: string[] = [];
  const byFormat = new Map<string, { fields: readonly string[]; names: string[] }>();
  const formatOf = new Map<string, string>();
  for (const group of logGroups) {
    const fields = group.fields.map((f) => f.replaceAll('_', '-'));
    const missing = requiredFieldsMissing(fields);
    if (missing.length > 0) {
      warnings.push(`log group ${group.name}: flow-log format lacks ${missing.join(', ')}; not queried`);
      continue;
    }
    const format = fields.join(' ');
    const known = formatOf.get(group.name);
    if (known !== undefined) {
      if (known !== format) {
        warnings.push(
          `log group ${group.name} receives flow logs of two formats; queried with the first (${known})`,
        );
      }
      continue;
    }
    formatOf.set(group.name, format);
    const entry = byFormat.get(format) ?? { fields, names: [] };
    entry.names.push(group.name);
    byFormat.set(format, entry);
  }
  const batches: QueryBatch[] = [];
  for (const { fields, names } of byFormat.values()) {
    for (let i = 0; i < names.length; i += perQuery) {
      batches.push({ fields, names: names.slice(i, i + perQuery) });
    }
  }
  if (logGroups.length === 0) warnings.push('no CloudWatch Logs flow-log groups to query');
  return { batches, warnings };
}
