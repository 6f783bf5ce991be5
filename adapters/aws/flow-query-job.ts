/**
 * Flow queries as jobs their caller polls, instead of one call that waits for them: `start()`
 * starts the first queries and returns a small JSON job (query ids, windows, counters — never
 * rows), each `check(job)` polls the running queries, starts what follows (Logs Insights' split
 * windows, Athena's next DDL statement or table) and returns the next job, until one answers the
 * result; `stop(job)` gives the running queries up. Two runners drive them:
 *  - the CLI, in-process (`pollToCompletion`, the sources' `aggregate()`): it is not in a Lambda;
 *  - the workflow's query step, one start or one check per invocation, the state machine waiting
 *    between checks (a Logs Insights query may run 60 minutes, a Lambda 15), the job in state.
 * A check that throws has stopped every query it knew to be running (best effort) and started no
 * other: the job it was given is over.
 */
import { randomUUID } from 'node:crypto';
import type { FlowAggregate, FlowAggregateResult, FlowQuery } from '../../shared/model/flow';

/** A job still running (poll it again), or its result. */
export type FlowQueryPoll<J> =
  | { readonly status: 'running'; readonly job: J }
  | { readonly status: 'done'; readonly result: FlowAggregateResult };

export interface FlowQueryJobOptions {
  /**
   * Names the job: Athena's ClientRequestTokens derive from it (a retried start or check sends the
   * same token, and Athena runs the query once), and partial results are keyed by it.
   * @default a random UUID
   */
  readonly jobId?: string;
  /** Epoch milliseconds: a check at or after it stops the queries and fails with the source's timeout error. */
  readonly deadline?: number;
}

/** What every polled job carries, whatever its engine (small JSON: the workflow's state holds it). */
export interface FlowQueryJobBase<E extends string> {
  readonly engine: E;
  readonly jobId: string;
  readonly queries: number;
  readonly bytesScanned: number;
  /** Epoch milliseconds. */
  readonly deadline?: number;
}

/**
 * A new job's common fields: its engine, the options' job id (else a random UUID), nothing queried
 * yet, and the options' deadline.
 *
 * @example const job: InsightsQueryJob = { ...newJob('logs-insights', options), pending, running: [], … };
 */
export function newJob<E extends string>(engine: E, options: FlowQueryJobOptions): FlowQueryJobBase<E> {
  return {
    engine,
    jobId: options.jobId ?? randomUUID(),
    queries: 0,
    bytesScanned: 0,
    ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
  };
}

/** A flow source whose queries are polled by the caller. */
export interface PolledFlowSource<J> {
  /** Plans the queries (failing before any starts when one cannot run) and starts the first ones. */
  start(query: FlowQuery, options?: FlowQueryJobOptions): Promise<FlowQueryPoll<J>>;
  /** Polls the job's queries once; `query` is the one the job was started with. */
  check(query: FlowQuery, job: J): Promise<FlowQueryPoll<J>>;
  /** Stops the job's running queries (best effort: a query that already ended is left alone). */
  stop(job: J): Promise<void>;
}

export interface PollOptions {
  readonly pollIntervalMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Check once right after the start, before the first wait (Athena DDL often ends at once). @default false */
  readonly checkAtOnce?: boolean;
}

/**
 * Runs a job to its result in-process: start, then wait and check until done. The source bounds
 * each query's time itself; a check that throws has already stopped the job's queries.
 *
 * @example const { aggregates, stats } = await pollToCompletion(source, query, { pollIntervalMs: 1000, sleep });
 */
export async function pollToCompletion<J>(
  source: PolledFlowSource<J>,
  query: FlowQuery,
  { pollIntervalMs, sleep, checkAtOnce = false }: PollOptions,
): Promise<FlowAggregateResult> {
  let poll = await source.start(query);
  if (poll.status === 'running' && checkAtOnce) poll = await source.check(query, poll.job);
  while (poll.status === 'running') {
    await sleep(pollIntervalMs);
    poll = await source.check(query, poll.job);
  }
  return poll.result;
}

/**
 * The queries a failing check must stop: those of the job it was given and those it started,
 * less the ones it saw end, each once.
 *
 * @example stillRunning(['q-1', 'q-2', 'q-2'], new Set(['q-1'])) // ['q-2']
 */
export function stillRunning(queryIds: readonly string[], ended: ReadonlySet<string>): string[] {
  return [...new Set(queryIds)].filter((id) => !ended.has(id));
}

/**
 * Where a job keeps the rows of windows that finished before the others (Logs Insights splits a
 * truncated window and may finish its halves in different checks): the state holds only how many
 * parts there are.
 */
export interface PartialAggregateStore {
  put(jobId: string, part: number, rows: readonly FlowAggregate[]): Promise<void>;
  get(jobId: string, part: number): Promise<FlowAggregate[]>;
}

/** Parts in memory, for a job polled in one process (the CLI); each part is read once. */
export class InMemoryPartialAggregates implements PartialAggregateStore {
  private readonly parts = new Map<string, readonly FlowAggregate[]>();

  async put(jobId: string, part: number, rows: readonly FlowAggregate[]): Promise<void> {
    this.parts.set(`${jobId}/${part}`, rows);
  }

  async get(jobId: string, part: number): Promise<FlowAggregate[]> {
    const key = `${jobId}/${part}`;
    const rows = this.parts.get(key);
    if (rows === undefined) throw new Error(`no partial result ${key}`);
    this.parts.delete(key);
    return [...rows];
  }
}

/**
 * AWS throttling answers, by error name. A throttled poll is a poll without news (the query runs
 * on); a throttled start may be sent again (Athena deduplicates it by its token). The workflow's
 * Retry matches these names too (lib/audit-workflow.ts).
 */
export const AWS_THROTTLING_ERRORS = [
  'ThrottlingException',
  'TooManyRequestsException',
  'LimitExceededException',
  'RequestLimitExceeded',
  'SlowDown',
] as const;

const THROTTLING: ReadonlySet<string> = new Set(AWS_THROTTLING_ERRORS);

/** Whether an error is one of AWS_THROTTLING_ERRORS. */
export function isThrottling(error: unknown): boolean {
  return error instanceof Error && THROTTLING.has(error.name);
}

/**
 * The throttling error behind an error: itself, or the first of its causes that is one (an
 * adapter wraps what the SDK threw).
 *
 * @example throttlingCause(new WorkStoreError(bucket, key, 'cannot read', { cause: slowDown })) // slowDown
 */
export function throttlingCause(error: unknown): Error | undefined {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if (isThrottling(current)) return current;
    current = current.cause;
  }
  return undefined;
}
