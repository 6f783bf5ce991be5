/**
 * Running Athena statements: StartQueryExecution (idempotent through a client request token
 * derived from the job, the purpose and the SQL), GetQueryExecution polls (a throttled poll is a
 * poll without news, never a new query), StopQueryExecution for a query given up (a query left
 * running keeps scanning and billing), and backoff on Athena's throttling answers to a start.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import type { AdapterLogger } from '../logger';
import { AthenaQueryFailedError, AthenaQueryTimeoutError, AthenaResultFormatError } from './errors';

/** Powertools Logger satisfies it. */
export type AthenaFlowSourceLogger = AdapterLogger;

/** A query that succeeded: what it cost and where its result is. */
export interface CompletedQuery {
  readonly id: string;
  readonly dataScannedInBytes: number;
  /** Where Athena wrote the result CSV, if known. */
  readonly resultLocation?: string;
}

export interface AthenaQueryRunnerOptions {
  readonly athena: AthenaClient;
  readonly catalog: string;
  /** The database DML runs in (DDL runs outside it: it may not exist yet). */
  readonly database: string;
  readonly workGroup: string;
  /** `s3://bucket/prefix/`, sent as ResultConfiguration; undefined when the workgroup sets one. */
  readonly outputLocation?: string;
  readonly pollIntervalMs: number;
  readonly queryTimeoutMs: number;
  /** Attempts per call when Athena throttles. */
  readonly throttleAttempts: number;
  /** First backoff after a throttle, doubled per attempt up to `throttleMaxDelayMs`. */
  readonly throttleBaseDelayMs: number;
  readonly throttleMaxDelayMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Epoch milliseconds. */
  readonly now: () => number;
  readonly logger?: AthenaFlowSourceLogger;
}

const isThrottle = (error: unknown): boolean =>
  error instanceof Error &&
  (error.name === 'TooManyRequestsException' || error.name === 'ThrottlingException');

/** What one poll of a statement found: still running, or succeeded (FAILED/CANCELLED throw). */
export type QueryPollState =
  | { readonly state: 'running'; readonly throttled: boolean }
  | { readonly state: 'succeeded'; readonly query: CompletedQuery };

/**
 * A ClientRequestToken for a statement of a job: the same job, purpose and SQL give the same
 * token, so a start sent again (a retried step, a Lambda that timed out after the call) is
 * deduplicated by Athena instead of running — and billing — the query twice. 64 hex characters
 * (Athena takes 32 to 128).
 *
 * @example requestToken('run-1/athena-fl-1', 'aggregate vpc_flow_logs_fl_1', sql) // 'a3f1…' (64)
 */
export function requestToken(jobId: string, purpose: string, sql: string): string {
  return createHash('sha256').update(`${jobId}\n${purpose}\n${sql}`).digest('hex');
}

/**
 * Best-effort StopQueryExecution of each query (stopping a query that already ended does nothing).
 *
 * @example await stopAthenaQueries(athena, ['q-1'], logger);
 */
