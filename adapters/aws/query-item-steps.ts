/**
 * The workflow's query step for one item, as the state machine polls it: `start` plans the item's
 * queries and starts them, each `check` polls them once, the state machine waiting in between —
 * no Lambda waits for a query (a Logs Insights query may run 60 minutes, a Lambda 15). Each
 * answer is a small poll state: running (the job: query ids and counters, bounded), done (the
 * stored aggregates' key) or failed (a bounded error; the whole error is stored under the run).
 *
 * - Budget: the item's job has a deadline (start + the engine's budget); the check that finds it
 *   passed stops the queries and fails the item with the source's timeout error
 *   (FlowLogQueryTimeoutError, AthenaQueryTimeoutError).
 * - A source's failure stops its own queries before it is answered as failed. When the step dies
 *   in a way it cannot answer (a Lambda timeout, …), the workflow's Catch calls `recordFailure`,
 *   which stops the job's queries and records the error the same way.
 */

import type { FlowSourceItem } from '../../shared/flow/source-plan';
import type { FlowAggregateResult, TimeWindow } from '../../shared/model/flow';
import { errorOfStep, type StepError, type StoredInventory } from '../../shared/model/run';
import type { PortRange } from '../../shared/net/ports';
import type { AthenaQueryJob } from './athena/flow-source';
import type { FlowQueryPoll } from './flow-query-job';
import type { InsightsQueryJob } from './insights-flow-source';
import {
  enisRecordedBy,
  type FlowQueryJob,
  type FlowSourceClients,
  flowLogsOfItem,
  polledSourceOf,
  stopQueryJob,
} from './query-item-source';
import { emptyFlowResult, type S3WorkStore, workKeys } from './s3-work-store';

/** The longest cause a failed item keeps in state (the whole error is in the work bucket). */
export const MAX_STATE_CAUSE = 500;

/** Each query's own limit inside a job: the engines' own (Logs Insights 60 min, Athena DML 30 min). */
const QUERY_TIMEOUT_MS = { insights: 60 * 60_000, athena: 30 * 60_000 } as const;

export type { AthenaQueryJob, FlowQueryJob, InsightsQueryJob };

/** What every step of an item is given. */
export interface QueryItemEvent {
  readonly runId: string;
  readonly inventoryKey: string;
  readonly window: TimeWindow;
  readonly query: FlowSourceItem;
}

/** Seconds an item's job may run, by engine, before its queries are stopped. */
export interface QueryBudget {
  readonly insights: number;
  readonly athena: number;
}

export interface RunningPoll {
  readonly status: 'running';
  /** Epoch milliseconds. */
  readonly deadline: number;
  /** Checks so far. */
  readonly polls: number;
  readonly eniCount: number;
  readonly job: FlowQueryJob;
}

/** What a query item adds to the Map's results. */
export type QueryOutcome =
  | { readonly sourceId: string; readonly status: 'ok'; readonly aggregatesKey: string }
  | {
      readonly sourceId: string;
      readonly status: 'failed';
      readonly error: StepError;
      /** Where the whole error is, in the work bucket. */
      readonly errorKey?: string;
    };

export interface DonePoll {
  readonly status: 'done';
  readonly runId: string;
  readonly sourceId: string;
  readonly aggregatesKey: string;
  /** ENIs of the item's flow logs that were asked for. */
  readonly eniCount: number;
  readonly rows: number;
  readonly records: number;
  readonly bytesScanned: number;
  readonly queries: number;
  readonly outcome: QueryOutcome & { readonly status: 'ok' };
}

export interface FailedPoll {
  readonly status: 'failed';
  readonly outcome: QueryOutcome & { readonly status: 'failed' };
}

export type QueryPoll = RunningPoll | DonePoll | FailedPoll;

