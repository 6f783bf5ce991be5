/**
 * Running one Athena statement to its end: StartQueryExecution (idempotent through a client
 * request token), GetQueryExecution polls until it succeeds, fails or outlives its timeout (then
 * StopQueryExecution, since a query left running keeps scanning and billing), and backoff on
 * Athena's throttling answers for every call.
 */
import { randomUUID } from 'node:crypto';
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { AthenaQueryFailedError, AthenaQueryTimeoutError, AthenaResultFormatError } from './errors';

/** Powertools Logger satisfies it. */
export interface AthenaFlowSourceLogger {
  debug(message: string, extra?: object): void;
  info(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
}

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

/**
 * Runs Athena statements one call at a time (the caller bounds how many run at once).
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
   * Starts a statement, waits for it to succeed, and says what it cost and where its result is.
   *
   * @throws AthenaQueryFailedError, AthenaQueryTimeoutError; the throttling error after the last attempt.
   */
  async execute(
    sql: string,
    purpose: string,
    { inDatabase }: { inDatabase: boolean },
  ): Promise<CompletedQuery> {
    const { athena, catalog, database, workGroup, outputLocation, logger } = this.options;
    // One token for every attempt: a retried start whose first attempt did reach Athena is not run twice.
    const token = randomUUID();
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
    const execution = await this.waitFor(id, purpose);
    const done: CompletedQuery = {
      id,
      dataScannedInBytes: execution.Statistics?.DataScannedInBytes ?? 0,
      resultLocation: execution.ResultConfiguration?.OutputLocation ?? this.defaultResultLocation(id),
    };
    logger?.info('athena query succeeded', {
      purpose,
      queryExecutionId: id,
      dataScannedInBytes: done.dataScannedInBytes,
    });
    return done;
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

  /** Polls until the query ends; stops it (and throws) when it outlives the timeout. */
  private async waitFor(id: string, purpose: string): Promise<QueryExecution> {
    const { athena, pollIntervalMs, queryTimeoutMs, sleep, now, logger } = this.options;
    const startedAt = now();
    // Bounded by polls as well as by the clock, so a stalled clock cannot spin forever.
    const maxPolls = Math.ceil(queryTimeoutMs / pollIntervalMs) + 1;
    for (let poll = 1; ; poll += 1) {
      const { QueryExecution: execution } = await this.retryThrottled(`poll ${purpose}`, () =>
        athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id })),
      );
      const status = execution?.Status;
      const state = status?.State;
      if (state === 'SUCCEEDED' && execution !== undefined) return execution;
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
      if (now() - startedAt >= queryTimeoutMs || poll >= maxPolls) {
        await this.stop(id, purpose);
        throw new AthenaQueryTimeoutError(id, queryTimeoutMs);
      }
      await sleep(pollIntervalMs);
    }
  }

  private async stop(id: string, purpose: string): Promise<void> {
    const { athena, logger } = this.options;
    try {
      await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
      logger?.warn('athena query timed out: stopped', { purpose, queryExecutionId: id });
    } catch (error) {
      // The timeout is the error to report; a failed stop only leaves Athena's own timeout.
      logger?.error('athena query timed out and could not be stopped', {
        purpose,
        queryExecutionId: id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
