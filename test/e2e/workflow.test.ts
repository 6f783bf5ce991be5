/**
 * The synthesized state machine run by aws-local-stepfunctions, each Lambda task mapped to the
 * REAL handler in-process, against moto_server: discover → query (Map) → analyze → notify.
 *
 * The definition is the DefinitionString of the template of a stack using AuditWorkflow
 * (test/support/workflow-stack.ts, its work bucket named as the moto one), intrinsics resolved to
 * placeholder ARNs; the local handlers are keyed by state name. aws-local-stepfunctions has no
 * JSONata and no Distributed Map: it ignores ProcessorConfig (every Map runs inline), ItemReader
 * and ResultWriter. Both paths of the QueriesInline Choice run: the inline Map on discover's list
 * as is, and the Distributed Map QueryEachSourceFromS3 on discover's result made to say "over the
 * inline budget", its ItemReader emulated by one Task state reading queries.json from moto S3 and
 * its ResultWriter by one Task state writing the children's outputs and the manifest to moto S3 in
 * Step Functions' format (withDistributedMapAsTasks); everything else runs as synthesized. The
 * per-item poll loops run for real (StartQuery → QueryRunning → WaitForQuery → CheckQuery …), the
 * Wait states shortened (waitTimeOverrides).
 *
 * Moto's Logs Insights ignores `stats`: the flow records are seeded before the window, so the
 * query plumbing runs end to end on an empty result (test/support/moto-account.ts). It also
 * completes every query at once and has no StopQuery: the polling tests answer "Running" to a
 * query's first GetQueryResults calls, and StopQuery, through a spy on CloudWatchLogsClient's send
 * (the handlers run in this module registry, so their client is the one spied on); every other
 * call goes to moto.
 *
 * Moto has no CloudTrail LookupEvents (HTTP 500): a run as it is says the change history is
 * unknown; the attribution test answers LookupEvents through a spy on CloudTrailClient's send.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import {
  CloudWatchLogsClient,
  DeleteLogGroupCommand,
  GetQueryResultsCommand,
  StopQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Duration } from 'aws-cdk-lib';
import { type RunOptions, StateMachine } from 'aws-local-stepfunctions';
import type { DiscoverResult } from '../../lambdas/discover/contract';
import type { NotifyResult } from '../../lambdas/notify/contract';
import type { StoredInventory } from '../../shared/model/run';
import type { AuditReport } from '../../shared/report/model';
import { authorizeEvent, CALLERS } from '../../testkit/cloudtrail-events';
import {
  itemReaderState,
  readMapItems,
  resultWriterState,
  withDistributedMapAsTasks,
  writeMapResults,
} from '../support/distributed-map';
import {
  type SeededAccount,
  type SeedOptions,
  type SentNotification,
  sentNotifications as sentMotoNotifications,
} from '../support/moto-account';
import { motoWorkflowSuite } from '../support/moto-workflow';
import {
  LAMBDA_STATES,
  stateMachineDefinition,
  synthesizeWorkflowStack,
  TEST_ACCOUNT,
  TEST_REGION,
} from '../support/workflow-stack';

const WORK_BUCKET = 'sg-audit-wf-work';
const REPORT_BUCKET = 'sg-audit-wf-reports';
const TOPIC_NAME = 'sg-audit-wf-alerts';
const TOPIC_ARN = `arn:aws:sns:${TEST_REGION}:${TEST_ACCOUNT}:${TOPIC_NAME}`;
const LOG_GROUP = '/sg-audit/e2e/workflow-flow';
const NOW = Math.floor(Date.now() / 1000);
/** A little ahead, so the flow log moto creates during the test lies inside the window. */
const END = NOW + 600;

type LocalHandler = (event: unknown) => Promise<unknown>;
type FunctionName = keyof typeof LAMBDA_STATES;

// The definitions the tests run: as deployed, and with a budget a test can spend (2 s, 1 s polls).
const synthesized = (overrides: Parameters<typeof synthesizeWorkflowStack>[0] = {}) =>
  stateMachineDefinition(
    synthesizeWorkflowStack(overrides, { workBucketName: WORK_BUCKET }).template.toJSON() as never,
  );
const definition = synthesized();
const SHORT_BUDGET_SECONDS = 2;
const shortBudget = synthesized({
  queryBudget: { insights: Duration.seconds(SHORT_BUDGET_SECONDS) },
  queryPollInterval: Duration.seconds(1),
});

