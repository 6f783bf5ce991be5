/**
 * The synthesized state machine run by aws-local-stepfunctions, each Lambda task mapped to the
 * REAL handler in-process, against moto_server: discover → query (Map) → analyze → notify.
 *
 * The definition is the DefinitionString of the template of a stack using AuditWorkflow
 * (test/support/workflow-stack.ts, its work bucket named as the moto one), intrinsics resolved to
 * placeholder ARNs; the local handlers are keyed by state name. aws-local-stepfunctions has no
 * JSONata and no Distributed Map: it ignores ProcessorConfig (every Map runs inline) and
 * ItemReader. Both paths of the QueriesInline Choice run: the inline Map on discover's list as
 * is, and the Distributed Map QueryEachSourceFromS3 on discover's result made to say "over the
 * inline budget", its ItemReader emulated by one Task state reading queries.json from moto S3
 * (withItemReaderAsTask); everything else in that Map state runs as synthesized.
 *
 * Moto's Logs Insights ignores `stats`: the flow records are seeded before the window, so the
 * query plumbing runs end to end on an empty result (test/support/moto-account.ts).
 */
import { DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { type RunOptions, StateMachine } from 'aws-local-stepfunctions';
import type { DiscoverResult } from '../../lambdas/discover/contract';
import type { NotifyResult } from '../../lambdas/notify/contract';
import type { AuditReport } from '../../shared/report/model';
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

// One synthesis: the definition every test runs (the S3 path through withItemReaderAsTask).
const definition = stateMachineDefinition(
  synthesizeWorkflowStack({}, { workBucketName: WORK_BUCKET }).template.toJSON() as never,
);

/** The Distributed Map over queries.json, and the Task state that stands in for its ItemReader. */
const S3_MAP_STATE = 'QueryEachSourceFromS3';
const ITEM_READER_STATE = `${S3_MAP_STATE}ItemReader`;
/** Where that Task puts the items, the Map's ItemsPath. */
const READ_ITEMS_PATH = '$.itemReaderItems';

type AslState = { Type: string; [field: string]: unknown };
type TransitionHolder = { Next?: string };
interface ItemReader {
  readonly Resource: string;
  readonly ReaderConfig?: Readonly<Record<string, unknown>>;
  readonly Parameters: Readonly<Record<string, unknown>>;
}

/**
 * What the runner lacks, emulated on a deep copy of the definition: the Map state's ItemReader
 * (a JSON array in S3) becomes a Task state entered instead of the Map (every transition to the
 * Map, Catch included, now goes to it), with the ItemReader's Resource and Parameters (its `Key.$`
 * resolved against the same state input) and the Map's Catch (a reader failure is the Map's
 * failure); the Task puts the array at READ_ITEMS_PATH, which the Map takes as ItemsPath. The rest
 * of the Map state (ItemSelector over $$.Map.Item.Value, ItemProcessor, ResultPath, Catch) is kept.
 * The array then travels in state, as it cannot on AWS: harmless here, analyze's input is built
 * field by field.
 */
function withItemReaderAsTask(asl: Record<string, unknown>, mapState: string): Record<string, unknown> {
  const copy = structuredClone(asl) as { StartAt: string; States: Record<string, AslState> };
  const map = copy.States[mapState];
  const reader = map?.ItemReader as ItemReader | undefined;
  if (map?.Type !== 'Map' || reader === undefined)
    throw new Error(`${mapState} is not a Map state with an ItemReader`);
  // Only what this emulation reproduces: a whole JSON array, read from the Map's unfiltered input.
  if (
    JSON.stringify(reader.ReaderConfig) !== '{"InputType":"JSON"}' ||
    'InputPath' in map ||
    'ItemsPath' in map
  )
    throw new Error(`${mapState}: ItemReader or Map fields the emulation does not handle`);
  const retarget = (holder: TransitionHolder | undefined) => {
    if (holder?.Next === mapState) holder.Next = ITEM_READER_STATE;
  };
  if (copy.StartAt === mapState) copy.StartAt = ITEM_READER_STATE;
  for (const state of Object.values(copy.States)) {
    retarget(state as TransitionHolder);
    if (state.Default === mapState) state.Default = ITEM_READER_STATE;
    for (const holder of [state.Choices, state.Catch].flat() as TransitionHolder[]) retarget(holder);
  }
  const { ItemReader: _, ...mapWithoutReader } = map;
  copy.States[mapState] = { ...mapWithoutReader, ItemsPath: READ_ITEMS_PATH };
  copy.States[ITEM_READER_STATE] = {
    Type: 'Task',
    Comment: `Emulates the ItemReader of ${mapState} (the e2e runner has none)`,
    Resource: reader.Resource,
    Parameters: reader.Parameters,
    ResultPath: READ_ITEMS_PATH,
    Next: mapState,
    ...(map.Catch === undefined ? {} : { Catch: map.Catch }),
  };
  return copy;
}

const definitionFromS3 = withItemReaderAsTask(definition, S3_MAP_STATE);

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

/** The emulated ItemReader: GetObject on moto S3 (the Bucket and Key it is given), a JSON array. */
async function readItems(parameters: unknown): Promise<unknown[]> {
  const { Bucket, Key } = parameters as { Bucket: string; Key: string };
  itemReaderReads.push({ Bucket, Key });
  const object = await suite.clients.s3.send(new GetObjectCommand({ Bucket, Key }));
  const items: unknown = JSON.parse((await object.Body?.transformToString('utf-8')) ?? 'null');
  if (!Array.isArray(items))
    throw new Error(`States.ItemReaderFailed: s3://${Bucket}/${Key} is not a JSON array`);
  return items;
}

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

interface RunWorkflowOptions {
  /** Replacements of the real handlers, by function. */
  readonly replace?: Partial<Record<FunctionName, LocalHandler>>;
  /** Run the definition whose Distributed Map reads queries.json (withItemReaderAsTask). */
  readonly fromS3?: boolean;
}

/**
 * Runs the synthesized definition with each Lambda task on its real handler (or a replacement),
 * retries without waiting; returns the result and the names of the states that were entered.
 */
async function runWorkflow(
  runId: string,
  { replace = {}, fromS3 = false }: RunWorkflowOptions = {},
): Promise<{ result: Promise<unknown>; entered: () => Promise<string[]> }> {
  const machine = new StateMachine((fromS3 ? definitionFromS3 : definition) as never, {
    validationOptions: { checkPaths: true, checkArn: true },
  });
  const taskResourceLocalHandlers: NonNullable<
    NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']
  > = {};
  if (fromS3)
    taskResourceLocalHandlers[ITEM_READER_STATE] = async (parameters) =>
      JSON.parse(JSON.stringify(await readItems(parameters)));
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
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers, retryIntervalOverrides },
    context: { Execution: { Name: runId, Input: input, StartTime: new Date().toISOString() } },
  });
  const events: string[] = [];
  const collected = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') events.push(event.state.name);
    }
    return events;
  })();
  return { result: execution.result, entered: () => collected };
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
        'Query',
        'AllQueriesSucceeded',
      ]),
    );
    expect(entered).not.toContain('RecordQueryFailure');
    expect(entered.slice(-2)).toEqual(['Analyze', 'Notify']);

    // Assess: the report objects are in the report bucket, SNS got the summary.
    await expectCleanFirstRun('e2e-wf-1', account, result);
    const { keys, prefix } = await reportOfRun('e2e-wf-1');
    for (const name of ['findings.csv', 'rules.csv', 'report.html'])
      expect(keys).toContain(`${prefix}${name}`);
  });

  it('records a failed query through the per-item Catch and still reports, with the failure warning', async () => {
    // Prepare: the log group disappears between discovery and the query.
    const account = await seedAccount();

    // Act
    const run = await runWorkflow('e2e-wf-2', { replace: { discover: discoverThenDeleteLogGroup } });
    const result = (await run.result) as NotifyResult;

    // Assess: the item's Catch recorded the failure, the run went on to the report.
    expect(result).toEqual({
      runId: 'e2e-wf-2',
      kind: 'report',
      reason: 'first run: no previous report',
      published: ['sns'],
      failed: [],
    });
    const entered = await run.entered();
    expect(entered).toEqual(
      expect.arrayContaining(['Query', 'RecordQueryFailure', 'AllQueriesFailed', 'Analyze']),
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
        'QueryFromS3',
        'AllQueriesSucceeded',
      ]),
    );
    expect(discovered?.queryCount).toBeGreaterThan(0);
    expect(entered.filter((name) => name === 'QueryFromS3')).toHaveLength(discovered?.queryCount ?? 0);
    for (const inlineOnly of ['QueryEachSource', 'Query', 'RecordQueryFailure', 'RecordQueryFailureFromS3'])
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

  it("records a failed source through the Distributed Map's per-item Catch and still reports", async () => {
    // Prepare: over the inline budget, and the log group disappears between discovery and the query.
    const account = await seedAccount();

    // Act
    const run = await runWorkflow('e2e-wf-s3-2', {
      replace: { discover: overInlineBudget(discoverThenDeleteLogGroup) },
      fromS3: true,
    });
    const result = (await run.result) as NotifyResult;

    // Assess: the FromS3 processor's Catch recorded the failure, the run went on to the report.
    expect(result).toMatchObject({ runId: 'e2e-wf-s3-2', kind: 'report', published: ['sns'], failed: [] });
    const entered = await run.entered();
    expect(entered).toEqual(
      expect.arrayContaining([
        ITEM_READER_STATE,
        S3_MAP_STATE,
        'QueryFromS3',
        'RecordQueryFailureFromS3',
        'AllQueriesFailed',
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
    expect(entered).not.toContain('QueryFromS3');
    const sent = await sentNotifications();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[2]).toContain('FAILED');
    expect(sent[0]?.[2]).toContain(`in ${S3_MAP_STATE}`);
  });
});