export async function stopAthenaQueries(
  athena: AthenaClient,
  ids: readonly string[],
  logger?: AthenaFlowSourceLogger,
  why = 'given up',
): Promise<void> {
  await Promise.all(
    ids.map(async (id) => {
      try {
        await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
        logger?.warn(`athena query ${why}: stopped`, { queryExecutionId: id });
      } catch (error) {
        // The failure is the error to report; a failed stop only leaves Athena's own timeout.
        logger?.error(`athena query ${why} and could not be stopped`, {
          queryExecutionId: id,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }),
  );
}

/**
 * Runs Athena statements one call at a time (the caller bounds how many run at once): start one,
 * poll it, stop it; or `execute()` one to its end in-process.
 *
 * @example
 * const runner = new AthenaQueryRunner({ athena, catalog: 'AwsDataCatalog', database: 'sg_audit',
 *   workGroup: 'primary', pollIntervalMs: 1000, queryTimeoutMs: 1_800_000, throttleAttempts: 8,
 *   throttleBaseDelayMs: 1000, throttleMaxDelayMs: 30_000, sleep, now: Date.now });
 * const done = await runner.execute(sql, 'aggregate vpc_flow_logs_fl_1', { inDatabase: true });
 */
export class AthenaQueryRunner {
  constructor(private readonly options: AthenaQueryRunnerOptions) {}

  /**
   * Starts a statement and returns its QueryExecutionId. The token (requestToken) is sent on every
   * attempt, so a throttled start retried here, or the whole call made again, runs it once.
   *
   * @throws the throttling error after the last attempt; AthenaResultFormatError without an id.
   */
  async start(
    sql: string,
    purpose: string,
    { inDatabase, token }: { inDatabase: boolean; token: string },
  ): Promise<string> {
    const { athena, catalog, database, workGroup, outputLocation, logger } = this.options;
    const started = await this.retryThrottled(`start ${purpose}`, () =>
      athena.send(
        new StartQueryExecutionCommand({
          QueryString: sql,
          ClientRequestToken: token,
          // Names are qualified anyway; DDL runs outside the database, which may not exist yet.
          QueryExecutionContext: inDatabase ? { Catalog: catalog, Database: database } : { Catalog: catalog },
          WorkGroup: workGroup,
          ...(outputLocation !== undefined
            ? { ResultConfiguration: { OutputLocation: outputLocation } }
            : {}),
        }),
      ),
    );
    const id = started.QueryExecutionId;
    if (id === undefined || id === '') {
      throw new AthenaResultFormatError(`StartQueryExecution (${purpose}) returned no QueryExecutionId`);
    }
    logger?.debug('athena query started', { purpose, queryExecutionId: id });
    return id;
  }

  /**
   * One GetQueryExecution: running (a throttled answer counts as running: the query is not
   * started again), or what the succeeded query cost and where its result is.
   *
   * @throws AthenaQueryFailedError when the query FAILED or was CANCELLED.
   */
  async poll(id: string, purpose: string): Promise<QueryPollState> {
    const { athena, logger } = this.options;
    let execution: QueryExecution | undefined;
    try {
      ({ QueryExecution: execution } = await athena.send(
        new GetQueryExecutionCommand({ QueryExecutionId: id }),
      ));
    } catch (error) {
      if (!isThrottle(error)) throw error;
      logger?.warn('athena throttled: polling again later', { purpose, queryExecutionId: id });
      return { state: 'running', throttled: true };
    }
    const status = execution?.Status;
    const state = status?.State;
    if (state === 'SUCCEEDED' && execution !== undefined) {
      const query: CompletedQuery = {
        id,
        dataScannedInBytes: execution.Statistics?.DataScannedInBytes ?? 0,
        resultLocation: execution.ResultConfiguration?.OutputLocation ?? this.defaultResultLocation(id),
      };
      logger?.info('athena query succeeded', {
        purpose,
        queryExecutionId: id,
        dataScannedInBytes: query.dataScannedInBytes,
      });
      return { state: 'succeeded', query };
    }
    if (state === 'FAILED' || state === 'CANCELLED') {
      logger?.error('athena query failed', {
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
    return { state: 'running', throttled: false };
  }

  /** Stops a statement that ran out of time (best effort). */
  stop(id: string): Promise<void> {
    return stopAthenaQueries(this.options.athena, [id], this.options.logger, 'timed out');
  }

  /**
   * Starts a statement, polls it until it succeeds, and says what it cost and where its result is.
   *
   * @throws AthenaQueryFailedError, AthenaQueryTimeoutError (after stopping it); the throttling
   *   error after the last start attempt.
   */
  async execute(
    sql: string,
    purpose: string,
    { inDatabase }: { inDatabase: boolean },
  ): Promise<CompletedQuery> {
    const { pollIntervalMs, queryTimeoutMs, sleep, now } = this.options;
    const id = await this.start(sql, purpose, {
      inDatabase,
      token: requestToken(randomUUID(), purpose, sql),
    });
    const startedAt = now();
    // Bounded by polls as well as by the clock, so a stalled clock cannot spin forever.
    const maxPolls = Math.ceil(queryTimeoutMs / pollIntervalMs) + 1;
    for (let poll = 1; ; poll += 1) {
      const polled = await this.poll(id, purpose);
      if (polled.state === 'succeeded') return polled.query;
      if (now() - startedAt >= queryTimeoutMs || poll >= maxPolls) {
        await this.stop(id);
        throw new AthenaQueryTimeoutError(id, queryTimeoutMs);
      }
      await sleep(pollIntervalMs);
    }
  }

  /** Calls `call`, again after a growing backoff while Athena answers that it is throttling. */
  async retryThrottled<T>(what: string, call: () => Promise<T>): Promise<T> {
    const { throttleAttempts, throttleBaseDelayMs, throttleMaxDelayMs, sleep, logger } = this.options;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await call();
      } catch (error) {
        if (!isThrottle(error) || attempt >= throttleAttempts) throw error;
        const delay = Math.min(throttleMaxDelayMs, throttleBaseDelayMs * 2 ** (attempt - 1));
        logger?.warn('athena throttled: retrying', { what, attempt, delayMs: delay });
        await sleep(delay);
      }
    }
  }

  private defaultResultLocation(id: string): string | undefined {
    const { outputLocation } = this.options;
    if (outputLocation === undefined) return undefined;
    return `${outputLocation.replace(/\/+$/, '')}/${id}.csv`;
  }
}