/** The Distributed Map over queries.json, and the Task states that stand in for its ItemReader and ResultWriter. */
const S3_MAP_STATE = 'QueryEachSourceFromS3';
const ITEM_READER_STATE = itemReaderState(S3_MAP_STATE);
const RESULT_WRITER_STATE = resultWriterState(S3_MAP_STATE);
/** The Wait states of the item poll loops. */
const WAIT_STATES = ['WaitForQuery', 'WaitForQueryFromS3'];

const definitionFromS3 = withDistributedMapAsTasks(definition, S3_MAP_STATE);
const shortBudgetFromS3 = withDistributedMapAsTasks(shortBudget, S3_MAP_STATE);

const SEED: SeedOptions = {
  account: TEST_ACCOUNT,
  region: TEST_REGION,
  network: '10.30',
  workBucket: WORK_BUCKET,
  reportBucket: REPORT_BUCKET,
  topicName: TOPIC_NAME,
  logGroup: LOG_GROUP,
  now: NOW,
};

// The handlers create their clients at module scope: the suite points the environment at moto first.
const suite = motoWorkflowSuite({ seed: SEED });

/** One VPC with a web SG open to the world (SSH too) and an app SG, their ENIs, a VPC flow log to CloudWatch Logs with records. */
async function seedAccount(): Promise<SeededAccount> {
  const account = await suite.seed();
  expect(account.topicArn).toBe(TOPIC_ARN);
  return account;
}

async function sentNotifications(): Promise<SentNotification[]> {
  return sentMotoNotifications(suite.moto.endpoint, TOPIC_ARN);
}

async function reportKeys(): Promise<string[]> {
  const listed = await suite.clients.s3.send(new ListObjectsV2Command({ Bucket: REPORT_BUCKET }));
  return (listed.Contents ?? []).map((o) => o.Key ?? '');
}

async function storedReport(key: string): Promise<AuditReport> {
  const object = await suite.clients.s3.send(new GetObjectCommand({ Bucket: REPORT_BUCKET, Key: key }));
  return JSON.parse((await object.Body?.transformToString('utf-8')) ?? '{}') as AuditReport;
}

/** The S3 objects the emulated ItemReader read, as its Parameters named them. */
const itemReaderReads: { Bucket: string; Key: string }[] = [];
beforeEach(() => {
  itemReaderReads.length = 0;
});

/** The report.json a run stored (its key listed in the report bucket). */
async function reportOfRun(runId: string): Promise<{ report: AuditReport; keys: string[]; prefix: string }> {
  const keys = await reportKeys();
  const reportKey = keys.find((k) => k.endsWith(`/${runId}/report.json`));
  expect(reportKey).toBeDefined();
  return {
    report: await storedReport(reportKey ?? ''),
    keys,
    prefix: reportKey?.replace(/report\.json$/, '') ?? '',
  };
}

/**
 * Asserts a clean first run: notify's result, the report with the web SG's critical finding and
 * no failed source, the SNS summary.
 */
async function expectCleanFirstRun(
  runId: string,
  account: SeededAccount,
  result: NotifyResult,
): Promise<AuditReport> {
  expect(result).toEqual({
    runId,
    kind: 'report',
    reason: 'first run: no previous report',
    published: ['sns'],
    failed: [],
  });
  const { report } = await reportOfRun(runId);
  expect(report).toMatchObject({ runId, account: { id: TEST_ACCOUNT, region: TEST_REGION } });
  expect(report.findings.some((f) => f.sgId === account.web && f.severity === 'critical')).toBe(true);
  expect(report.warnings.filter((w) => w.code === 'flow-source-failed')).toEqual([]);
  const sent = await sentNotifications();
  expect(sent).toHaveLength(1);
  expect(sent[0]?.[2]).toMatch(
    new RegExp(`^sg-audit ${TEST_ACCOUNT}/${TEST_REGION} \\(first run\\): \\d+ critical`),
  );
  return report;
}

/** The emulated ItemReader (test/support/distributed-map.ts), recording what it read. */
async function readItems(parameters: unknown): Promise<unknown[]> {
  const { Bucket, Key } = parameters as { Bucket: string; Key: string };
  itemReaderReads.push({ Bucket, Key });
  return readMapItems(suite.clients.s3, parameters);
}

/** The emulated ResultWriter (test/support/distributed-map.ts), one map run id per call. */
async function writeResults(parameters: unknown): Promise<unknown> {
  mapRuns += 1;
  return writeMapResults(suite.clients.s3, parameters, {
    mapRunId: `e2e-${mapRuns}`,
    region: TEST_REGION,
    account: TEST_ACCOUNT,
    mapState: S3_MAP_STATE,
  });
}
let mapRuns = 0;

