/**
 * The set-up every end-to-end suite of the workflow's handlers shares: moto_server on loopback,
 * the clients that seed and read it, the environment that points the handlers at it (set before
 * they are imported: they build their clients and read their configuration at module scope), the
 * four handlers in-process, and a moto reset before each test. Also the query step run the way
 * the state machine's Map state runs it: start, then checks until the item is done or failed.
 *
 * @example
 * const suite = motoWorkflowSuite({ seed: SEED });
 * it('…', async () => {
 *   const account = await suite.seed();
 *   const discovered = await suite.handlers.discover({ runId: 'run-1', end: END });
 *   const { aggregateKeys, failedSources } = await queryEachSource(suite.handlers, discovered);
 * });
 */
import type { AnalyzeResult } from '../../lambdas/analyze/contract';
import type { DiscoverResult } from '../../lambdas/discover/contract';
import type { NotifyResult } from '../../lambdas/notify/contract';
import type { QueryOutcome, QueryPoll } from '../../lambdas/query/contract';
import { type MotoServer, resetMoto, startMoto } from './moto';
import {
  destroyClients,
  handlerEnvironment,
  type MotoAccountClients,
  motoAccountClients,
  type SeededAccount,
  type SeedOptions,
  seedAccount,
} from './moto-account';

/** The workflow's Lambda handlers, as the state machine's tasks call them. */
export interface WorkflowHandlers {
  readonly discover: (event: unknown) => Promise<DiscoverResult>;
  readonly query: (event: unknown) => Promise<QueryPoll | QueryOutcome>;
  readonly analyze: (event: unknown) => Promise<AnalyzeResult>;
  readonly notify: (event: unknown) => Promise<NotifyResult>;
}

export interface MotoWorkflowSuiteOptions {
  /** The account the tests seed; its buckets and topic configure the handlers. */
  readonly seed: SeedOptions;
  /** More handler settings (e.g. SUPPRESSIONS_KEY), beside the buckets, topic and LOOKBACK_DAYS=1. */
  readonly settings?: Readonly<Record<string, string>>;
}

/** What a suite's tests use; filled in by its beforeAll. */
export interface MotoWorkflowSuite {
  readonly moto: MotoServer;
  readonly clients: MotoAccountClients;
  readonly handlers: WorkflowHandlers;
  /** The ARN of the seeded alert topic, which notify publishes to. */
  readonly topicArn: string;
  /** Seeds the account of the options in moto (reset before each test). */
  seed(): Promise<SeededAccount>;
}

/** A failed query item as the query step records it. */
export interface FailedSource {
  readonly sourceId: string;
  readonly error: { readonly Error: string; readonly Cause?: string | undefined };
}

/** The workflow's per-engine query budget (lib/audit-workflow.ts defaults). */
const BUDGET_SECONDS = { insights: 3600, athena: 1800 };

/**
 * Registers the suite's hooks (start moto, set the handler environment, import the handlers;
 * reset moto before each test; stop and restore after all) and returns what the tests use.
 *
 * @example const suite = motoWorkflowSuite({ seed: SEED, settings: { SUPPRESSIONS_KEY } });
 */
export function motoWorkflowSuite(options: MotoWorkflowSuiteOptions): MotoWorkflowSuite {
  const { seed } = options;
  const topicArn = `arn:aws:sns:${seed.region}:${seed.account}:${seed.topicName}`;
  const savedEnv = { ...process.env };
  let started: { moto: MotoServer; clients: MotoAccountClients; handlers: WorkflowHandlers } | undefined;
  const running = () => {
    if (started === undefined) throw new Error('the moto workflow suite has not started (beforeAll)');
    return started;
  };

  beforeAll(async () => {
    const moto = await startMoto();
    const clients = motoAccountClients(moto.endpoint);
    Object.assign(
      process.env,
      handlerEnvironment(moto.endpoint, seed.region, {
        WORK_BUCKET: seed.workBucket,
        REPORT_BUCKET: seed.reportBucket,
        ALERT_TOPIC_ARN: topicArn,
        LOOKBACK_DAYS: '1',
        ...options.settings,
      }),
    );
    started = { moto, clients, handlers: await importWorkflowHandlers() };
  });

  afterAll(async () => {
    destroyClients(started?.clients);
    await started?.moto.stop();
    process.env = savedEnv;
  });

  beforeEach(async () => {
    await resetMoto(running().moto.endpoint);
  });

  return {
    get moto() {
      return running().moto;
    },
    get clients() {
      return running().clients;
    },
    get handlers() {
      return running().handlers;
    },
    topicArn,
    seed: () => seedAccount(running().clients, seed),
  };
}

/** The four handlers, imported in this module registry (after the environment is set). */
async function importWorkflowHandlers(): Promise<WorkflowHandlers> {
  return {
    discover: (await import('../../lambdas/discover/handler')).handler,
    query: (await import('../../lambdas/query/handler')).handler,
    analyze: (await import('../../lambdas/analyze/handler')).handler,
    notify: (await import('../../lambdas/notify/handler')).handler,
  };
}

/**
 * Runs the query step for each source of a discovery, as the Map state's item processor does:
 * start, then check (without the state machine's wait) until the poll is done or failed; the keys
 * of the stored aggregates, and the failures as the items record them.
 *
 * @example const { aggregateKeys, failedSources } = await queryEachSource(suite.handlers, discovered);
 */
export async function queryEachSource(
  handlers: Pick<WorkflowHandlers, 'query'>,
  discovered: DiscoverResult,
): Promise<{ aggregateKeys: string[]; failedSources: FailedSource[] }> {
  const aggregateKeys: string[] = [];
  const failedSources: FailedSource[] = [];
  const { runId, inventoryKey, window } = discovered;
  for (const query of discovered.queries) {
    const item = { runId, inventoryKey, window, query };
    let poll = (await handlers.query({
      ...item,
      action: 'start',
      budgetSeconds: BUDGET_SECONDS,
    })) as QueryPoll;
    while (poll.status === 'running') {
      poll = (await handlers.query({
        ...item,
        action: 'check',
        poll: JSON.parse(JSON.stringify(poll)),
      })) as QueryPoll;
    }
    if (poll.status === 'done') aggregateKeys.push(poll.aggregatesKey);
    else failedSources.push({ sourceId: query.sourceId, error: poll.outcome.error });
  }
  return { aggregateKeys, failedSources };
}
