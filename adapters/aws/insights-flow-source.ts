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
 *    past its timeout (or the job's deadline) is stopped (StopQuery). Once one query fails, no new
 *    query starts and the running ones are stopped.
 *  - The queries are a job polled by the caller (flow-query-job.ts): `start()`, then `check(job)`
 *    until done, the job holding query ids, windows and counters only. A truncated window's halves
 *    are started by the check that finds it truncated; the rows of windows that finish before the
 *    others are kept in a PartialAggregateStore (memory for the CLI, the work bucket for the
 *    workflow) and merged when the last one ends. `aggregate()` polls a job in-process.
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
import type { DeliveryCounter } from '../../shared/model/delivery';
import type {
  FlowAggregate,
  FlowAggregateResult,
  FlowAggregateSource,
  FlowQuery,
  FlowSourceStats,
  TimeWindow,
} from '../../shared/model/flow';
import {
  type FlowQueryJobBase,
  type FlowQueryJobOptions,
  type FlowQueryPoll,
  InMemoryPartialAggregates,
  newJob,
  type PartialAggregateStore,
  type PolledFlowSource,
  pollToCompletion,
  stillRunning,
  throttlingCause,
} from './flow-query-job';
import type { LogGroupIncomingEvents } from './log-group-metrics';
import type { AdapterLogger } from './logger';
import { type InjectedTiming, timingOf } from './timing';

/** Structured logging (Powertools Logger satisfies it). */
export type FlowSourceLogger = AdapterLogger;

/** A log group holding flow-log records, with the format its flow log writes. */
export interface InsightsLogGroup {
  readonly name: string;
  /** The flow-log fields of the format, in order (parseLogFormat of the flow log's LogFormat). */
  readonly fields: readonly string[];
  /** The flow logs writing to the group: its IncomingLogEvents counter speaks for all of them. */
  readonly flowLogIds?: readonly string[];
}

export interface InsightsFlowSourceOptions extends InjectedTiming {
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
  readonly logger?: FlowSourceLogger;
  /** Rows of windows finished before the job's others. @default in memory (one process polls the job) */
  readonly partials?: PartialAggregateStore;
  /**
   * The log groups' own count of events received (CloudWatch IncomingLogEvents), held against the
   * events each query batch scanned over the window: the `incoming-log-events` delivery counters.
   * @default none: no counters
   */
  readonly metrics?: LogGroupIncomingEvents;
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

const ENGINE = 'logs-insights';
/** GetQueryResults returns at most this many rows per call. */
const ROWS_PER_PAGE = 10_000;
/** Result pages read at most per query (100,000 rows / 10,000, with room). */
const MAX_RESULT_PAGES = 100;

/** One window of one query unit (a log-group batch and its ENI filter), by index. */
export interface InsightsWindowTask {
  /** The unit's index in the plan of the job's query (batches × ENI chunks, in order). */
  readonly unit: number;
  readonly start: number;
  readonly end: number;
  /** Times the unit's window was halved to reach this one. */
  readonly depth: number;
}

/** A window whose query runs. */
export interface InsightsRunningQuery extends InsightsWindowTask {
  readonly queryId: string;
  /** When it started, epoch milliseconds. */
  readonly startedAt: number;
  /** Polls so far (bounds the job when the clock stalls). */
  readonly polls: number;
}

/**
 * The state of one aggregation between polls: JSON, bounded by the concurrency and split depth
 * (at most maxConcurrentQueries running, and the halves not yet started), never rows.
 */
export interface InsightsQueryJob extends FlowQueryJobBase<typeof ENGINE> {
  /** Windows to start, the next one last. */
  readonly pending: readonly InsightsWindowTask[];
  readonly running: readonly InsightsRunningQuery[];
  /** Parts of finished windows' rows in the PartialAggregateStore. */
  readonly parts: number;
  readonly recordsMatched: number;
  readonly splits: number;
  /** Events scanned by each query unit's kept queries (its windows together): what its log groups' IncomingLogEvents is held against. */
  readonly scanned?: readonly number[];
}

/** Log groups of one format, queried together. */
interface QueryBatch {
  readonly names: readonly string[];
  readonly fields: readonly string[];
}

/** One query of the plan: a batch and its ENI filter (none = every ENI). */
interface QueryUnit {
  readonly batch: QueryBatch;
  readonly eniIds: readonly string[];
}

interface QueryPlan {
  readonly window: TimeWindow;
  readonly units: readonly QueryUnit[];
  /** The ENI list did not fit one query: the rows are filtered to the ENIs in code. */
  readonly filterInCode: boolean;
}

/** What one check found: the job's next counters, windows and rows. */
interface CheckProgress {
  pending: InsightsWindowTask[];
  running: InsightsRunningQuery[];
  rows: FlowAggregate[][];
  queries: number;
  bytesScanned: number;
  recordsMatched: number;
  splits: number;
  scanned: number[];
  /** Queries known to have ended (no StopQuery needed). */
  readonly ended: Set<string>;
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

/**
 * Best-effort StopQuery of each query: one that already ended cannot be stopped, which is fine.
 *
 * @example await stopInsightsQueries(logs, ['q-1'], logger);
 */
export async function stopInsightsQueries(
  logs: CloudWatchLogsClient,
  queryIds: readonly string[],
  logger?: FlowSourceLogger,
): Promise<void> {
  await Promise.all(
    queryIds.map(async (queryId) => {
      try {
        await logs.send(new StopQueryCommand({ queryId }));
        logger?.warn('flow logs: Logs Insights query stopped', { queryId });
      } catch (error) {
        logger?.warn('flow logs: StopQuery failed', { queryId, error: errorMessage(error) });
      }
    }),
  );
}

/**
 * Flow aggregates from VPC flow logs in CloudWatch Logs, through Logs Insights.
 *
 * @example
 * const source = new InsightsFlowSource({
 *   logs: new CloudWatchLogsClient({ retryMode: 'adaptive' }),
 *   logGroups: [{ name: '/vpc/flow-logs', fields: parseLogFormat(flowLog.logFormat) }],
 * });
 * const { aggregates, stats } = await source.aggregate({ window, eniIds: ['eni-0a1b2c3d'] });
 * // or polled: let poll = await source.start(query); … poll = await source.check(query, poll.job);
 */
export class InsightsFlowSource implements FlowAggregateSource, PolledFlowSource<InsightsQueryJob> {
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
  private readonly timing: Required<InjectedTiming>;
  private readonly logger?: FlowSourceLogger;
  private readonly partials: PartialAggregateStore;
  private readonly metrics?: LogGroupIncomingEvents;
  /** Log group → the flow logs writing to it. */
  private readonly writers: ReadonlyMap<string, readonly string[]>;

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
    this.timing = timingOf(options);
    this.logger = options.logger;
    this.partials = options.partials ?? new InMemoryPartialAggregates();
    this.metrics = options.metrics;
    this.writers = new Map(options.logGroups.map((g) => [g.name, g.flowLogIds ?? []]));
    const { batches, warnings } = batchLogGroups(options.logGroups, groupsPerQuery);
    this.batches = batches;
    this.configWarnings = warnings;
  }

  /**
   * The FlowAggregate rows of the window and ENIs (and server ports) asked for, over every log
   * group, with the queries' statistics: a job polled in-process.
   *
   * @throws FlowLogQueryFailedError, FlowLogQueryTimeoutError, FlowLogQueryTruncatedError;
   *   InvalidValueError for a malformed window or ENI id.
   */
  aggregate(query: FlowQuery): Promise<FlowAggregateResult> {
    return pollToCompletion(this, query, { pollIntervalMs: this.pollIntervalMs, sleep: this.timing.sleep });
  }

  /**
   * Plans every query (checking each one's length before the first starts) and starts as many as
   * the concurrency allows.
   *
   * @throws as aggregate().
   */
  async start(query: FlowQuery, options: FlowQueryJobOptions = {}): Promise<FlowQueryPoll<InsightsQueryJob>> {
    const plan = this.plan(query);
    for (const unit of plan.units) this.queryString(unit, query.ports, plan.window);
    this.logger?.info('flow logs: Logs Insights aggregation', {
      logGroups: this.batches.reduce((n, b) => n + b.names.length, 0),
      queries: plan.units.length,
      window: plan.window,
    });
    const job: InsightsQueryJob = {
      ...newJob(ENGINE, options),
      // The first unit last: pending is taken from its end.
      pending: plan.units
        .map((_, unit) => ({ unit, start: plan.window.start, end: plan.window.end, depth: 0 }))
        .reverse(),
      running: [],
      parts: 0,
      recordsMatched: 0,
      splits: 0,
    };
    return this.check(query, job, { poll: false });
  }

  /**
   * Polls each running query once: a complete one's rows are kept (or, truncated, its window is
   * split and the halves queued); then starts queued windows up to the concurrency. Done when no
   * window is left.
   *
   * @throws as aggregate(), after stopping the job's running queries.
   */
  async check(
    query: FlowQuery,
    job: InsightsQueryJob,
    { poll = true }: { poll?: boolean } = {},
  ): Promise<FlowQueryPoll<InsightsQueryJob>> {
    const plan = this.plan(query);
    for (const task of [...job.pending, ...job.running]) {
      if (plan.units[task.unit] === undefined) {
        throw new InvalidValueError(`the job names query unit ${task.unit} of ${plan.units.length}`, {
          field: 'job',
        });
      }
    }
    const progress: CheckProgress = {
      pending: [...job.pending],
      running: poll ? [] : [...job.running],
      rows: [],
      queries: job.queries,
      bytesScanned: job.bytesScanned,
      recordsMatched: job.recordsMatched,
      splits: job.splits,
      scanned: plan.units.map((_, unit) => job.scanned?.[unit] ?? 0),
      ended: new Set(),
    };
    try {
      if (poll) {
        for (const running of job.running) await this.pollQuery(running, plan, progress);
      }
      const [late] = [...progress.running, ...progress.pending];
      if (job.deadline !== undefined && this.timing.now() >= job.deadline && late !== undefined) {
        const logGroups = (plan.units[late.unit] as QueryUnit).batch.names;
        const queryId = 'queryId' in late ? late.queryId : undefined;
        throw new FlowLogQueryTimeoutError(
          `Logs Insights query ${queryId ?? '(not started)'} on ${logGroups.join(', ')} was still running at ` +
            `the job's deadline (${new Date(job.deadline).toISOString()}) and was stopped`,
          { logGroups, ...(queryId ? { queryId } : {}) },
        );
      }
      while (progress.pending.length > 0 && progress.running.length < this.maxConcurrentQueries) {
        const task = progress.pending.pop() as InsightsWindowTask;
        const unit = plan.units[task.unit] as QueryUnit;
        const window = { start: task.start, end: task.end };
        const queryId = await this.startQuery(
          unit.batch.names,
          this.queryString(unit, query.ports, window),
          window,
        );
        progress.queries += 1;
        progress.running.push({ ...task, queryId, startedAt: this.timing.now(), polls: 0 });
      }
    } catch (error) {
      // Every query of the job or started here that may still run: a query left running bills on.
      const ids = [...job.running, ...progress.running].map((r) => r.queryId);
      await stopInsightsQueries(this.logs, stillRunning(ids, progress.ended), this.logger);
      throw error;
    }

    const next: InsightsQueryJob = {
      ...job,
      pending: progress.pending,
      running: progress.running,
      queries: progress.queries,
      bytesScanned: progress.bytesScanned,
      recordsMatched: progress.recordsMatched,
      splits: progress.splits,
      scanned: progress.scanned,
    };
    if (next.running.length > 0 || next.pending.length > 0) {
      if (progress.rows.length === 0) return { status: 'running', job: next };
      // Finished windows' rows wait for the others outside the job (the state stays small).
      await this.partials.put(job.jobId, job.parts, mergeFlowAggregates(progress.rows.flat()));
      return { status: 'running', job: { ...next, parts: job.parts + 1 } };
    }
    const stored: FlowAggregate[][] = [];
    for (let part = 0; part < job.parts; part += 1) stored.push(await this.partials.get(job.jobId, part));
    return {
      status: 'done',
      result: await this.result(query, plan, next, [...stored, ...progress.rows].flat()),
    };
  }

  /** Stops the job's running queries (best effort). */
  async stop(job: InsightsQueryJob): Promise<void> {
    await stopInsightsQueries(
      this.logs,
      job.running.map((r) => r.queryId),
      this.logger,
    );
  }

  /** The queries of a query: one per log-group batch (and ENI chunk), over the whole window. */
  private plan(query: FlowQuery): QueryPlan {
    const window = validWindow(query.window);
    const units: QueryUnit[] = [];
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
    return { window, units, filterInCode };
  }

  /** The query text of a unit over a window, refused when over the length limit. */
  private queryString(unit: QueryUnit, ports: FlowQuery['ports'], window: TimeWindow): string {
    const queryString = buildInsightsQuery({
      fields: unit.batch.fields,
      eniIds: unit.eniIds,
      ports,
      window,
      limit: this.limit,
    });
    if (queryString.length > this.maxQueryLength) {
      throw new InvalidValueError(
        `query of ${queryString.length} characters exceeds ${this.maxQueryLength}`,
        {
          field: 'maxQueryLength',
        },
      );
    }
    return queryString;
  }

  /**
   * Polls one running query: still running (and within its time), complete (rows kept, or its
   * window split), or failed (thrown).
   */
  private async pollQuery(
    running: InsightsRunningQuery,
    plan: QueryPlan,
    progress: CheckProgress,
  ): Promise<void> {
    const { queryId } = running;
    const logGroups = (plan.units[running.unit] as QueryUnit).batch.names;
    let response: GetQueryResultsResponse;
    try {
      response = await this.results(queryId, logGroups);
    } catch (error) {
      if (!throttlingCause(error)) throw error;
      // A throttled poll is a poll without news: the query runs on.
      this.logger?.warn('flow logs: GetQueryResults throttled, polling again later', { queryId });
      response = { status: 'Running' };
    }
    const ended = response.status !== 'Scheduled' && response.status !== 'Running';
    if (ended) progress.ended.add(queryId);
    switch (response.status) {
      case 'Complete':
        await this.completed(running, plan, progress, response);
        return;
      case 'Scheduled':
      case 'Running': {
        const polls = running.polls + 1;
        const maxPolls = Math.ceil(this.queryTimeoutMs / this.pollIntervalMs) + 1;
        if (this.timing.now() - running.startedAt >= this.queryTimeoutMs || polls >= maxPolls) {
          throw new FlowLogQueryTimeoutError(
            `Logs Insights query ${queryId} on ${logGroups.join(', ')} ran past ${this.queryTimeoutMs} ms and was stopped`,
            { logGroups, queryId },
          );
        }
        progress.running.push({ ...running, polls });
        return;
      }
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
  }

  /** A complete query: its rows, or, at the row limit, its window's halves queued. */
  private async completed(
    running: InsightsRunningQuery,
    plan: QueryPlan,
    progress: CheckProgress,
    first: GetQueryResultsResponse,
  ): Promise<void> {
    const { queryId, depth } = running;
    const logGroups = (plan.units[running.unit] as QueryUnit).batch.names;
    const rows = await this.allRows(queryId, logGroups, first);
    const statistics: QueryStatistics | undefined = first.statistics;
    // Scanned bytes are billed whether or not the rows are kept.
    progress.bytesScanned += statistics?.bytesScanned ?? 0;
    this.logger?.debug('flow logs: Logs Insights query complete', {
      queryId,
      rows: rows.length,
      bytesScanned: statistics?.bytesScanned,
      recordsMatched: statistics?.recordsMatched,
    });
    // 10,000 rows is suspect whatever the limit asked: an SDK or endpoint that drops `limit`
    // returns exactly that many, and taking them as complete would lose traffic in silence.
    if (rows.length < this.limit && rows.length !== SILENT_ROW_CAP) {
      progress.recordsMatched += statistics?.recordsMatched ?? 0;
      progress.scanned[running.unit] =
        (progress.scanned[running.unit] ?? 0) + (statistics?.recordsScanned ?? 0);
      try {
        progress.rows.push(parseInsightsResults(rows));
      } catch (error) {
        throw new FlowLogQueryFailedError(
          `Logs Insights returned rows that are not flow aggregates: ${errorMessage(error)}`,
          { logGroups, queryId },
          { cause: error },
        );
      }
      return;
    }
    if (running.start >= running.end || depth >= this.maxSplitDepth) {
      throw new FlowLogQueryTruncatedError(
        `Logs Insights returned the row limit (${this.limit}) for ${logGroups.join(', ')} over ` +
          `${running.start}..${running.end} and the window may not be split further (depth ${depth}): ` +
          'raise the limit, narrow the ENIs, or allow deeper splits',
        { logGroups, queryId },
      );
    }
    progress.splits += 1;
    const middle = Math.floor((running.start + running.end) / 2);
    this.logger?.warn('flow logs: Logs Insights row limit reached, splitting the window', {
      logGroups,
      window: { start: running.start, end: running.end },
      depth,
    });
    // The first half last: pending is taken from its end.
    progress.pending.push(
      { unit: running.unit, start: middle + 1, end: running.end, depth: depth + 1 },
      { unit: running.unit, start: running.start, end: middle, depth: depth + 1 },
    );
  }

  /**
   * Each query unit's log groups' IncomingLogEvents over the window against the events its kept
   * queries scanned (one counter per unit, for every flow log writing to its groups). Metrics that
   * cannot be read leave no counter and a warning: the records still prove what they prove.
   */
  private async incomingCounters(
    plan: QueryPlan,
    job: InsightsQueryJob,
    warnings: string[],
  ): Promise<DeliveryCounter[]> {
    if (this.metrics === undefined || plan.units.length === 0) return [];
    const groups = [...new Set(plan.units.flatMap((u) => u.batch.names))];
    let incoming: ReadonlyMap<string, number>;
    try {
      incoming = await this.metrics.incomingLogEvents(groups, plan.window);
    } catch (error) {
      this.logger?.warn('flow logs: IncomingLogEvents not read', { error: errorMessage(error) });
      warnings.push(
        `the log groups' IncomingLogEvents (CloudWatch GetMetricData) could not be read (${errorMessage(error)}); delivery rests on the records alone`,
      );
      return [];
    }
    return plan.units.map((unit, i) => ({
      kind: 'incoming-log-events',
      flowLogIds: [...new Set(unit.batch.names.flatMap((g) => this.writers.get(g) ?? []))].sort(),
      subject: `log group${unit.batch.names.length > 1 ? 's' : ''} ${unit.batch.names.join(', ')}`,
      delivered: unit.batch.names.reduce((sum, g) => sum + (incoming.get(g) ?? 0), 0),
      read: job.scanned?.[i] ?? 0,
    }));
  }

  /** The finished job's result: the merged rows (of the asked ENIs), statistics and warnings. */
  private async result(
    query: FlowQuery,
    plan: QueryPlan,
    job: InsightsQueryJob,
    rows: readonly FlowAggregate[],
  ): Promise<FlowAggregateResult> {
    const merged = mergeFlowAggregates(rows);
    const inScope = new Set(query.eniIds);
    const aggregates = plan.filterInCode ? merged.filter((a) => inScope.has(a.eniId)) : merged;
    const warnings = [...this.configWarnings];
    if (plan.filterInCode) {
      warnings.push(
        `${query.eniIds.length} ENIs do not fit one query's ENI filter: each log group was queried once without it ` +
          '(one scan of the window) and the rows were filtered to the audited ENIs; the record count covers every ENI',
      );
    }
    if (job.splits > 0) {
      warnings.push(
        `${job.splits} Logs Insights window(s) returned the row limit (${this.limit}) and were split in halves; ` +
          'distinct client ports of rows merged across halves are upper bounds',
      );
    }
    const counters = await this.incomingCounters(plan, job, warnings);
    const stats: FlowSourceStats = {
      engine: ENGINE,
      sources: [...new Set(this.batches.flatMap((b) => b.names))].sort(),
      files: 0,
      records: job.recordsMatched,
      nodataRecords: 0,
      skipdataRecords: 0,
      malformedRecords: 0,
      malformedSamples: [],
      queries: job.queries,
      bytesScanned: job.bytesScanned,
      enisWithRecords: [...new Set(aggregates.map((a) => a.eniId))].sort(),
      warnings,
      deliveries: deliveriesFromAggregates(
        aggregates,
        this.flowLogIds.length === 1 ? (this.flowLogIds[0] ?? null) : null,
        query.window,
        query.bucketSeconds ?? 86_400,
      ),
      ...(counters.length > 0 ? { counters } : {}),
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

  /** StartQuery, retried with exponential backoff while the concurrent-query quota is exhausted. */
  private async startQuery(
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
        if (error instanceof FlowLogQueryFailedError) throw error;
        const throttled = error instanceof Error && error.name === 'LimitExceededException';
        if (throttled && attempt < this.startQueryAttempts) {
          const ceiling = Math.min(this.retryMaxDelayMs, this.retryBaseDelayMs * 2 ** (attempt - 1));
          // Equal jitter: half fixed, half random, so retrying queries do not move in lockstep.
          const delay = Math.round(ceiling / 2 + (ceiling / 2) * this.timing.random());
          this.logger?.warn('flow logs: Logs Insights concurrent-query limit reached, retrying StartQuery', {
            attempt,
            delayMs: delay,
            logGroups,
          });
          await this.timing.sleep(delay);
          continue;
        }
        throw new FlowLogQueryFailedError(
          `StartQuery on ${logGroups.join(', ')} failed${throttled ? ` after ${attempt} attempts` : ''}: ${errorMessage(error)}`,
          { logGroups },
          { cause: error },
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