/**
 * Logs Insights as the polling tests need it (see the file's comment): GetQueryResults of a query
 * answers "Running" for its first `runningPolls(queryId)` calls; StopQuery is recorded and
 * answered; everything else goes to moto.
 */
function insightsRunning(runningPolls: (queryId: string) => number): {
  stopped: string[];
  polls: Map<string, number>;
} {
  const send = CloudWatchLogsClient.prototype.send;
  const stopped: string[] = [];
  const polls = new Map<string, number>();
  jest.spyOn(CloudWatchLogsClient.prototype, 'send').mockImplementation(function (
    this: CloudWatchLogsClient,
    command: unknown,
    ...rest: unknown[]
  ) {
    if (command instanceof StopQueryCommand) {
      stopped.push(command.input.queryId ?? '');
      return Promise.resolve({ success: true, $metadata: {} });
    }
    if (command instanceof GetQueryResultsCommand && command.input.nextToken === undefined) {
      const queryId = command.input.queryId ?? '';
      const seen = (polls.get(queryId) ?? 0) + 1;
      polls.set(queryId, seen);
      if (seen <= runningPolls(queryId)) return Promise.resolve({ status: 'Running', $metadata: {} });
    }
    return (send as (...args: unknown[]) => Promise<unknown>).call(this, command, ...rest);
  } as never);
  return { stopped, polls };
}

afterEach(() => {
  jest.restoreAllMocks();
});

/** Discover, then the flow log's log group disappears: its query fails. */
const discoverThenDeleteLogGroup: LocalHandler = async (event) => {
  const discovered = await suite.handlers.discover(event);
  await suite.clients.logs.send(new DeleteLogGroupCommand({ logGroupName: LOG_GROUP }));
  return discovered;
};

/**
 * Discover's result as it is for a list over the inline budget (lambdas/discover/handler.ts):
 * queriesInline false and no inline list, queries.json left in the work bucket.
 */
function overInlineBudget(discover: LocalHandler): LocalHandler {
  return async (event) => {
    const discovered = (await discover(event)) as DiscoverResult;
    return { ...discovered, queries: [], queriesInline: false } satisfies DiscoverResult;
  };
}

/**
 * Discover, then a query list of `items` Logs Insights items, each over 50 long log-group names
 * moto does not have (one of them a flow log's added to the stored inventory, so the item is
 * valid): each item's StartQuery fails with a message naming its 50 groups (~6 KB).
 */
function discoverFailingItems(items: number): LocalHandler {
  return async (event) => {
    const discovered = await suite.handlers.discover(event);
    const { s3 } = suite.clients;
    const object = await s3.send(new GetObjectCommand({ Bucket: WORK_BUCKET, Key: discovered.inventoryKey }));
    const stored = JSON.parse(
      gunzipSync((await object.Body?.transformToByteArray()) ?? new Uint8Array()).toString(),
    ) as StoredInventory;
    const [flowLog] = stored.inventory.flowLogs;
    const [first] = discovered.queries;
    if (flowLog === undefined || first?.kind !== 'insights')
      throw new Error('the seeded account has no flow log');
    const queries = Array.from({ length: items }, (_, i) => ({
      sourceId: `insights-bulk-${i}`,
      kind: 'insights' as const,
      fields: first.fields,
      logGroups: Array.from({ length: 50 }, (_, g) => `/sg-audit/e2e/missing/${'x'.repeat(90)}/${i}/${g}`),
    }));
    const flowLogs = queries.map((q, i) => ({ ...flowLog, id: `fl-bulk${i}`, logGroupName: q.logGroups[0] }));
    const inventory: StoredInventory = {
      ...stored,
      inventory: { ...stored.inventory, flowLogs: [...stored.inventory.flowLogs, ...flowLogs] },
      plan: {
        ...stored.plan,
        sources: queries.map((q, i) => ({
          sourceId: q.sourceId,
          kind: 'insights' as const,
          flowLogIds: [`fl-bulk${i}`],
        })),
      },
    };
    await s3.send(
      new PutObjectCommand({
        Bucket: WORK_BUCKET,
        Key: discovered.inventoryKey,
        Body: gzipSync(JSON.stringify(inventory)),
      }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: WORK_BUCKET,
        Key: discovered.queriesKey,
        Body: JSON.stringify(queries),
      }),
    );
    return { ...discovered, queries: [], queriesInline: false, queryCount: items } satisfies DiscoverResult;
  };
}