export interface QueryItemStepsOptions {
  readonly store: S3WorkStore;
  readonly clients: FlowSourceClients;
  /** Server ports analysed; empty = all. */
  readonly ports: readonly PortRange[];
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * A name and a message that fit the state: the message cut to MAX_STATE_CAUSE with where the
 * whole error is.
 *
 * @example boundedError('FlowLogQueryFailedError', 'StartQuery on … failed', 'runs/r-1/errors/insights-1.json')
 * // { Error: 'FlowLogQueryFailedError', Cause: 'StartQuery on … failed (whole error: runs/r-1/errors/insights-1.json)' }
 */
export function boundedError(name: string, message: string, errorKey?: string): StepError {
  const where = errorKey === undefined ? '' : ` (whole error: ${errorKey})`;
  const suffix = where.length <= MAX_STATE_CAUSE / 2 ? where : '';
  const room = MAX_STATE_CAUSE - suffix.length;
  const text = message.length > room ? `${message.slice(0, room - 1)}…` : message;
  return { Error: name.slice(0, 128) || 'Error', Cause: `${text}${suffix}` };
}

/** An error as JSON: name, message, stack, its own fields (query ids, log groups …) and its causes. */
function errorRecord(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) return { message: String(error) };
  const { name, message, stack } = error;
  const fields = Object.fromEntries(
    Object.entries(error).filter(([key]) => key !== '$response' && key !== 'cause'),
  );
  return {
    name,
    message,
    ...fields,
    stack,
    ...(error.cause !== undefined && depth < 3 ? { cause: errorRecord(error.cause, depth + 1) } : {}),
  };
}

/**
 * The query step's work for one item.
 *
 * @example
 * const steps = new QueryItemSteps({ store, clients: { logs, athena, s3 }, ports: [] });
 * let poll = await steps.start(event, { insights: 3600, athena: 1800 });
 * while (poll.status === 'running') poll = await steps.check({ ...event, poll });
 */
export class QueryItemSteps {
  private readonly now: () => number;
  /** The last inventory read: a warm function checks the same item's run again and again. */
  private inventory?: { readonly key: string; readonly stored: Promise<StoredInventory> };