/** The whole errors the query step stored under a run. */
async function storedErrors(runId: string): Promise<{ key: string; text: string }[]> {
  const listed = await suite.clients.s3.send(
    new ListObjectsV2Command({ Bucket: WORK_BUCKET, Prefix: `runs/${runId}/errors/` }),
  );
  return Promise.all(
    (listed.Contents ?? []).map(async ({ Key }) => {
      const object = await suite.clients.s3.send(new GetObjectCommand({ Bucket: WORK_BUCKET, Key }));
      return { key: Key ?? '', text: (await object.Body?.transformToString('utf-8')) ?? '' };
    }),
  );
}

interface RunWorkflowOptions {
  /** Replacements of the real handlers, by function. */
  readonly replace?: Partial<Record<FunctionName, LocalHandler>>;
  /** Run the definition whose Distributed Map reads queries.json (withDistributedMapAsTasks). */
  readonly fromS3?: boolean;
  /** Run the definition whose query budget is SHORT_BUDGET_SECONDS. */
  readonly shortBudget?: boolean;
  /** How long each WaitForQuery waits, in milliseconds. @default 0 */
  readonly waitMs?: number;
}

/** A state's input or output as the runner's event log holds it. */
interface StateEventLog {
  readonly type: string;
  readonly state?: { readonly name: string; readonly input?: unknown; readonly output?: unknown };
}

/**
 * Runs the synthesized definition with each Lambda task on its real handler (or a replacement),
 * retries without waiting; returns the result and the names of the states that were entered.
 */
async function runWorkflow(
  runId: string,
  { replace = {}, fromS3 = false, shortBudget: short = false, waitMs = 0 }: RunWorkflowOptions = {},
): Promise<{
  result: Promise<unknown>;
  entered: () => Promise<string[]>;
  /** The largest state input or output of the run, in bytes of JSON. */
  largestPayload: () => Promise<number>;
}> {
  const chosen = short ? (fromS3 ? shortBudgetFromS3 : shortBudget) : fromS3 ? definitionFromS3 : definition;
  const machine = new StateMachine(chosen as never, {
    validationOptions: { checkPaths: true, checkArn: true },
  });
  const taskResourceLocalHandlers: NonNullable<
    NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']
  > = {};
  if (fromS3) {
    taskResourceLocalHandlers[ITEM_READER_STATE] = async (parameters) =>
      JSON.parse(JSON.stringify(await readItems(parameters)));
    taskResourceLocalHandlers[RESULT_WRITER_STATE] = async (parameters) =>
      JSON.parse(JSON.stringify(await writeResults(parameters)));
  }
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [fn, stateNames] of Object.entries(LAMBDA_STATES) as [FunctionName, readonly string[]][]) {
    for (const name of stateNames) {
      const handler = replace[fn] ?? suite.handlers[fn];
      // Through JSON, as Lambda returns it (undefined fields dropped, dates as text).
      taskResourceLocalHandlers[name] = async (input) => JSON.parse(JSON.stringify(await handler(input)));
      retryIntervalOverrides[name] = 0;
    }
  }
  const input = { runId, end: END };
  const waitTimeOverrides = Object.fromEntries(WAIT_STATES.map((name) => [name, waitMs]));
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers, retryIntervalOverrides, waitTimeOverrides },
    context: { Execution: { Name: runId, Input: input, StartTime: new Date().toISOString() } },
  });
  const events: string[] = [];
  let largest = 0;
  const collected = (async () => {
    for await (const event of execution.eventLogs as AsyncIterable<StateEventLog>) {
      if (event.type === 'StateEntered' && event.state) events.push(event.state.name);
      for (const payload of [event.state?.input, event.state?.output]) {
        if (payload === undefined) continue;
        // What the emulated ItemReader/ResultWriter put in state, which AWS keeps out of it.
        const {
          itemReaderItems: _,
          mapOutputs: __,
          ...onAws
        } = typeof payload === 'object' && payload !== null && !Array.isArray(payload)
          ? (payload as Record<string, unknown>)
          : { value: payload };
        largest = Math.max(largest, Buffer.byteLength(JSON.stringify(onAws)));
      }
    }
    return events;
  })();
  return {
    result: execution.result,
    entered: () => collected,
    largestPayload: async () => {
      await collected;
      return largest;
    },
  };
}

describe('audit workflow (aws-local-stepfunctions, moto)', () => {
  it('runs the synthesized definition to a stored report and an e-mailed summary', async () => {
    // Prepare
    const account = await seedAccount();

    // Act
    const run = await runWorkflow('e2e-wf-1');
    const result = (await run.result) as NotifyResult;

    // Assess: the run succeeded through the inline Map and every source succeeded.
    const entered = await run.entered();
    expect(entered).toEqual(
      expect.arrayContaining([
        'Discover',
        'QueriesInline',
        'QueryEachSource',
        'StartQuery',
        'QueryRunning',
        'WaitForQuery',
        'CheckQuery',
        'QueryDone',
        'CollectQueryOutcomes',
        'AllQueriesSucceeded',
      ]),
    );
    expect(entered).not.toContain('RecordQueryFailure');
    expect(entered.slice(-2)).toEqual(['Analyze', 'Notify']);

    // Assess: the report objects are in the report bucket, SNS got the summary.
    await expectCleanFirstRun('e2e-wf-1', account, result);
    const { keys, prefix, report } = await reportOfRun('e2e-wf-1');
    for (const name of ['findings.csv', 'rules.csv', 'report.html'])
      expect(keys).toContain(`${prefix}${name}`);

    // Assess: moto has no LookupEvents — the run completed, saying who opened each rule is unknown.
    expect(report.warnings.filter((w) => w.code === 'cloudtrail-history')[0]?.message).toMatch(
      /^LookupEvents for AuthorizeSecurityGroupIngress failed \([\s\S]+\): rules it may have changed are not attributed$/,
    );
    expect(report.changeHistory).toMatchObject({
      source: 'cloudtrail-lookup',
      complete: false,
      olderRules: 0,
    });
    const changes = report.securityGroups.flatMap((sg) => sg.rules.map((r) => r.change?.kind));
    expect(changes.length).toBeGreaterThan(0);
    expect(new Set(changes)).toEqual(new Set(['unknown']));
  });

  it("names who opened a world-open rule, from the account's CloudTrail event history, in the report and the alert", async () => {
    // Prepare: LookupEvents (which moto lacks) answers Alice's console call opening SSH on the web SG.
    const account = await seedAccount();
    const alice = 'arn:aws:sts::123456789012:assumed-role/Admin/alice';
    const opened = authorizeEvent(
      {
        id: 'ev-ssh',
        time: new Date((NOW - 3 * 86_400) * 1000).toISOString(),
        caller: CALLERS.console(alice, '203.0.113.10'),
      },
      'ingress',
      account.web,
      [{ protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' }],
    );
    const asked: string[] = [];
    jest.spyOn(CloudTrailClient.prototype, 'send').mockImplementation((async (command: unknown) => {
      if (!(command instanceof LookupEventsCommand)) throw new Error('unexpected CloudTrail call');
      const eventName = command.input.LookupAttributes?.[0]?.AttributeValue ?? '';
      asked.push(eventName);
      return { Events: eventName === 'AuthorizeSecurityGroupIngress' ? [opened] : [], $metadata: {} };
    }) as never);

    // Act
    const run = await runWorkflow('e2e-wf-ct');
    await run.result;

    // Assess: six scans, one per SG event name; SSH is Alice's, the rules no event names predate the history.
    expect(asked).toHaveLength(6);
    const { report } = await reportOfRun('e2e-wf-ct');
    expect(report.warnings.filter((w) => w.code === 'cloudtrail-history')).toEqual([]);
    expect(report.changeHistory).toMatchObject({ complete: true, events: 1, attributedRules: 1 });
    const ssh = report.findings.find(
      (f) => f.sgId === account.web && f.fromPort === 22 && f.severity === 'critical',
    );
    expect(ssh?.change).toMatchObject({ kind: 'created', principalArn: alice, channel: 'console' });
    const web = report.securityGroups.find((sg) => sg.id === account.web);
    expect(web?.rules.find((r) => r.fromPort === 443)?.change?.kind).toBe('before-history');
    const [sent] = await sentNotifications();
    expect(sent?.[1]).toContain('Changed:   opened by assumed-role/Admin/alice via console');
  });

  it('records a failed query as its item’s outcome and still reports, with the failure warning', async () => {
    // Prepare: the log group disappears between discovery and the query.
    const account = await seedAccount();

    // Act
    const run = await runWorkflow('e2e-wf-2', { replace: { discover: discoverThenDeleteLogGroup } });
    const result = (await run.result) as NotifyResult;

    // Assess: the item recorded the failure, the run went on to the report.
    expect(result).toEqual({
      runId: 'e2e-wf-2',
      kind: 'report',
      reason: 'first run: no previous report',
      published: ['sns'],
      failed: [],
    });
    const entered = await run.entered();
    expect(entered).toEqual(
      expect.arrayContaining(['StartQuery', 'QueryDone', 'AllQueriesFailed', 'Analyze']),
    );
    expect(entered).not.toContain('NotifyFailure');
    const { report } = await reportOfRun('e2e-wf-2');
    const warning = report.warnings.find((w) => w.code === 'flow-source-failed');
    expect(warning?.message).toContain(
      `flow source insights-1 (insights: ${account.flowLogId}) failed: FlowLogQueryFailedError`,
    );
    expect(report.resources.find((r) => r.eniId === account.webEni)?.coverage).toBe('none');
    const sent = await sentNotifications();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[1]).toContain('flow-source-failed');
  });

  it('alerts with the cause and fails the run when analyze fails', async () => {
    // Prepare: the report bucket is gone, so analyze cannot store the report.
    await seedAccount();
    await suite.clients.s3.send(new DeleteBucketCommand({ Bucket: REPORT_BUCKET }));

    // Act
    const run = await runWorkflow('e2e-wf-3');
    const outcome = await run.result.then(
      () => 'succeeded',
      (error: unknown) => error,
    );

    // Assess: the Catch took the failure path and the run failed.
    expect(outcome).toBeInstanceOf(Error);
    const entered = await run.entered();
    expect(entered.slice(-4)).toEqual(['Analyze', 'AnalyzeFailed', 'NotifyFailure', 'AuditFailed']);
    expect(entered).not.toContain('Notify');
    const sent = await sentNotifications();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[2]).toContain('FAILED');
    expect(sent[0]?.[2]).toContain('in Analyze');
    expect(sent[0]?.[1]).toContain('Run:     e2e-wf-3');
  });

  it('runs the Distributed Map over queries.json to the report of the inline path when the list is over budget', async () => {
    // Prepare: discover's list "does not fit" state; queries.json is in the work bucket.
    const account = await seedAccount();
    let discovered: DiscoverResult | undefined;
    const discover = overInlineBudget(async (event) => {
      discovered = await suite.handlers.discover(event);
      return discovered;
    });

    // Act
    const run = await runWorkflow('e2e-wf-s3', { replace: { discover }, fromS3: true });
    const result = (await run.result) as NotifyResult;

    // Assess: the run succeeded through the Distributed Map, one child per item of queries.json.
    expect(itemReaderReads).toEqual([{ Bucket: WORK_BUCKET, Key: discovered?.queriesKey }]);
    const entered = await run.entered();
    expect(entered).toEqual(
      expect.arrayContaining([
        'Discover',
        'QueriesInline',
        ITEM_READER_STATE,
        S3_MAP_STATE,
        'StartQueryFromS3',
        'CheckQueryFromS3',
        RESULT_WRITER_STATE,
        'QueryResultsFromS3',
      ]),
    );
    expect(discovered?.queryCount).toBeGreaterThan(0);
    expect(entered.filter((name) => name === 'StartQueryFromS3')).toHaveLength(discovered?.queryCount ?? 0);
    for (const inlineOnly of [
      'QueryEachSource',
      'StartQuery',
      'CheckQuery',
      'RecordQueryFailure',
      'RecordQueryFailureFromS3',
      'CollectQueryOutcomes',
    ])
      expect(entered).not.toContain(inlineOnly);
    expect(entered.slice(-2)).toEqual(['Analyze', 'Notify']);

    // Assess: the report is stored, with the web SG's critical finding and no failed source; SNS got the summary.
    const report = await expectCleanFirstRun('e2e-wf-s3', account, result);

    // Assess: the inline path on the same account gives the same findings, coverage and sources.
    const inlineRun = await runWorkflow('e2e-wf-s3-inline');
    await inlineRun.result;
    expect(await inlineRun.entered()).toContain('QueryEachSource');
    const { report: inlineReport } = await reportOfRun('e2e-wf-s3-inline');
    expect(report.findings).toEqual(inlineReport.findings);
    expect(report.coverage).toEqual(inlineReport.coverage);
    expect(report.flowSources.map((s) => s.sources)).toEqual(inlineReport.flowSources.map((s) => s.sources));
  });

  it("records a failed source as its child's outcome through the Distributed Map and still reports", async () => {
    // Prepare: over the inline budget, and the log group disappears between discovery and the query.
    const account = await seedAccount();

    // Act
    const run = await runWorkflow('e2e-wf-s3-2', {
      replace: { discover: overInlineBudget(discoverThenDeleteLogGroup) },
      fromS3: true,
    });
    const result = (await run.result) as NotifyResult;

    // Assess: the FromS3 item recorded the failure, the run went on to the report.
    expect(result).toMatchObject({ runId: 'e2e-wf-s3-2', kind: 'report', published: ['sns'], failed: [] });
    const entered = await run.entered();
    expect(entered).toEqual(
      expect.arrayContaining([
        ITEM_READER_STATE,
        S3_MAP_STATE,
        'StartQueryFromS3',
        'QueryDoneFromS3',
        RESULT_WRITER_STATE,
        'QueryResultsFromS3',
        'Analyze',
      ]),
    );
    for (const absent of ['QueryEachSource', 'RecordQueryFailure', `${S3_MAP_STATE}Failed`, 'NotifyFailure'])
      expect(entered).not.toContain(absent);
    const { report } = await reportOfRun('e2e-wf-s3-2');
    const warning = report.warnings.find((w) => w.code === 'flow-source-failed');
    expect(warning?.message).toContain(
      `flow source insights-1 (insights: ${account.flowLogId}) failed: FlowLogQueryFailedError`,
    );
    const sent = await sentNotifications();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[1]).toContain('flow-source-failed');
  });

  it("alerts and fails the run through the Distributed Map's Catch when queries.json cannot be read", async () => {
    // Prepare: over the inline budget, and queries.json is gone before the map reads it.
    await seedAccount();
    const discover = overInlineBudget(async (event) => {
      const discovered = await suite.handlers.discover(event);
      await suite.clients.s3.send(
        new DeleteObjectCommand({ Bucket: WORK_BUCKET, Key: discovered.queriesKey }),
      );
      return discovered;
    });

    // Act
    const run = await runWorkflow('e2e-wf-s3-3', { replace: { discover }, fromS3: true });
    const outcome = await run.result.then(
      () => 'succeeded',
      (error: unknown) => error,
    );

    // Assess: the reader's failure is the map's, caught by its Catch; no item ran.
    expect(outcome).toBeInstanceOf(Error);
    const entered = await run.entered();
    expect(entered.slice(-4)).toEqual([
      ITEM_READER_STATE,
      `${S3_MAP_STATE}Failed`,
      'NotifyFailure',
      'AuditFailed',
    ]);
    expect(entered).not.toContain('StartQueryFromS3');
    const sent = await sentNotifications();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[2]).toContain('FAILED');
    expect(sent[0]?.[2]).toContain(`in ${S3_MAP_STATE}`);
  });

  it('polls a query that needs several checks, waiting between them, to the report', async () => {
    // Prepare: the query answers "Running" to its first two polls.
    const account = await seedAccount();
    const insights = insightsRunning(() => 2);

    // Act
    const run = await runWorkflow('e2e-wf-poll', { waitMs: 50 });
    const result = (await run.result) as NotifyResult;

    // Assess: three turns of the loop, one StartQuery, nothing stopped.
    const entered = await run.entered();
    expect(entered.filter((name) => name === 'StartQuery')).toHaveLength(1);
    expect(entered.filter((name) => name === 'WaitForQuery')).toHaveLength(3);
    expect(entered.filter((name) => name === 'CheckQuery')).toHaveLength(3);
    expect(entered.filter((name) => name === 'QueryRunning')).toHaveLength(4);
    expect([...insights.polls.values()]).toEqual([3]);
    expect(insights.stopped).toEqual([]);
    await expectCleanFirstRun('e2e-wf-poll', account, result);
  });

  it('stops a query past its budget, records the item as failed, and still reports and alerts', async () => {
    // Prepare: the query never completes; the item's budget is 2 seconds, checked every 300 ms.
    const account = await seedAccount();
    const insights = insightsRunning(() => Number.POSITIVE_INFINITY);

    // Act
    const run = await runWorkflow('e2e-wf-budget', { shortBudget: true, waitMs: 300 });
    const result = (await run.result) as NotifyResult;

    // Assess: checked until the deadline, then stopped (StopQuery) by the check that found it.
    const entered = await run.entered();
    expect(entered.filter((name) => name === 'CheckQuery').length).toBeGreaterThanOrEqual(3);
    expect(entered).toContain('QueryDone');
    for (const absent of ['RecordQueryFailure', 'NotifyFailure']) expect(entered).not.toContain(absent);
    expect(insights.stopped).toEqual([...insights.polls.keys()]);
    expect(insights.stopped).toHaveLength(1);

    // Assess: the source is reported failed by its timeout error, its ENIs' rules unknown; the run alerted.
    expect(result).toMatchObject({ runId: 'e2e-wf-budget', kind: 'report', published: ['sns'], failed: [] });
    const { report } = await reportOfRun('e2e-wf-budget');
    const warning = report.warnings.find((w) => w.code === 'flow-source-failed');
    expect(warning?.message).toContain(
      `flow source insights-1 (insights: ${account.flowLogId}) failed: FlowLogQueryTimeoutError`,
    );
    expect(warning?.message).toContain('(whole error: runs/e2e-wf-budget/errors/insights-1.json)');
    expect(report.resources.find((r) => r.eniId === account.webEni)?.coverage).toBe('none');
    const [whole] = await storedErrors('e2e-wf-budget');
    expect(JSON.parse(whole?.text ?? '{}')).toMatchObject({
      error: { name: 'FlowLogQueryTimeoutError', queryId: insights.stopped[0] },
    });
    const sent = await sentNotifications();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[1]).toContain('flow-source-failed');
  });

  it("records a step the workflow caught: the query function stops the item's query and keeps a bounded error", async () => {
    // Prepare: the check dies as Lambda's own timeout would (no answer from the function).
    const account = await seedAccount();
    const insights = insightsRunning(() => 0);
    const query: LocalHandler = async (event) => {
      if ((event as { action?: string }).action === 'check') {
        throw Object.assign(new Error(`Task timed out after 900.00 seconds${' (log)'.repeat(2000)}`), {
          name: 'Sandbox.Timedout',
        });
      }
      return suite.handlers.query(event);
    };

    // Act
    const run = await runWorkflow('e2e-wf-caught', { replace: { query } });
    const result = (await run.result) as NotifyResult;

    // Assess
    const entered = await run.entered();
    expect(entered).toEqual(
      expect.arrayContaining(['StartQuery', 'CheckQuery', 'RecordQueryFailure', 'Analyze']),
    );
    expect(entered).not.toContain('QueryFailureUnrecorded');
    expect(insights.stopped).toHaveLength(1);
    expect(result).toMatchObject({ kind: 'report', published: ['sns'] });
    const { report } = await reportOfRun('e2e-wf-caught');
    const warning = report.warnings.find((w) => w.code === 'flow-source-failed');
    expect(warning?.message).toContain(
      `flow source insights-1 (insights: ${account.flowLogId}) failed: Sandbox.Timedout: Task timed out after 900.00 seconds`,
    );
    const [whole] = await storedErrors('e2e-wf-caught');
    expect(whole?.text.length).toBeGreaterThan(12_000);
  });

  it('finishes and alerts a run of 300 failing items whose whole errors would have overflowed 256 KiB of state', async () => {
    // Prepare: 300 items, each failing with a ~6 KB message naming its 50 log groups.
    await seedAccount();
    const items = 300;

    // Act
    const run = await runWorkflow('e2e-wf-bulk', {
      replace: { discover: discoverFailingItems(items) },
      fromS3: true,
    });
    const result = (await run.result) as NotifyResult;

    // Assess: through the Distributed Map (over the inline history budget), every item recorded as failed.
    expect(result).toMatchObject({ runId: 'e2e-wf-bulk', kind: 'report', published: ['sns'], failed: [] });
    const entered = await run.entered();
    expect(entered.filter((name) => name === 'StartQueryFromS3')).toHaveLength(items);
    expect(entered).toEqual(
      expect.arrayContaining([RESULT_WRITER_STATE, 'QueryResultsFromS3', 'Analyze', 'Notify']),
    );
    for (const absent of ['QueryEachSource', 'RecordQueryFailureFromS3', 'NotifyFailure'])
      expect(entered).not.toContain(absent);

    // Assess: the whole errors (kept in state before) add up to well over 256 KiB; no state held more than 256 KiB.
    const errors = await storedErrors('e2e-wf-bulk');
    expect(errors).toHaveLength(items);
    const messages = errors.map((e) => (JSON.parse(e.text) as { error: { message: string } }).error.message);
    expect(messages.every((m) => m.length > 5000)).toBe(true);
    expect(messages.reduce((sum, m) => sum + Buffer.byteLength(m), 0)).toBeGreaterThan(4 * 256 * 1024);
    expect(await run.largestPayload()).toBeLessThan(256 * 1024);

    // Assess: the report names every failed source; the summary alert says so.
    const { report } = await reportOfRun('e2e-wf-bulk');
    const failed = report.warnings.filter((w) => w.code === 'flow-source-failed');
    expect(failed).toHaveLength(items);
    expect(failed[0]?.message).toContain('FlowLogQueryFailedError: StartQuery on /sg-audit/e2e/missing/');
    const sent = await sentNotifications();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[1]).toContain('flow-source-failed');
  });
});