  constructor(private readonly options: QueryItemStepsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Plans the item's queries (for the ENIs its flow logs record) and starts them. */
  async start(event: QueryItemEvent, budget: QueryBudget): Promise<QueryPoll> {
    const { runId, query: item } = event;
    const context = await this.itemContext(event);
    if (context.eniIds.length === 0) {
      // No ENI to ask about: an empty ENI list would mean "every ENI" to the source.
      const engine = item.kind === 'insights' ? 'logs-insights' : 'athena';
      return this.done(event, 0, emptyFlowResult(engine, context.flowLogIds));
    }
    const deadline = this.now() + (item.kind === 'insights' ? budget.insights : budget.athena) * 1000;
    const poll = await context.source().start(context.flowQuery, {
      jobId: `${runId}/${item.sourceId}`,
      deadline,
    });
    return this.answer(event, poll, { deadline, polls: 0, eniCount: context.eniIds.length });
  }

  /** Polls the item's job once (starting what follows); done when its last query has ended. */
  async check(event: QueryItemEvent & { readonly poll: RunningPoll }): Promise<QueryPoll> {
    const { poll } = event;
    let context: Awaited<ReturnType<QueryItemSteps['itemContext']>>;
    let source: ReturnType<typeof context.source>;
    try {
      context = await this.itemContext(event);
      source = context.source();
    } catch (error) {
      // The job's queries would run on unwatched.
      await stopQueryJob(poll.job, this.options.clients);
      throw error;
    }
    const next = await source.check(context.flowQuery, poll.job);
    return this.answer(event, next, {
      deadline: poll.deadline,
      polls: poll.polls + 1,
      eniCount: poll.eniCount,
    });
  }

  /**
   * An item that failed in the step (its source has stopped its queries): the whole error goes to
   * the work bucket, a bounded one to state.
   */
  async failed(event: Pick<QueryItemEvent, 'runId' | 'query'>, error: unknown): Promise<FailedPoll> {
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    return { status: 'failed', outcome: await this.recorded(event, name, message, errorRecord(error)) };
  }

  /**
   * A step the workflow caught (it could not answer: a Lambda timeout, an exhausted retry …): stops
   * the job's queries if it had a running job, and records the error as `failed` does.
   */
  async recordFailure(event: {
    readonly runId: string;
    readonly query: Pick<FlowSourceItem, 'sourceId'>;
    readonly poll?: { readonly status: string; readonly job?: FlowQueryJob };
    readonly error: StepError;
  }): Promise<FailedPoll['outcome']> {
    const { poll, error } = event;
    if (poll?.status === 'running' && poll.job !== undefined)
      await stopQueryJob(poll.job, this.options.clients);
    const { name, message } = errorOfStep(error);
    return this.recorded(event, name, message, error);
  }

  private async recorded(
    event: { readonly runId: string; readonly query: Pick<FlowSourceItem, 'sourceId'> },
    name: string,
    message: string,
    whole: unknown,
  ): Promise<FailedPoll['outcome']> {
    const { runId, query } = event;
    let errorKey: string | undefined = workKeys.error(runId, query.sourceId);
    try {
      await this.options.store.putJson(errorKey, {
        runId,
        sourceId: query.sourceId,
        at: new Date(this.now()).toISOString(),
        error: whole,
      });
    } catch (storeError) {
      this.options.clients.logger?.error('the failed item’s error could not be stored', {
        sourceId: query.sourceId,
        error: storeError instanceof Error ? storeError.message : String(storeError),
      });
      errorKey = undefined;
    }
    return {
      sourceId: query.sourceId,
      status: 'failed',
      error: boundedError(name, message, errorKey),
      ...(errorKey ? { errorKey } : {}),
    };
  }

  /** The item's flow logs, its ENIs, the flow query and the polled source, from the stored inventory. */
  private async itemContext(event: QueryItemEvent) {
    const { runId, inventoryKey, window, query: item } = event;
    if (this.inventory?.key !== inventoryKey) {
      const stored = this.options.store.getInventory(inventoryKey);
      // A failed read is not kept.
      stored.catch(() => {
        if (this.inventory?.stored === stored) this.inventory = undefined;
      });
      this.inventory = { key: inventoryKey, stored };
    }
    const { inventory } = await this.inventory.stored;
    const flowLogs = flowLogsOfItem(inventory, item);
    const eniIds = enisRecordedBy(inventory, flowLogs);
    const { store, clients, ports } = this.options;
    // Built when there is something to ask (an item without ENIs needs no engine configured).
    const source = () =>
      polledSourceOf(item, inventory, flowLogs, clients, {
        queryTimeoutMs: QUERY_TIMEOUT_MS[item.kind],
        partials: {
          put: (_job, part, rows) => store.putPartialAggregates(runId, item.sourceId, part, rows),
          get: (_job, part) => store.getPartialAggregates(runId, item.sourceId, part),
        },
      });
    return {
      source,
      eniIds,
      flowLogIds: flowLogs.map((f) => f.id),
      flowQuery: { window, eniIds, ...(ports.length > 0 ? { ports } : {}) },
    };
  }

  private async answer(
    event: QueryItemEvent,
    poll: FlowQueryPoll<FlowQueryJob>,
    progress: Omit<RunningPoll, 'status' | 'job'>,
  ): Promise<QueryPoll> {
    if (poll.status === 'running') return { status: 'running', ...progress, job: poll.job };
    return this.done(event, progress.eniCount, poll.result);
  }

  private async done(
    event: QueryItemEvent,
    eniCount: number,
    result: FlowAggregateResult,
  ): Promise<DonePoll> {
    const { runId, query } = event;
    const aggregatesKey = await this.options.store.putAggregates(runId, query.sourceId, result);
    return {
      status: 'done',
      runId,
      sourceId: query.sourceId,
      aggregatesKey,
      eniCount,
      rows: result.aggregates.length,
      records: result.stats.records,
      bytesScanned: result.stats.bytesScanned,
      queries: result.stats.queries,
      outcome: { sourceId: query.sourceId, status: 'ok', aggregatesKey },
    };
  }
}
